"""AES-256-GCM encryption of every Temporal payload, byte-compatible with security/payload-codec.ts.

So dataset rows, prompts and configs never sit in clear in workflow history. The scheme is that of
Temporal's official encryption samples:
  metadata   {encoding: binary/encrypted, encryption-key-id: <id>, encryption-cipher: AES-256-GCM}
  data       nonce (12 random bytes) || AES-GCM ciphertext || tag (16 bytes)
  plaintext  the original Payload, serialized as temporal.api.common.v1.Payload protobuf
contracts/codec-vectors.json pins the bytes; tests/test_payload_codec.py checks them.

Keys come from the same variables as the TypeScript side (security/codec-key.ts):
  HALA_CODEC_KEY       base64 of 32 random bytes (openssl rand -base64 32): encrypts and decrypts
  HALA_CODEC_KEY_FILE  path of a file holding that base64 text instead (a mounted secret)
  HALA_CODEC_KEY_ID    optional id for that key (default: first 8 hex chars of its sha256)
  HALA_CODEC_KEYS      old keys, decrypt only: comma-separated `id:base64` pairs

Use: Client.connect(..., data_converter=data_converter_from_env() or DataConverter.default)
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import os
import re
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

ENCRYPTED_ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
CIPHER_METADATA = "encryption-cipher"
CIPHER = b"AES-256-GCM"
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32  # AES-256
_GENERATE = "generate one with: openssl rand -base64 32"
# Ids travel in payload metadata and in `id:base64` lists, so they must not contain ':' or ','.
_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")


class CodecKeyError(ValueError):
    """A codec key variable is set wrongly; the message names the variable and the fix."""


@dataclass(frozen=True)
class CodecKeyring:
    active_id: str  # the key new payloads are encrypted with
    keys: Mapping[str, bytes]  # every key a payload may name, the active one included

    @property
    def active_key(self) -> bytes:
        return self.keys[self.active_id]


def key_id_of(key: bytes) -> str:
    """The default key id: first 8 hex chars of sha256(key); names the key without revealing it."""
    return hashlib.sha256(key).hexdigest()[:8]


def parse_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CodecKeyError(f"{source} is not base64; {_GENERATE}") from None
    if len(key) != KEY_BYTES:
        raise CodecKeyError(
            f"{source} must be base64 of {KEY_BYTES} bytes for AES-256-GCM (got {len(key)} bytes); {_GENERATE}")
    return key


def _check_id(key_id: str, source: str) -> str:
    if not _ID_PATTERN.fullmatch(key_id):
        raise CodecKeyError(f"{source} must be 1-64 characters of A-Z a-z 0-9 . _ - (got {key_id!r})")
    return key_id


def _active_key(env: Mapping[str, str]) -> Optional[bytes]:
    inline, file = env.get("HALA_CODEC_KEY"), env.get("HALA_CODEC_KEY_FILE")
    if inline and file:
        raise CodecKeyError("set only one of HALA_CODEC_KEY and HALA_CODEC_KEY_FILE")
    if inline:
        return parse_key(inline, "HALA_CODEC_KEY")
    if not file:
        return None
    try:
        with open(file, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise CodecKeyError(
            f"HALA_CODEC_KEY_FILE={file} cannot be read ({e.strerror}); point it at a file holding the base64 key") from None
    return parse_key(text, f"HALA_CODEC_KEY_FILE ({file})")


def load_codec_keys(env: Optional[Mapping[str, str]] = None) -> Optional[CodecKeyring]:
    """The keyring configured in `env` (default os.environ), or None when no key is set."""
    env = os.environ if env is None else env
    key = _active_key(env)
    if key is None:
        if env.get("HALA_CODEC_KEYS"):
            raise CodecKeyError("HALA_CODEC_KEYS only holds old keys for decrypting; also set HALA_CODEC_KEY "
                                "or HALA_CODEC_KEY_FILE to the key that encrypts")
        return None
    active_id = _check_id(env["HALA_CODEC_KEY_ID"], "HALA_CODEC_KEY_ID") if env.get("HALA_CODEC_KEY_ID") else key_id_of(key)
    keys: Dict[str, bytes] = {active_id: key}
    entries = [s.strip() for s in env.get("HALA_CODEC_KEYS", "").split(",") if s.strip()]
    for i, entry in enumerate(entries, start=1):
        if ":" not in entry:
            raise CodecKeyError(f"HALA_CODEC_KEYS entry {i} must be id:base64 (got no ':')")
        raw_id, b64 = entry.split(":", 1)
        key_id = _check_id(raw_id, f"HALA_CODEC_KEYS entry {i} id")
        old = parse_key(b64, f"HALA_CODEC_KEYS entry {i} ({key_id})")
        # Two different keys under one id would make decryption depend on which one won.
        if keys.get(key_id, old) != old:
            raise CodecKeyError(f"HALA_CODEC_KEYS names key id {key_id} twice with different keys (or reuses the "
                                "active key's id); give each key its own id")
        keys[key_id] = old
    return CodecKeyring(active_id=active_id, keys=keys)


def _aesgcm(key: bytes):
    # Imported here so a worker without a codec key never needs the package.
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        raise CodecKeyError("a codec key is set but the `cryptography` package is missing; add it to "
                            "gpu-runners/requirements.in and relock") from None
    return AESGCM(key)


def encrypt_with_nonce(payload: Payload, key_id: str, key: bytes, nonce: bytes) -> Payload:
    """Encrypts one payload with the given nonce. Internal: only tests pick nonces."""
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"AES-GCM nonce must be {NONCE_BYTES} bytes (got {len(nonce)})")
    # deterministic=True sorts metadata keys, as the TypeScript side does, so equal payloads give
    # equal plaintext bytes in both languages.
    sealed = _aesgcm(key).encrypt(nonce, payload.SerializeToString(deterministic=True), None)
    return Payload(
        metadata={"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: key_id.encode(), CIPHER_METADATA: CIPHER},
        data=nonce + sealed,
    )


def decrypt_payload(payload: Payload, keyring: CodecKeyring) -> Payload:
    """Decrypts one payload; anything not binary/encrypted is returned untouched."""
    if payload.metadata.get("encoding") != ENCRYPTED_ENCODING:
        return payload
    key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode()
    if not key_id:
        raise ValueError(f"encrypted payload has no {KEY_ID_METADATA} metadata; it was not written by this codec")
    cipher = payload.metadata.get(CIPHER_METADATA)
    if cipher is not None and cipher != CIPHER:
        raise ValueError(f"encrypted payload uses cipher {cipher.decode()}; this codec only reads {CIPHER.decode()}")
    key = keyring.keys.get(key_id)
    if key is None:
        raise ValueError(f"payload was encrypted with key id {key_id}, which is not loaded (loaded: "
                         f"{', '.join(keyring.keys)}); add it to HALA_CODEC_KEYS as {key_id}:<base64 key>, "
                         "or set HALA_CODEC_KEY to it")
    data = payload.data
    if len(data) < NONCE_BYTES + TAG_BYTES:
        raise ValueError(f"encrypted payload (key id {key_id}) is truncated: {len(data)} bytes")
    aes = _aesgcm(key)
    from cryptography.exceptions import InvalidTag  # after _aesgcm, which says how to fix a missing package
    try:
        plain = aes.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], None)
    except InvalidTag:
        # GCM authenticates: a flipped bit or a different key under the same id ends here.
        raise ValueError(f"encrypted payload (key id {key_id}) failed authentication: it was altered, or the key "
                         f"loaded under {key_id} is not the one that encrypted it") from None
    return Payload.FromString(plain)


class EncryptionCodec(PayloadCodec):
    def __init__(self, keyring: CodecKeyring) -> None:
        self._keyring = keyring

    async def encode(self, payloads: Sequence[Payload]) -> List[Payload]:
        # A fresh random nonce per payload: reusing a nonce under one GCM key leaks plaintext.
        k = self._keyring
        return [encrypt_with_nonce(p, k.active_id, k.active_key, os.urandom(NONCE_BYTES)) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> List[Payload]:
        return [decrypt_payload(p, self._keyring) for p in payloads]


def data_converter_from_env(env: Optional[Mapping[str, str]] = None) -> Optional[DataConverter]:
    """Temporal's default converter plus the encryption codec, or None when no key is set.

    Failure messages and stack traces are encrypted as well (a runner's error may quote a corpus
    row or its stderr tail), exactly as the TypeScript side does.
    """
    from temporalio.converter import DefaultFailureConverterWithEncodedAttributes

    keyring = load_codec_keys(env)
    if keyring is None:
        return None
    return dataclasses.replace(DataConverter.default, payload_codec=EncryptionCodec(keyring),
                               failure_converter_class=DefaultFailureConverterWithEncodedAttributes)
