"""Where a Python worker connects (hala_runners/connection.py): Temporal's envconfig conventions, in the
same order of precedence as the TypeScript side. No server: these read settings only."""
from __future__ import annotations

import pytest

from hala_runners.connection import ConnectionConfigError, connect_config, describe

PROFILES = """
[profile.default]
address = "default.example:7233"

[profile.prod]
address = "prod.example:7233"
namespace = "hala-prod"
api_key = "secret-key"
"""


@pytest.fixture
def profile_file(tmp_path):
    path = tmp_path / "temporal.toml"
    path.write_text(PROFILES)
    return str(path)


def test_nothing_configured_means_the_local_dev_server(tmp_path):
    # HOME without a default profile file, and no TEMPORAL_* variable.
    assert connect_config(env={"HOME": str(tmp_path)}) == {"target_host": "127.0.0.1:7233", "namespace": "default"}


def test_the_named_profile_of_the_config_file_gives_address_namespace_and_api_key_with_tls(profile_file):
    config = connect_config(env={"TEMPORAL_CONFIG_FILE": profile_file, "TEMPORAL_PROFILE": "prod"})
    assert config["target_host"] == "prod.example:7233" and config["namespace"] == "hala-prod"
    assert config["api_key"] == "secret-key" and config["tls"] is True
    assert describe(config) == "prod.example:7233 (namespace hala-prod, TLS)"


def test_the_default_profile_is_read_when_none_is_named(profile_file):
    config = connect_config(env={"TEMPORAL_CONFIG_FILE": profile_file})
    assert config == {"target_host": "default.example:7233", "namespace": "default"}


def test_variables_beat_the_profile_and_flags_beat_the_variables(profile_file):
    env = {"TEMPORAL_CONFIG_FILE": profile_file, "TEMPORAL_NAMESPACE": "from-env", "TEMPORAL_ADDRESS": "env.example:1"}
    assert connect_config(profile="prod", env=env)["namespace"] == "from-env"
    assert connect_config(profile="prod", env=env)["target_host"] == "env.example:1"
    flagged = connect_config(profile="prod", address="flag.example:2", namespace="from-flag", env=env)
    assert (flagged["target_host"], flagged["namespace"]) == ("flag.example:2", "from-flag")


def test_a_config_file_that_does_not_exist_is_an_error_not_localhost(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConnectionConfigError, match=f"TEMPORAL_CONFIG_FILE names {missing}, which does not exist"):
        connect_config(env={"TEMPORAL_CONFIG_FILE": str(missing)})


def test_an_unknown_profile_names_the_profile_and_the_file(profile_file):
    with pytest.raises(ConnectionConfigError, match=f"profile 'staging' from {profile_file}"):
        connect_config(profile="staging", env={"TEMPORAL_CONFIG_FILE": profile_file})
