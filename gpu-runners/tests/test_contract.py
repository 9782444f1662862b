"""The Python side is built from the exported contract (contracts/json-schema/activities.json) alone:
activities and their runners, queue roles, error types. An edited copy of the export shows it."""
from __future__ import annotations

import copy
import dataclasses
import importlib
import json

import pytest

from hala_runners import contract, contract_file, errors, worker
from hala_runners.activities import activities_for_role, create_activities
from hala_runners.activity_process import runner_module
from hala_runners.errors import HalaError

# An activity the real table does not have, on a role it does not have, run by the scripted runner.
SCRIPTED = {"queue_role": "embed", "runner": "fakerun.stage", "start_to_close_s": 60, "heartbeat_s": 30,
            "retry": {"initial_interval_s": 1, "backoff_coefficient": 2, "maximum_interval_s": 10,
                      "maximum_attempts": 1},
            "input": {"type": "object"}, "output": {"type": "object"}}


@pytest.fixture
def edited_contract(tmp_path, monkeypatch):
    """edit(fn): a copy of the export changed by fn(table) becomes the contract (HALA_CONTRACTS), also for
    runner subprocesses; the real one is back after the test."""
    def edit(change) -> None:
        table = copy.deepcopy(contract_file.load())
        change(table)
        (tmp_path / "activities.json").write_text(json.dumps(table))
        monkeypatch.setenv("HALA_CONTRACTS", str(tmp_path))
        contract_file.load.cache_clear()

    yield edit
    contract_file.load.cache_clear()  # monkeypatch restores HALA_CONTRACTS after this


def _add_scripted_activity(table: dict) -> None:
    table["activities"]["embed_corpus"] = SCRIPTED
    table["default_queues"]["embed"] = "hala-gpu-embed"


def test_an_activity_added_to_the_contract_gets_a_worker_role_and_runs_its_runner(
        edited_contract, activity_env, fake_runner):
    edited_contract(_add_scripted_activity)
    assert "embed" in contract.queue_roles()
    assert worker.parse_args(["--queue-role", "embed"]).queue_role == "embed"
    [act, doctor] = activities_for_role("embed")
    assert doctor.__temporal_activity_definition.name == "doctor_probe"  # every role serves the doctor's probe
    assert act.__temporal_activity_definition.name == "embed_corpus"
    result = activity_env.run(act, {"mode": "ok", "steps": 2})
    assert result["done"] == 2 and "run" in result  # the scripted runner's result, through the activity


def test_an_activity_removed_from_the_contract_is_served_by_no_one(edited_contract):
    edited_contract(lambda table: table["activities"].pop("score_translation"))
    assert "score_translation" not in create_activities()
    assert [a.__temporal_activity_definition.name for a in activities_for_role("eval")] == ["evaluate_benchmarks", "doctor_probe"]


def test_error_types_are_the_contracts():
    listed = contract_file.load()["errors"]
    assert errors.non_retryable_types() == listed["non_retryable"]
    assert errors.retryable_types() == listed["retryable"]
    assert HalaError("BadInput", "x").non_retryable and not HalaError("Preempted", "x").non_retryable
    with pytest.raises(ValueError, match="unknown Hala error type 'Flaky'"):
        HalaError("Flaky", "x")


def test_an_error_type_follows_the_contract_in_and_out(edited_contract):
    def edit(table: dict) -> None:
        table["errors"]["non_retryable"].append("LicenseRefused")
        table["errors"]["retryable"].remove("StorageUnavailable")

    edited_contract(edit)
    assert HalaError("LicenseRefused", "the model's licence forbids this use").non_retryable
    with pytest.raises(ValueError, match="unknown Hala error type 'StorageUnavailable'"):
        HalaError("StorageUnavailable", "x")


@pytest.mark.parametrize("activity", contract.activity_names())
def test_no_runner_redeclares_a_default_the_contract_requires(activity):
    """A required input's default lives in the contract (and the recipe parser); a second copy in the
    runner's Config would silently disagree with it one day."""
    # `supervision` is the activity's (how the runner is watched), popped before the runner sees the config.
    required = [f for f in contract_file.load()["activities"][activity]["input"]["required"] if f != "supervision"]
    runner = importlib.import_module(runner_module(contract.runner(activity)))
    fields = {f.name: f for f in dataclasses.fields(runner.Config)}
    assert sorted(set(required) - set(fields)) == []
    with_default = [name for name in required if fields[name].default is not dataclasses.MISSING
                    or fields[name].default_factory is not dataclasses.MISSING]
    assert with_default == [], f"{contract.runner(activity)}.Config gives contract-required {with_default} a default"
