"""How a Python worker connects to Temporal: by Temporal's own conventions (temporalio.envconfig), the
same as the TypeScript side (platform/temporal-connection.ts) and the `temporal` CLI. In order of precedence:

1. the command line's --address / --namespace (--profile picks the profile below);
2. TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY (turns TLS on), TEMPORAL_TLS*, TEMPORAL_GRPC_META_*;
3. the profile (--profile, else TEMPORAL_PROFILE, else "default") of the TOML file named by
   TEMPORAL_CONFIG_FILE, else of ~/.config/temporalio/temporal.toml;
4. 127.0.0.1:7233, namespace "default": the dev server `hala up` starts.

    config = connect_config(profile="prod")            # kwargs for temporalio.client.Client.connect
    client = await connect(config, timeout_s=60, data_converter=converter)
"""
from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# 127.0.0.1, not localhost: the dev server binds IPv4 loopback only, and localhost may resolve to ::1 first.
DEFAULT_ADDRESS = "127.0.0.1:7233"
DEFAULT_NAMESPACE = "default"


class ConnectionConfigError(ValueError):
    """The connection settings cannot be read (a missing file, an unknown profile, bad TOML)."""


class Unreachable(RuntimeError):
    """No server answered at the configured address within the connect timeout."""


def connect_config(profile: str | None = None, address: str | None = None, namespace: str | None = None,
                   env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments for Client.connect: target_host and namespace always, TLS / API key / gRPC
    metadata where configured."""
    from temporalio.envconfig import ClientConfig

    env = dict(os.environ if env is None else env)
    config_file = env.get("TEMPORAL_CONFIG_FILE")
    # envconfig treats a missing file as "no file": a typo in the path would silently mean localhost.
    if config_file and not Path(config_file).is_file():
        raise ConnectionConfigError(f"TEMPORAL_CONFIG_FILE names {config_file}, which does not exist")
    try:
        config: dict[str, Any] = dict(ClientConfig.load_client_connect_config(profile=profile, override_env_vars=env))
    except RuntimeError as e:  # the SDK's ConfigError (a RuntimeError of its Rust bridge)
        name = profile or env.get("TEMPORAL_PROFILE")
        where = config_file or "the default profile file (~/.config/temporalio/temporal.toml)"
        raise ConnectionConfigError(f"cannot read the Temporal connection profile{f' {name!r}' if name else ''} "
                                    f"from {where}: {e}") from e
    config["target_host"] = address or config.get("target_host") or DEFAULT_ADDRESS
    config["namespace"] = namespace or config.get("namespace") or DEFAULT_NAMESPACE
    return config


def describe(config: Mapping[str, Any]) -> str:
    """One line for logs and errors; never the API key."""
    return f"{config['target_host']} (namespace {config['namespace']}{', TLS' if config.get('tls') else ''})"


async def connect(config: Mapping[str, Any], *, timeout_s: float, data_converter: Any = None, runtime: Any = None):
    """Connect, retrying for `timeout_s`: launchers start the server and the workers together.

    `runtime`: a Temporal runtime of the caller's (one serving metrics), else the SDK's default."""
    from temporalio.client import Client

    extra = {"data_converter": data_converter} if data_converter is not None else {}
    if runtime is not None:
        extra["runtime"] = runtime
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await Client.connect(**config, **extra)
        except Exception as e:  # noqa: BLE001 - the SDK raises RuntimeError for an unreachable server
            if time.monotonic() > deadline:
                raise Unreachable(f"cannot reach Temporal at {describe(config)} after {timeout_s:.0f}s: {e}") from e
            await asyncio.sleep(1.0)
