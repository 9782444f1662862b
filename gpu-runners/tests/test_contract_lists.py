"""The lists the Python side implements one entry of each for, against the exported contract
(contracts/json-schema/activities.json): a knob, format, formulation or progress field added on one
side and not the other fails here (issue 23: no list kept twice across languages).

    PYTHONPATH=gpu-runners python -m pytest gpu-runners/tests/test_contract_lists.py -q
"""
from __future__ import annotations

import jsonschema

from hala_runners import contract, contract_file
from hala_runners.activity_process import Heartbeater
from hala_runners.lighteval_tasks import FAMILIES
from hala_runners.oall_formats import LAYOUTS
from hala_runners.runners import train


def test_every_train_knob_is_read_by_the_train_runner_once():
    mapped, elsewhere, optional = set(train.SFT_FIELDS), set(train.READ_ELSEWHERE), set(train.OPTIONAL_KNOBS)
    assert not mapped & elsewhere and not (mapped | elsewhere) & optional
    assert mapped | elsewhere == set(contract.train_knob_names())
    assert optional == set(contract_file.load()["train_knobs"]["properties"]) - set(contract.train_knob_names())


def test_the_export_lists_every_defaulted_knob_as_required():
    schema = contract_file.load()["train_knobs"]
    # cpu_threads alone may be left out: absent, stage keys stay what they were before it existed.
    assert set(schema["properties"]) - set(schema["required"]) == {"cpu_threads"}


def test_every_benchmark_format_has_a_layout_and_a_lighteval_family():
    assert set(LAYOUTS) == set(contract.benchmark_formats())
    # mmlu has no lighteval family wired yet: lighteval_harness refuses it by name (test_evaluate_formats).
    assert set(FAMILIES) == set(contract.benchmark_formats()) - {"mmlu"}


def test_the_formulations_the_runner_accepts_are_the_contracts():
    import pytest

    from hala_runners.errors import HalaError
    from hala_runners.oall_formats import to_doc

    row = {"query": "2 + 2 =", "sol1": "3", "sol2": "4", "label": "1"}
    docs = {f: to_doc("alghafa", row, "row", f) for f in contract.evaluate_formulations()}
    assert len({d.query for d in docs.values()}) == len(docs), "each formulation asks differently"
    with pytest.raises(HalaError, match="formulation must be one of"):
        to_doc("alghafa", row, "row", "zz")


def test_a_heartbeat_has_exactly_the_contracts_progress_fields(monkeypatch):
    from hala_runners import activity_process

    sent = []
    monkeypatch.setattr(activity_process.activity, "heartbeat", lambda details: sent.append(details))
    Heartbeater(None).progress({"event": "progress", "phase": "train", "done": 3, "total": 8,
                                "checkpoint_uri": None, "metrics": {"loss": 1.5}})
    [details] = sent
    assert tuple(details) == contract.progress_fields()
    jsonschema.validate(details, contract_file.load()["progress"])
