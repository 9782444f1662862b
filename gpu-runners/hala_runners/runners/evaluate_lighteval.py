"""The lighteval half of the evaluate runner: the leaderboard's own task configs, scored by lighteval.

    $HALA_LIGHTEVAL_PYTHON -m hala_runners.runners.evaluate_lighteval --config job.json

Runs in the lighteval venv (scripts/lighteval-env.sh; the eval image's second venv), started by
runners/evaluate.py with `harness: lighteval`; imports nothing of hala_runners but the task lists.
job.json: `model` (a local directory), `tasks` (names from lighteval_tasks.py), `batch_size`,
`work_dir` (finished tasks are kept there, so a retry scores only the rest) and `mirror`: null reads
each task's hf_repo from the hub; a directory reads `<mirror>/datasets/<hf_repo>` instead (a hub
dataset repo laid out locally: README.md `configs` naming each subset's parquet files).

Each task is lighteval's own LightevalTaskConfig (prompt function, splits, the acc metric with
LogProbCharNorm) from lighteval.tasks.multilingual.tasks.arabic, its docs built by LightevalTask,
scored by lighteval's TransformersModel.loglikelihood and its metric, averaged by the task's own
aggregation. lighteval's Pipeline is not used: its Registry imports every task module lighteval
ships, and lighteval/tasks/tasks/tiny_benchmarks.py downloads tinyBenchmarks.pkl from GitHub at import
time (a ConnectionError offline, a PermissionError in the image's read-only venv) although no Arabic
task needs it. The Pipeline does the same steps: get_docs, model.loglikelihood, apply_metric, aggregate.

stdout: one JSON line per finished task, {"task", "rows", "acc_norm" (percent)}.
"""
from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(kw_only=True)
class Job:
    model: str
    tasks: list[str]
    batch_size: int
    work_dir: str
    mirror: str | None = None


def task_configs(names: list[str], mirror: str | None) -> list:
    """lighteval's configs of `names`, zero-shot, reading from the mirror when there is one."""
    from lighteval.tasks.multilingual.tasks import arabic

    from ..lighteval_tasks import FAMILIES, FEW_SHOT, task_spec

    table = {c.name: c for c in arabic.TASKS_TABLE}
    stale = [n for n in names if n not in table]
    # The mirror layout and the report's `uri` come from our lists: they must be lighteval's too.
    stale += [f"{n} ({table[n].hf_repo}/{table[n].hf_subset}:{list(table[n].evaluation_splits)})"
              for f in FAMILIES.values() for n in f.task_names() if n in names and n in table
              and (table[n].hf_repo, table[n].hf_subset, list(table[n].evaluation_splits))
              != (f.hf_repo, f.subset_of(n), [f.split])]
    if stale:
        raise SystemExit(f"lighteval's tasks differ from hala_runners/lighteval_tasks.py for {stale[:5]} "
                         f"({len(stale)} in all): update the lists to the installed lighteval")
    configs = []
    for name in names:
        config = copy.deepcopy(table[name])
        config.num_fewshots = FEW_SHOT
        config.full_name = task_spec(name)
        if mirror is not None:
            config.hf_repo = str(Path(mirror) / "datasets" / config.hf_repo)
        configs.append(config)
    return configs


def score_task(model, config) -> dict:
    """acc_norm of one task, as lighteval's pipeline computes it."""
    from lighteval.metrics import apply_metric
    from lighteval.tasks.lighteval_task import LightevalTask

    task = LightevalTask(config)
    docs = task.get_docs()
    responses = model.loglikelihood(docs)
    samples = apply_metric(responses=responses, docs=docs, metrics=list(task.metrics))
    (metric,) = samples[0].keys()  # the OALL tasks have one metric: acc with LogProbCharNorm
    value = task.aggregation()[metric]([s[metric] for s in samples])
    return {"task": config.name, "rows": len(docs), "acc_norm": 100.0 * float(value)}


def _linked_model(model: str, scratch: Path) -> str:
    """The name lighteval loads `model` by: `model`, a link in `scratch`, which must be the working
    directory. lighteval files its sample cache at cache_dir / model_name / hash
    (lighteval/utils/cache_management.py, SampleCache.__init__), and an absolute model path wins that
    join: the cache landed inside the model's own directory (the shipped tiny world, a fetched
    artifact). A relative name keeps it under cache_dir."""
    link = scratch / "model"
    link.symlink_to(model, target_is_directory=True)
    return link.name


def run(job: Job, scratch: Path) -> None:
    from lighteval.models.transformers.transformers_model import TransformersModel, TransformersModelConfig

    work = Path(job.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    configs = task_configs(job.tasks, job.mirror)  # every name checked before the model loads
    model = None
    for config in configs:
        saved = work / f"{config.name.replace('/', '_')}.json"
        if saved.exists():
            result = json.loads(saved.read_text())
        else:
            if model is None:
                model = TransformersModel(TransformersModelConfig(
                    model_name=_linked_model(job.model, scratch), batch_size=job.batch_size,
                    cache_dir=str(scratch / "samples")))
            result = score_task(model, config)
            saved.write_text(json.dumps(result))
        print(json.dumps(result, ensure_ascii=False), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="JSON file: the Job fields")
    args = parser.parse_args(argv)
    # Its registry-less sample cache warns once per task; the warning is about a check we do not need.
    logging.getLogger("lighteval.utils.cache_management").setLevel(logging.ERROR)
    job = Job(**json.loads(Path(args.config).read_text()))
    # lighteval keeps a sample cache keyed by the model's path, not its bytes, and datasets keeps
    # Arrow copies of local files that outlive edits to them (seen: a rewritten parquet read stale):
    # both live in a directory that dies with the run. datasets reads its cache path on import.
    # Every path absolute before the working directory moves (model: a local directory, hub.resolve's).
    job = replace(job, model=str(Path(job.model).resolve()), work_dir=str(Path(job.work_dir).resolve()),
                  mirror=job.mirror and str(Path(job.mirror).resolve()))
    home = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="hala-lighteval-") as scratch:
        os.environ["HF_DATASETS_CACHE"] = str(Path(scratch) / "datasets")
        os.chdir(scratch)  # the model is loaded by a name relative to it (_linked_model says why)
        try:
            run(job, Path(scratch))
        finally:
            os.chdir(home)
    return 0


if __name__ == "__main__":
    sys.exit(main())
