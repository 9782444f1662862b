"""harness lighteval vs harness own: the same acc_norm on every leaderboard task, offline.

The tiny world's benchmark rows are laid out as the six hub dataset repos lighteval's tasks read
(<mirror>/datasets/<hf_repo>/<subset>/<split>.parquet, README.md naming each subset as a config),
one small split for every subset of lighteval_tasks.py. The evaluate runner scores them with
harness lighteval (lighteval's own task configs, prompts, model wrapper and metric, in the
lighteval venv) and, one benchmark per subset file, with harness own; the tiny random LFM2 gives
scores all over the place, so equal numbers mean equal prompts, tokens and log-likelihoods.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hala_runners import contract, lighteval_harness, progress, store
from hala_runners.lighteval_tasks import FAMILIES, Family
from hala_runners.runners import evaluate

ROOT = Path(__file__).resolve().parents[2]
ROWS = 4  # per subset: 117 subsets, so ~470 questions on each side
MODEL = "hf://hala-tiny/lfm2-350m"


@pytest.fixture(scope="session")
def lighteval_python() -> str:
    """The lighteval venv's interpreter: HALA_LIGHTEVAL_PYTHON, else built (cached) by its script."""
    if os.environ.get("HALA_LIGHTEVAL_PYTHON"):
        return os.environ["HALA_LIGHTEVAL_PYTHON"]
    out = subprocess.run(["bash", str(ROOT / "scripts" / "lighteval-env.sh")], check=True,
                         stdout=subprocess.PIPE, text=True).stdout.strip()
    return str(Path(out) / "bin" / "python")


def _hub_rows(fmt: str, seed: int) -> list[dict]:
    """Tiny-world rows in the encoding of the real dataset: AraTrust's answers are Arabic letters
    (lighteval's prompt function looks them up among أ/ب/ج; our own harness takes either script)."""
    from tiny_world.benchmarks import rows

    out = rows(fmt, seed, ROWS)
    if fmt == "aratrust":
        out = [{**r, "Answer": "أبج"["ABC".index(r["Answer"])]} for r in out]
    return out


def write_task_set(mirror: Path, fmt: str, family: Family) -> dict[str, Path]:
    """One repo of the local task set; {task name: its parquet}."""
    from tiny_world.benchmarks import schema

    repo = mirror / "datasets" / family.hf_repo
    files, configs = {}, []
    for k, task in enumerate(family.task_names()):
        subset = family.subset_of(task)
        path = repo / subset / f"{family.split}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(_hub_rows(fmt, seed=k), schema=schema(fmt)), path)
        files[task] = path
        configs += [f"- config_name: {json.dumps(subset)}", "  data_files:",
                    f"  - split: {family.split}", f"    path: {json.dumps(f'{subset}/{family.split}.parquet')}"]
    (repo / "README.md").write_text("\n".join(["---", "configs:", *configs, "---", ""]))
    return files


@pytest.fixture(scope="module")
def task_set(tiny_hub, tmp_path_factory) -> tuple[Path, dict[str, tuple[str, Path]]]:
    """A mirror holding the six repos and the tiny model; {task: (format, parquet)}."""
    mirror = tmp_path_factory.mktemp("lighteval-mirror")
    (mirror / "hala-tiny").mkdir()
    (mirror / "hala-tiny" / "lfm2-350m").symlink_to(tiny_hub / "hala-tiny" / "lfm2-350m")
    tasks = {}
    for fmt, family in FAMILIES.items():
        tasks.update({t: (fmt, p) for t, p in write_task_set(mirror, fmt, family).items()})
    return mirror, tasks


def _evaluate(work: Path, capsys, benchmarks: list[dict], harness: str) -> tuple[int, list[dict]]:
    work.mkdir(parents=True, exist_ok=True)
    cfg = {"stage_key": "f" * 64, "output_prefix": f"file://{work}/store/eval", "model": MODEL,
           "benchmarks": benchmarks, "batch_size": 16, "harness": harness,
           "formulation": "mcf", "chat_template": False}
    (work / "cfg.json").write_text(json.dumps(cfg))
    code = evaluate.main(["--config", str(work / "cfg.json")])
    return code, [e for e in map(progress.parse_line, capsys.readouterr().out.splitlines()) if e]


def _six(tmp_path: Path) -> list[dict]:
    """The recipe's six benchmarks; under harness lighteval their files are not read (none exist)."""
    return [{"name": fmt, "uri": f"file://{tmp_path}/unread/{fmt}.parquet", "format": fmt} for fmt in FAMILIES]


