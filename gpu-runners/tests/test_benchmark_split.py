"""benchmark_split.py + runners/evaluate.py: the validation split held out of the benchmarks.

On the tiny world's own benchmarks (the ones recipes/tiny.yaml names, from the shipped mirror): the
split is deterministic, its parts are disjoint and cover every row, it follows each row's content
(not its position, not the process's hash seed), and the real evaluate runner scores exactly the
part it is asked for, so the rows stages.choose picks on are never the rows evaluate reports.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from eval_world import run_evaluate

from hala_runners import benchmark_split, store
from hala_runners.runners import evaluate

ROOT = Path(__file__).resolve().parents[2]
FRACTION = 0.2


@pytest.fixture(scope="module")
def tiny_benchmarks(tiny_hub):
    """recipes/tiny.yaml's benchmarks, read from the shipped mirror instead of the hub."""
    recipe = yaml.safe_load((ROOT / "recipes" / "tiny.yaml").read_text())
    return [{**b, "uri": b["uri"].replace("hf://", f"file://{tiny_hub}/")} for b in recipe["inputs"]["benchmarks"]]


def _key(row: dict) -> str:
    return json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)


def test_each_benchmark_splits_into_disjoint_covering_parts_that_follow_the_rows(tiny_benchmarks):
    for bench in tiny_benchmarks:
        rows = evaluate.load_rows(bench)
        val = benchmark_split.select(rows, {"part": "validation", "fraction": FRACTION}, bench["name"])
        test = benchmark_split.select(rows, {"part": "test", "fraction": FRACTION}, bench["name"])
        assert len(val) + len(test) == len(rows), bench["name"]  # covering
        assert not {_key(r) for r in val} & {_key(r) for r in test}, bench["name"]  # disjoint
        # About the fraction asked for (200 rows: 40 expected; a hash, so not exactly).
        assert 0.1 < len(val) / len(rows) < 0.3, (bench["name"], len(val))
        # Deterministic, and by content: the same rows read in reverse order fall in the same parts.
        assert benchmark_split.select(rows, {"part": "validation", "fraction": FRACTION}, bench["name"]) == val
        again = benchmark_split.select(rows[::-1], {"part": "validation", "fraction": FRACTION}, bench["name"])
        assert sorted(map(_key, again)) == sorted(map(_key, val))
        # A larger fraction only adds rows to the validation part: choosing on more never moves a row back.
        wider = benchmark_split.select(rows, {"part": "validation", "fraction": 0.4}, bench["name"])
        assert {_key(r) for r in val} <= {_key(r) for r in wider}
    assert benchmark_split.select(rows, None, "x") is rows  # no split: every row


def test_the_hash_is_the_same_on_every_host_and_under_every_hash_seed(tiny_benchmarks):
    # A fixed row's position is a constant of SHA-256, not of this process.
    assert benchmark_split.row_position({"query": "س", "choices": ["a", "b"], "gold": 1}) == pytest.approx(
        int.from_bytes(__import__("hashlib").sha256('{"choices":["a","b"],"gold":1,"query":"س"}'.encode()).digest()[:8],
                       "big") / 2 ** 64)
    bench = tiny_benchmarks[0]
    here = [benchmark_split.part_of(r, FRACTION) for r in evaluate.load_rows(bench)]
    code = ("import sys, json; from hala_runners import benchmark_split; from hala_runners.runners import evaluate; "
            f"print(json.dumps([benchmark_split.part_of(r, {FRACTION}) for r in evaluate.load_rows(json.loads(sys.argv[1]))]))")
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT / "gpu-runners")}
        out = subprocess.run([sys.executable, "-c", code, json.dumps(bench)], env=env, check=True, capture_output=True, text=True)
        assert json.loads(out.stdout) == here, f"PYTHONHASHSEED={seed}"


def test_the_evaluate_runner_scores_only_the_part_it_is_asked_for(tiny, tiny_benchmarks, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    rows = {}
    for part in ("validation", "test"):
        split = {"part": part, "fraction": FRACTION}
        (tmp_path / part).mkdir()
        code, events = run_evaluate(tmp_path / part, capsys, tiny.model_uri, tiny_benchmarks, batch_size=32, split=split)
        assert code == 0, events[-1]
        report = json.loads(store.fetch(events[-1]["result"]["report"]).read_text())
        assert report["split"] == split
        rows[part] = {name: r["rows"] for name, r in report["benchmarks"].items()}
    for bench in tiny_benchmarks:
        expected = benchmark_split.select(evaluate.load_rows(bench), {"part": "validation", "fraction": FRACTION}, "")
        assert rows["validation"][bench["name"]] == len(expected)
        assert rows["validation"][bench["name"]] + rows["test"][bench["name"]] == len(evaluate.load_rows(bench))


def test_a_part_with_no_rows_and_a_split_under_lighteval_are_bad_input(tiny, tiny_benchmarks, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    one = [tiny_benchmarks[0]]
    for d in ("empty", "lighteval"):
        (tmp_path / d).mkdir()
    code, events = run_evaluate(tmp_path / "empty", capsys, tiny.model_uri, one, split={"part": "validation", "fraction": 1e-9})
    assert code == 1 and events[-1]["event"] == "error" and events[-1]["type"] == "BadInput"
    assert "stages.evaluate.validation.fraction" in events[-1]["message"]
    code, events = run_evaluate(tmp_path / "lighteval", capsys, tiny.model_uri, one, harness="lighteval",
                                split={"part": "test", "fraction": FRACTION})
    assert code == 1 and events[-1]["event"] == "error" and events[-1]["type"] == "BadInput"
    assert "stages.choose.enabled: false" in events[-1]["message"]
