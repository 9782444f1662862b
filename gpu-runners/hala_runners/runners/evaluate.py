"""Zero-shot multiple-choice benchmarks (OALL v2 layouts) scored by normalised log-likelihood.

    python -m hala_runners.runners.evaluate --config config.json

Input: contracts/gpu-activities.ts EvaluateBenchmarksInput — `model`, `benchmarks` ({name, uri,
format}: parquet in one of the layouts of hala_runners/oall_formats.py), `batch_size`, `harness`:
`own` (default, offline: this module) or `lighteval` (each format's leaderboard tasks, run by lighteval
on the hub's datasets: hala_runners/lighteval_harness.py), same report either way; `formulation`
(mcf: option labels, the leaderboard's; cf: option texts) and `chat_template` (own harness only; see
hala_runners/oall_formats.py); `split` (optional, own harness only): score only the validation or the
test part of each benchmark (hala_runners/benchmark_split.py), absent = every row.
For each row and each choice: log P(choice | prompt), summed over the choice's tokens.
  acc      = the choice with the highest log-likelihood is the gold one
  acc_norm = the same after dividing by the choice's length in characters (lighteval's
             LogProbCharNorm, the leaderboard's metric), so long choices are not penalised
Scores are percentages. `<output_prefix>/report.json` holds rows, acc and acc_norm per benchmark;
each finished benchmark is also kept under `<output_prefix>/benchmarks/` so a retry skips it.
Out of memory: the retry scores at half the batch (runners/oom.py).
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable

from .. import benchmark_split, hub, lighteval_harness, progress, store
from ..errors import bad_input
from ..mcq_loglikelihood import accuracy, build_requests, score_requests
from ..oall_formats import check_columns, to_doc
from ..runner_harness import run, save_config, scratch_dir
from . import oom

METRIC = "acc_norm: argmax of log P(choice | prompt) / len(choice) in characters (lighteval LogProbCharNorm)"


@dataclass(kw_only=True)
class Config:
    stage_key: str
    output_prefix: str
    model: str
    benchmarks: list[dict]
    batch_size: int
    harness: str  # own | lighteval (stages.evaluate.harness)
    formulation: str  # mcf | cf (stages.evaluate.formulation; oall_formats.py)
    chat_template: bool  # prompt as the model's chat template (stages.evaluate.chat_template)
    split: dict | None = None  # {part: validation | test, fraction}: a part of each benchmark (benchmark_split.py)
    resume: dict | None = None  # finished benchmarks are found under output_prefix instead
    max_length: int | None = None  # tokens per sequence; default: the model's max positions


# ---- the run ----------------------------------------------------------------------------------

def _where(bench: dict) -> str:
    return f"benchmark {bench['name']!r} ({bench['uri']})"


def load_rows(bench: dict, formulation: str = "mcf") -> list[dict]:
    """The benchmark's rows, each checked against its layout (a bad file fails before any model loads)."""
    import pyarrow.parquet as pq

    import pyarrow as pa

    where = _where(bench)
    # A split may be sharded (test-00000-of-00002.parquet ...): the recipe names it with a glob.
    table = pa.concat_tables([pq.read_table(p) for p in hub.resolve_files(bench["uri"])], promote_options="default")
    check_columns(bench["format"], table.column_names, where)
    rows = table.to_pylist()
    for row in rows:
        to_doc(bench["format"], row, where, formulation)
    if not rows:
        raise bad_input(f"{where} has no rows")
    return rows


def chat_prompt(tokenizer, model_uri: str) -> Callable[[str], str]:
    """The model's chat template around one user turn, the assistant's turn opened."""
    if not getattr(tokenizer, "chat_template", None):
        raise bad_input(f"stages.evaluate.chat_template is on but {model_uri} has no chat template "
                        "(tokenizer_config.json chat_template); turn it off for base models without one")

    def wrap(user_text: str) -> str:
        return tokenizer.apply_chat_template([{"role": "user", "content": user_text}], tokenize=False,
                                             add_generation_prompt=True)
    return wrap


def _load_model(uri: str):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = hub.resolve(uri)
    cuda = torch.cuda.is_available()
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16 if cuda else torch.float32)
    model.to("cuda" if cuda else "cpu").eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    return model, tokenizer


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def _score(cfg: Config, todo: list[tuple[int, dict, list[dict], str]], batch_size: int,
           halvings: int) -> dict[str, dict[str, Any]]:
    """Load the model once and score each (index, benchmark, rows, result URI) still to do."""
    results: dict[str, dict[str, Any]] = {}
    model, tokenizer = _load_model(cfg.model)
    limit = cfg.max_length or min(getattr(model.config, "max_position_embeddings", None) or 4096,
                                  tokenizer.model_max_length or 4096)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def encode(text: str, add_special_tokens: bool = True) -> list[int]:
        return tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"]

    chat = chat_prompt(tokenizer, cfg.model) if cfg.chat_template else None
    for i, bench, rows, saved in todo:
        docs = [to_doc(bench["format"], row, _where(bench), cfg.formulation, chat) for row in rows]
        requests = build_requests(docs, encode, limit)
        done = [0]

        def tick(n: int, i: int = i) -> None:
            done[0] += n
            progress.emit_progress("evaluate", i, len(cfg.benchmarks), None,
                                   requests_done=done[0], requests_total=len(requests))

        try:
            logprobs = score_requests(model, requests, batch_size, pad_id, tick)
        except Exception as e:  # finished benchmarks are kept: the retry scores only the rest
            if oom.is_oom(e):
                raise oom.after_inference_oom(e, batch_size, halvings, cfg.output_prefix, "stages.evaluate.batch_size") from e
            raise
        results[bench["name"]] = {"format": bench["format"], "uri": bench["uri"],
                                  **accuracy(docs, requests, logprobs)}
        store.write_bytes(saved, json.dumps(results[bench["name"]], indent=2).encode())
    return results


