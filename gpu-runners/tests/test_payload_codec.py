"""Payload encryption on the Python side: the vectors pinned with TypeScript, round trips, errors,
and a live cross-language round trip through the TypeScript codec (npx tsx).

Run: PYTHONPATH=gpu-runners $(bash scripts/python-env.sh)/bin/python -m pytest gpu-runners/tests/test_payload_codec.py
"""
import asyncio
import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes

from hala_runners.payload_codec import (
    CodecKeyError,
    EncryptionCodec,
    data_converter_from_env,
    decrypt_payload,
    encrypt_with_nonce,
    key_id_of,
    load_codec_keys,
)

REPO = Path(__file__).resolve().parents[2]
VECTORS = json.loads((REPO / "contracts" / "codec-vectors.json").read_text())
KEY_B64 = VECTORS["key"]["base64"]
KEY = base64.b64decode(KEY_B64)
KEY_ID = VECTORS["key"]["id"]
OTHER_KEY_B64 = base64.b64encode(bytes([7] * 32)).decode()

try:
    import cryptography  # noqa: F401
    HAS_CRYPTO = True
except ImportError:
    HAS_CRYPTO = False
needs_crypto = pytest.mark.skipif(not HAS_CRYPTO, reason="`cryptography` is not in gpu-runners/requirements.lock yet")


def from_json(p: dict) -> Payload:
    return Payload(metadata={k: base64.b64decode(v) for k, v in p.get("metadata", {}).items()},
                   data=base64.b64decode(p.get("data", "")))


def to_json(p: Payload) -> dict:
    return {"metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
            "data": base64.b64encode(p.data).decode()}


def json_payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(text).encode())


def keyring(**env):
    return load_codec_keys({"HALA_CODEC_KEY": KEY_B64, **env})


def run(coro):
    return asyncio.run(coro)


def test_key_id_is_first_8_hex_of_sha256():
    assert key_id_of(KEY) == KEY_ID
    assert keyring().active_id == KEY_ID


@needs_crypto
@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=[v["name"] for v in VECTORS["vectors"]])
def test_vectors_match_typescript_bytes(vector):
    encrypted = encrypt_with_nonce(from_json(vector["payload"]), KEY_ID, KEY, base64.b64decode(vector["nonce"]))
    assert encrypted == from_json(vector["encrypted"])
    assert decrypt_payload(from_json(vector["encrypted"]), keyring()) == from_json(vector["payload"])


@needs_crypto
def test_round_trip_with_fresh_nonces_and_no_clear_text():
    codec = EncryptionCodec(keyring())
    original = [json_payload("secret corpus row"), json_payload("secret corpus row"),
                Payload(metadata={"encoding": b"binary/null"})]
    encoded = run(codec.encode(original))
    assert all(p.metadata["encoding"] == b"binary/encrypted" for p in encoded)
    assert not any(b"secret" in p.data for p in encoded)
    assert encoded[0].data != encoded[1].data
    assert run(codec.decode(encoded)) == original


def test_unencrypted_payloads_pass_through_decode():
    plain = [json_payload("hello"), Payload(data=b"raw")]
    assert run(EncryptionCodec(keyring()).decode(plain)) == plain


@needs_crypto
def test_unknown_key_id_names_the_id_and_the_variable():
    other = load_codec_keys({"HALA_CODEC_KEY": OTHER_KEY_B64, "HALA_CODEC_KEY_ID": "rotated-2023"})
    [encoded] = run(EncryptionCodec(other).encode([json_payload("x")]))
    with pytest.raises(ValueError, match=r"key id rotated-2023, which is not loaded.*HALA_CODEC_KEYS as rotated-2023:<base64 key>"):
        run(EncryptionCodec(keyring()).decode([encoded]))
    # After rotation the old key, listed in HALA_CODEC_KEYS, still decrypts.
    rotated = load_codec_keys({"HALA_CODEC_KEY": KEY_B64, "HALA_CODEC_KEYS": f"rotated-2023:{OTHER_KEY_B64}"})
    assert run(EncryptionCodec(rotated).decode([encoded])) == [json_payload("x")]


@needs_crypto
def test_tampered_ciphertext_fails_authentication():
    [encoded] = run(EncryptionCodec(keyring()).encode([json_payload("secret corpus row")]))
    data = bytearray(encoded.data)
    data[12] ^= 1
    tampered = Payload(metadata=dict(encoded.metadata), data=bytes(data))
    with pytest.raises(ValueError, match=f"key id {KEY_ID}\\) failed authentication"):
        run(EncryptionCodec(keyring()).decode([tampered]))


def test_data_converter_from_env():
    assert data_converter_from_env({}) is None
    converter = data_converter_from_env({"HALA_CODEC_KEY": KEY_B64})
    assert isinstance(converter.payload_codec, EncryptionCodec)
    # Everything else stays Temporal's default, so JSON/dataclass handling is unchanged.
    assert converter.payload_converter_class is DataConverter.default.payload_converter_class
    # Failures too are encrypted (message and stack trace), as on the TypeScript side.
    assert converter.failure_converter_class is DefaultFailureConverterWithEncodedAttributes