def test_both_harnesses_give_the_same_acc_norm_on_every_leaderboard_task(
        task_set, lighteval_python, tmp_path, capsys, monkeypatch):
    mirror, tasks = task_set
    monkeypatch.setenv("HALA_HUB_MIRROR", str(mirror))
    monkeypatch.setenv("HALA_LIGHTEVAL_PYTHON", lighteval_python)
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))

    model_dir = (mirror / "hala-tiny" / "lfm2-350m").resolve()  # the shipped tiny world's model, linked
    files_before = sorted(p.relative_to(model_dir) for p in model_dir.rglob("*"))
    started = time.monotonic()
    code, events = _evaluate(tmp_path / "lighteval", capsys, _six(tmp_path), "lighteval")
    lighteval_s = time.monotonic() - started
    assert code == 0, events[-1]
    # lighteval wrote its sample cache into the model's own directory (the shipped world) until the
    # runner loaded it by a relative name: the model directory is read, never written.
    assert sorted(p.relative_to(model_dir) for p in model_dir.rglob("*")) == files_before
    result = events[-1]["result"]
    contract.validate_output("evaluate_benchmarks", result)
    report = json.loads(store.fetch(result["report"]).read_text())
    assert report["prompts"] == lighteval_harness.PROMPTS
    theirs = {t: s for b in report["benchmarks"].values() for t, s in b["tasks"].items()}
    assert sorted(theirs) == sorted(tasks) and len(theirs) == 9 + 40 + 1 + 2 + 8 + 57

    started = time.monotonic()
    own_benchmarks = [{"name": t, "uri": f"file://{p}", "format": fmt} for t, (fmt, p) in tasks.items()]
    code, events = _evaluate(tmp_path / "own", capsys, own_benchmarks, "own")
    own_s = time.monotonic() - started
    assert code == 0, events[-1]
    ours = events[-1]["result"]["scores"]

    differ = {t: (ours[t], theirs[t]) for t in tasks if abs(ours[t] - theirs[t]) > 1e-9}
    assert differ == {}
    assert len(set(ours.values())) >= 3, "a model this random should not score every task alike"
    for fmt, family in FAMILIES.items():  # a benchmark is the mean of its tasks, as lighteval's _average
        names = family.task_names()
        assert result["scores"][fmt] == pytest.approx(sum(ours[t] for t in names) / len(names), abs=1e-9)
        assert report["benchmarks"][fmt]["rows"] == ROWS * len(names)
    with capsys.disabled():  # the figures, for whoever runs it with -s
        print(f"\nlighteval {lighteval_s:.0f} s, own {own_s:.0f} s; acc_norm per benchmark: "
              + ", ".join(f"{b} {s:.2f}" for b, s in result["scores"].items()) + f"; average {result['average']:.2f}")

    # A retry finds every benchmark finished under the prefix and starts no lighteval run.
    monkeypatch.setenv("HALA_LIGHTEVAL_PYTHON", str(tmp_path / "no-such-python"))
    code, events = _evaluate(tmp_path / "lighteval", capsys, _six(tmp_path), "lighteval")
    assert code == 0 and events[-1]["result"]["scores"] == result["scores"]


def test_offline_without_a_mirror_is_bad_input_that_says_to_use_own(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("HALA_HUB_MIRROR", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    code, events = _evaluate(tmp_path, capsys, _six(tmp_path), "lighteval")
    assert code == 1 and events[-1]["type"] == "BadInput"
    assert "HF_HUB_OFFLINE=1" in events[-1]["message"] and "stages.evaluate.harness: own" in events[-1]["message"]


def test_a_mirror_without_the_leaderboard_repos_names_them(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_HUB_MIRROR", str(tmp_path / "mirror"))
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    write_task_set(tmp_path / "mirror", "exams", FAMILIES["exams"])
    code, events = _evaluate(tmp_path, capsys, _six(tmp_path)[:3], "lighteval")
    assert code == 1 and events[-1]["type"] == "BadInput"
    message = events[-1]["message"]
    assert "OALL/AlGhafa-Arabic-LLM-Benchmark-Native" in message and "MBZUAI/ArabicMMLU" in message
    assert "OALL/Arabic_EXAMS" not in message and "harness: own" in message


def test_two_benchmarks_of_one_format_are_bad_input_under_lighteval(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    benchmarks = [{"name": n, "uri": f"file://{tmp_path}/{n}.parquet", "format": "exams"} for n in ("a", "b")]
    code, events = _evaluate(tmp_path, capsys, benchmarks, "lighteval")
    assert code == 1 and events[-1]["type"] == "BadInput" and "'a' and 'b' are both 'exams'" in events[-1]["message"]


def test_the_task_lists_are_the_leaderboards_full_subset_lists():
    names = {fmt: f.task_names() for fmt, f in FAMILIES.items()}
    assert {fmt: len(n) for fmt, n in names.items()} == {
        "alghafa": 9, "arabic_mmlu": 40, "exams": 1, "madinah_qa": 2, "aratrust": 8, "arbmmlu_ht": 57}
    assert "arabic_mmlu:All" not in names["arabic_mmlu"]  # the union of the others: not scored twice
    assert names["exams"] == ["arabic_exams"] and FAMILIES["aratrust"].split == "train"
    assert all(len(set(n)) == len(n) for n in names.values())