def _saved(cfg: Config, bench: dict) -> str:
    return store.join(cfg.output_prefix, "benchmarks", f"{_slug(bench['name'])}.json")


def _own(cfg: Config, results: dict[str, dict[str, Any]], batch_size: int, halvings: int) -> None:
    todo = [(i, b, benchmark_split.select(load_rows(b, cfg.formulation), cfg.split, _where(b)), _saved(cfg, b))
            for i, b in enumerate(cfg.benchmarks) if b["name"] not in results]
    if todo:  # every file was read above, before the (slow) model load, so a bad one fails fast
        results.update(_score(cfg, todo, batch_size, halvings))


def _lighteval(cfg: Config, results: dict[str, dict[str, Any]], batch_size: int) -> None:
    """The benchmarks still to do, on their leaderboard tasks, in one lighteval run."""
    todo = [b for b in cfg.benchmarks if b["name"] not in results]
    families = lighteval_harness.families(cfg.benchmarks)
    needed = [f for b, f in zip(cfg.benchmarks, families) if b in todo]
    if not needed:
        return
    mirror = lighteval_harness.check_data(needed)  # before the model loads: offline fails at once
    tasks = [t for f in needed for t in f.task_names()]
    done = [0]

    def tick(_: dict) -> None:
        done[0] += 1
        progress.emit_progress("evaluate", done[0], len(tasks), None)

    scored = lighteval_harness.run_tasks(cfg.model, tasks, batch_size, mirror,
                                         scratch_dir(cfg.stage_key) / "lighteval", tick)
    for bench, family in zip(cfg.benchmarks, families):
        if bench in todo:
            results[bench["name"]] = lighteval_harness.fold(family, scored)
            store.write_bytes(_saved(cfg, bench), json.dumps(results[bench["name"]], indent=2).encode())


def _run(cfg: Config) -> dict:
    save_config(cfg)
    names = [b["name"] for b in cfg.benchmarks]
    if len(set(names)) != len(names):
        raise bad_input(f"evaluate.benchmarks names must be unique (got {names})")
    if cfg.harness not in ("own", "lighteval"):
        raise bad_input(f"stages.evaluate.harness must be own or lighteval (got {cfg.harness!r})")
    if cfg.harness == "lighteval" and (cfg.formulation != "mcf" or cfg.chat_template):
        raise bad_input("harness lighteval scores the leaderboard's tasks as the leaderboard does (mcf, no chat "
                        "template); set stages.evaluate.formulation: mcf and chat_template: false, or harness: own")
    if cfg.harness == "lighteval" and cfg.split is not None:
        raise bad_input("harness lighteval loads the leaderboard's tasks whole, so their rows cannot be split into "
                        "validation and test; set stages.choose.enabled: false and stages.evaluate.validation.fraction: 0, "
                        "or harness: own")
    results: dict[str, dict[str, Any]] = {}
    for bench in cfg.benchmarks:  # an earlier attempt finished these: same prefix means same inputs
        if store.exists(_saved(cfg, bench)):
            results[bench["name"]] = json.loads(store.fetch(_saved(cfg, bench)).read_text())

    progress.emit_progress("load", len(results), len(cfg.benchmarks))
    # An earlier attempt that ran out of memory left a smaller batch for this one.
    batch_size, halvings = oom.inference_batch(cfg.batch_size, cfg.output_prefix)
    if cfg.harness == "lighteval":
        _lighteval(cfg, results, batch_size)
        prompts = lighteval_harness.PROMPTS
    else:
        _own(cfg, results, batch_size, halvings)
        prompts = ("lighteval OALL v2 prompt functions, zero-shot" if cfg.formulation == "mcf"
                   else "cloze: the question alone, each option's text scored, zero-shot")
        prompts += ", in the model's chat template" if cfg.chat_template else ""
    results = {b["name"]: results[b["name"]] for b in cfg.benchmarks}  # the recipe's order
    scores = {name: r["acc_norm"] for name, r in results.items()}
    average = sum(scores.values()) / len(scores)
    # No timings in the report: a re-run (or a resumed one) must write the same bytes; the
    # activity's `run` carries the seconds.
    # The stage key too: an artifact's lineage is filed under its digest, and a base model's report
    # would otherwise have the same bytes in every campaign, whatever SFT and merge its stage read.
    report = {"model": cfg.model, "stage_key": cfg.stage_key, "metric": METRIC, "prompts": prompts,
              "benchmarks": results, "average_acc_norm": average,
              # Which rows were scored: a report of a part says so (one of every row does not).
              **({"split": cfg.split} if cfg.split is not None else {})}
    local = scratch_dir(cfg.stage_key) / "report.json"
    local.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    ref = store.publish_file(local, store.join(cfg.output_prefix, "report.json"), "report")
    progress.emit_progress("evaluate", len(cfg.benchmarks), len(cfg.benchmarks), None, average=average)
    return {"scores": scores, "average": average, "report": ref,
            # What it scored with: the recipe's batch, or the halved one after out-of-memory retries.
            "batch_size": batch_size, "oom_halvings": halvings}


def main(argv: list[str] | None = None) -> int:
    return run(Config, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