def test_key_file_and_key_id(tmp_path):
    key_file = tmp_path / "codec.key"
    key_file.write_text(KEY_B64 + "\n")
    assert load_codec_keys({"HALA_CODEC_KEY_FILE": str(key_file)}).active_key == KEY
    assert load_codec_keys({"HALA_CODEC_KEY_FILE": str(key_file), "HALA_CODEC_KEY_ID": "prod-1"}).active_id == "prod-1"


@pytest.mark.parametrize("env, message", [
    ({"HALA_CODEC_KEY": base64.b64encode(bytes(16)).decode()},
     "HALA_CODEC_KEY must be base64 of 32 bytes for AES-256-GCM (got 16 bytes); generate one with: openssl rand -base64 32"),
    ({"HALA_CODEC_KEY": "not base64!"}, "HALA_CODEC_KEY is not base64"),
    ({"HALA_CODEC_KEY_FILE": "/nonexistent/codec.key"}, "HALA_CODEC_KEY_FILE=/nonexistent/codec.key cannot be read"),
    ({"HALA_CODEC_KEY": KEY_B64, "HALA_CODEC_KEY_FILE": "/k"}, "set only one of HALA_CODEC_KEY and HALA_CODEC_KEY_FILE"),
    ({"HALA_CODEC_KEY": KEY_B64, "HALA_CODEC_KEY_ID": "a:b"}, "HALA_CODEC_KEY_ID must be 1-64 characters"),
    ({"HALA_CODEC_KEY": KEY_B64, "HALA_CODEC_KEYS": f"old1:{OTHER_KEY_B64},broken"}, "HALA_CODEC_KEYS entry 2 must be id:base64"),
    ({"HALA_CODEC_KEY": KEY_B64, "HALA_CODEC_KEYS": "old1:AAAA"}, "HALA_CODEC_KEYS entry 1 (old1) must be base64 of 32 bytes"),
    ({"HALA_CODEC_KEY": KEY_B64, "HALA_CODEC_KEYS": f"{KEY_ID}:{OTHER_KEY_B64}"}, f"names key id {KEY_ID} twice"),
    ({"HALA_CODEC_KEYS": f"old1:{OTHER_KEY_B64}"}, "also set HALA_CODEC_KEY or HALA_CODEC_KEY_FILE"),
])
def test_key_errors_name_the_variable_and_the_fix(env, message):
    with pytest.raises(CodecKeyError) as err:
        load_codec_keys(env)
    assert message in str(err.value)


# The TypeScript codec, driven over stdin/stdout: decodes what Python encoded (random nonce) and
# encodes a payload for Python to decode.
_TS = """
import { loadCodecKeys } from './security/codec-key';
import { EncryptionCodec } from './security/payload-codec';
import { payloadFromJson, payloadToJson } from './security/payload-json';
let input = '';
process.stdin.on('data', (c) => (input += c)).on('end', async () => {
  const { decode, encode } = JSON.parse(input);
  const codec = new EncryptionCodec(loadCodecKeys()!);
  const decoded = await codec.decode(decode.map(payloadFromJson));
  const encoded = await codec.encode(encode.map(payloadFromJson));
  console.log(JSON.stringify({ decoded: decoded.map(payloadToJson), encoded: encoded.map(payloadToJson) }));
});
"""


@needs_crypto
@pytest.mark.skipif(shutil.which("npx") is None or not (REPO / "node_modules").exists(), reason="needs Node and npm ci")
def test_live_round_trip_with_the_typescript_codec(tmp_path):
    codec = EncryptionCodec(keyring())
    from_python = run(codec.encode([json_payload("secret corpus row, from Python")]))
    script = tmp_path / "ts-codec.ts"
    script.write_text(_TS.replace("./security/", f"{REPO}/security/"))
    out = subprocess.run(
        ["npx", "tsx", str(script)], cwd=REPO, check=True, capture_output=True, text=True, timeout=120,
        input=json.dumps({"decode": [to_json(p) for p in from_python], "encode": [to_json(json_payload("from TypeScript"))]}),
        env={**os.environ, "HALA_CODEC_KEY": KEY_B64, "HALA_CODEC_KEY_FILE": "", "HALA_CODEC_KEYS": ""},
    )
    result = json.loads(out.stdout)
    assert [from_json(p) for p in result["decoded"]] == [json_payload("secret corpus row, from Python")]
    assert run(codec.decode([from_json(p) for p in result["encoded"]])) == [json_payload("from TypeScript")]


def test_failure_messages_are_encrypted_and_read_back_with_the_key():
    """A runner's error may quote a corpus row: with the codec on, history holds no clear message."""
    from temporalio.api.failure.v1 import Failure
    from temporalio.exceptions import ApplicationError

    converter = data_converter_from_env({"HALA_CODEC_KEY": base64.b64encode(os.urandom(32)).decode()})
    secret = "secret corpus row"
    failure = Failure()
    asyncio.run(converter.encode_failure(ApplicationError(f"bad row: {secret}", type="BadInput"), failure))
    assert failure.message == "Encoded failure" and secret not in failure.SerializeToString().decode("latin1")
    decoded = asyncio.run(converter.decode_failure(failure))
    assert isinstance(decoded, ApplicationError) and decoded.message == f"bad row: {secret}"
