"""`stages.evaluate.harness: lighteval`: the recipe's benchmarks scored on the leaderboard's own tasks.

Each benchmark's format names a family of lighteval tasks (lighteval_tasks.py: every subset the Open
Arabic LLM Leaderboard v2 scores); the recipe's own copy of the benchmark (`uri`) is not read. The
lighteval venv (HALA_LIGHTEVAL_PYTHON) runs runners/evaluate_lighteval.py on them; this module
checks that the data can be reached before the model loads and folds the tasks' acc_norm into one
result per benchmark, in the own harness's report format: `acc_norm` is the mean over the family's
tasks, as lighteval's `<family>:_average` is.

The data: with HALA_HUB_MIRROR set, `<mirror>/datasets/<hf_repo>` (tests, air-gapped clusters);
otherwise the hub, which must answer. Offline without a mirror is bad input, not a retry: the
recipe must choose harness `own`, which reads the benchmark files the recipe names.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from . import hub
from .errors import bad_input
from .lighteval_tasks import FAMILIES, Family

PROMPTS = "lighteval 0.13.0 OALL v2 tasks (lighteval.tasks.multilingual.tasks.arabic), zero-shot"
_USE_OWN = "set stages.evaluate.harness: own (the offline harness, on the benchmark files the recipe names)"
_OFFLINE = {"1", "true", "yes", "on"}


def families(benchmarks: list[dict]) -> list[Family]:
    """The task family of each benchmark; two benchmarks of one format would score the same tasks."""
    seen: dict[str, str] = {}
    for b in benchmarks:
        if b["format"] in seen:
            raise bad_input(f"inputs.benchmarks {seen[b['format']]!r} and {b['name']!r} are both {b['format']!r}: "
                            "harness lighteval scores a format's leaderboard tasks once; keep one of them")
        seen[b["format"]] = b["name"]
        if b["format"] not in FAMILIES:  # mmlu: its lighteval tasks are not wired here yet
            raise bad_input(f"inputs.benchmarks {b['name']!r}: format {b['format']!r} has no lighteval task family "
                            f"(lighteval_tasks.FAMILIES knows {sorted(FAMILIES)}); " + _USE_OWN)
    return [FAMILIES[b["format"]] for b in benchmarks]


def check_data(needed: list[Family]) -> str | None:
    """The mirror root the tasks read, or None for the hub after checking that it answers."""
    mirror = os.environ.get("HALA_HUB_MIRROR")
    if mirror:
        absent = [f.hf_repo for f in needed if not (Path(mirror) / "datasets" / f.hf_repo / "README.md").is_file()]
        if absent:
            raise bad_input(f"harness lighteval: {absent} not in the hub mirror {mirror} (HALA_HUB_MIRROR) as "
                            "<mirror>/datasets/<repo> with a README.md naming its configs; add them or " + _USE_OWN)
        return mirror
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in _OFFLINE:
        raise bad_input("harness lighteval reads the leaderboard's datasets from the Hugging Face hub, which is "
                        "switched off here (HF_HUB_OFFLINE=1) and no HALA_HUB_MIRROR is set; " + _USE_OWN)
    from huggingface_hub import HfApi

    for family in needed:
        try:
            HfApi().dataset_info(family.hf_repo)
        except Exception as e:  # noqa: BLE001 - no route, DNS, 401/404: all mean the tasks cannot load
            raise bad_input(f"harness lighteval cannot reach the hub dataset {family.hf_repo} "
                            f"({type(e).__name__}: {str(e)[:200]}); {_USE_OWN}") from e
    return None


def _python() -> str:
    python = os.environ.get("HALA_LIGHTEVAL_PYTHON")
    if not python or not Path(python).exists():
        raise bad_input(f"harness lighteval needs the lighteval venv: HALA_LIGHTEVAL_PYTHON={python!r} is not an "
                        "interpreter (bash scripts/lighteval-env.sh builds one; the eval image sets it), or " + _USE_OWN)
    return python


def run_tasks(model_uri: str, tasks: list[str], batch_size: int, mirror: str | None, work_dir: Path,
              on_task: Callable[[dict], None]) -> dict[str, dict]:
    """Run the lighteval half on `tasks`; {task: {"rows", "acc_norm"}} as each finishes."""
    python = _python()
    job = work_dir / "job.json"
    work_dir.mkdir(parents=True, exist_ok=True)
    job.write_text(json.dumps({"model": str(hub.resolve(model_uri)), "tasks": tasks, "batch_size": batch_size,
                               "work_dir": str(work_dir / "tasks"), "mirror": mirror}))
    root = Path(__file__).resolve().parents[1]  # gpu-runners/: the lighteval venv holds no Hala code
    env = {**os.environ, "PYTHONPATH": str(root)}
    results: dict[str, dict] = {}
    log = work_dir / "lighteval.log"  # its chatter goes to a file: a full stderr pipe would block it
    with log.open("w") as errors, subprocess.Popen(
            [python, "-m", "hala_runners.runners.evaluate_lighteval", "--config", str(job)],
            stdout=subprocess.PIPE, stderr=errors, text=True, env=env) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("{"):
                result = json.loads(line)
                results[result["task"]] = result
                on_task(result)
            else:
                sys.stderr.write(line)
    if child.returncode != 0:
        raise RuntimeError(f"lighteval failed (exit {child.returncode}; {log}): {log.read_text()[-3000:]}")
    if set(results) != set(tasks):
        raise RuntimeError(f"lighteval finished without scoring {sorted(set(tasks) - set(results))[:5]}")
    return results


def fold(family: Family, tasks: dict[str, dict]) -> dict[str, Any]:
    """One benchmark's result from its tasks' (the report's per-benchmark entry)."""
    names = family.task_names()
    scores = {name: tasks[name]["acc_norm"] for name in names}
    return {"format": next(f for f, fam in FAMILIES.items() if fam == family), "harness": "lighteval",
            "uri": f"hf://datasets/{family.hf_repo}", "rows": sum(tasks[n]["rows"] for n in names),
            "acc_norm": sum(scores.values()) / len(scores), "tasks": scores}
