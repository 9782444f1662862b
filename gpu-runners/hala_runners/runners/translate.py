"""Translate one shard of texts with the teacher or the translator (activity translate_shard).

    python -m hala_runners.runners.translate --config config.json
        one shard, engine loaded for it (debugging, one-off runs)
    python -m hala_runners.runners.translate --serve --model hf://org/name --engine auto
        long-lived engine process of the infer worker: loads the model once, then reads one Config
        JSON object per stdin line and answers each with progress events and one result/error event;
        after a failure the shard does not explain (SHARD_FAILURES), the engine may be dead (vLLM's
        EngineDeadError) or its CUDA context poisoned, so the error event says `exiting` and it exits

Input shard parquet: `id`, `text`. Output: `<output_prefix>/translations.parquet` with `id`, `text`,
`translation`, and `<output_prefix>/config.json`.
Resume: every `batch_size` rows form a chunk, written as soon as its last row is translated to
`<output_prefix>/partial/chunk-NNNNN.parquet` (atomic). A retry reuses every finished chunk (reported
as `resumed_rows`) and translates only the rest; greedy decoding makes mixed attempts consistent.
The transformers engine translates chunk after chunk; vLLM gets every chunk left at once and its
scheduler batches the rows (engines.base.TranslationEngine.translate_chunks).
Out of memory: the retry sends half as many rows per engine call (runners/oom.py; the transformers
engine: vLLM sizes its own batches); chunks keep their size.
Rows that fail alone: when the engine raises with an error a row can explain, the chunks left go one
call each and a failing chunk row by row; the rows that fail alone are quarantined (recorded with
their error and attempts in `<output_prefix>/partial/quarantine.json`, published as
`<output_prefix>/quarantine.parquet`) and the shard completes without them (runners/quarantine.py).
A finished chunk holds no line for its quarantined rows, so nothing reading translations (assembly,
a translation cache) ever sees one.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .. import hub, progress, store, translation_cache
from . import oom, quarantine
from ..errors import bad_input, classify
from ..runner_harness import config_from_dict, exit_with_parent, report_failure, run, save_config, scratch_dir

TOKENS_KEY = b"hala_generated_tokens"  # parquet metadata of a chunk: tokens generated for it
# Failures of a shard, not of the engine: a --serve engine keeps its model loaded after them.
SHARD_FAILURES = ("BadInput", "ArtifactCorrupt", "StorageUnavailable")


@dataclass(kw_only=True)
class Config:
    stage_key: str
    output_prefix: str
    model: str              # hf://, file:// or s3:// model directory
    shard: dict             # ArtifactRef of the input parquet (id, text)
    engine: str             # auto | vllm | transformers
    batch_size: int         # rows per engine call and per resume chunk
    max_new_tokens: int     # cap on generated tokens per row
    tensor_parallel_size: int  # GPUs one engine of the model spans (vLLM)
    prompt_template: str    # single user turn; `{text}` is replaced by the source text
    resume: dict | None = None  # last heartbeat of a previous attempt (informational: chunks rule)
    cache: dict | None = None   # {parts_prefix, campaign_id}: register the published shard (translation_cache.py)


def chunk_uri(cfg: Config, k: int) -> str:
    return store.join(cfg.output_prefix, "partial", f"chunk-{k:05d}.parquet")


def read_shard(cfg: Config) -> tuple[list[str], list[str]]:
    import pyarrow.parquet as pq

    path = store.fetch(cfg.shard)  # verifies the digest against the reference
    names = pq.read_schema(path).names
    missing = [c for c in ("id", "text") if c not in names]
    if missing:
        raise bad_input(f"translate_shard.shard {cfg.shard['uri']} lacks column(s) {missing} "
                        f"(has {names}); shards are parquet with string columns id, text")
    table = pq.read_table(path, columns=["id", "text"])
    return [str(v) for v in table.column("id").to_pylist()], [v or "" for v in table.column("text").to_pylist()]


def load_chunk(cfg: Config, k: int, ids: list[str], quarantined: dict[str, dict]) -> tuple[dict[str, str], int] | None:
    """Translations ({id: translation}) and token count of finished chunk k, or None if absent or not
    for these rows. A finished chunk lacks only rows the quarantine record holds (runners/quarantine.py)."""
    import pyarrow.parquet as pq

    uri = chunk_uri(cfg, k)
    if not store.exists(uri):
        return None
    table = pq.read_table(store.fetch(uri))
    held = table.column("id").to_pylist()
    if held != [i for i in ids if i in set(held)] or any(i not in quarantined for i in set(ids) - set(held)):
        # never expected: the stage key pins shard and batch size
        print(f"translate: {uri} holds other rows; translating the chunk again", file=sys.stderr)
        return None
    tokens = int((table.schema.metadata or {}).get(TOKENS_KEY, b"0"))
    return dict(zip(held, table.column("translation").to_pylist())), tokens


def save_chunk(cfg: Config, k: int, ids: list[str], translations: dict[str, str], tokens: int) -> None:
    """Chunk k's translated rows, in shard order (a quarantined row has none)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    kept = [i for i in ids if i in translations]
    table = pa.table({"id": kept, "translation": [translations[i] for i in kept]}).replace_schema_metadata({TOKENS_KEY: str(tokens)})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    store.write_bytes(chunk_uri(cfg, k), buf.getvalue())


def translate_shard(cfg: Config, engine) -> dict:
    """Translate the shard with a loaded engine, reusing finished chunks; return TranslateShardOutput."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..engines import check_template

    started = time.monotonic()
    check_template(cfg.prompt_template)
    if cfg.batch_size < 1 or cfg.max_new_tokens < 1:
        raise bad_input(f"translate_shard.batch_size and max_new_tokens must be >= 1 "
                        f"(got {cfg.batch_size}, {cfg.max_new_tokens})")
    save_config(cfg)
    ids, texts = read_shard(cfg)
    total, bs = len(ids), cfg.batch_size
    # An earlier attempt that ran out of memory left a smaller engine batch; chunks stay `bs` rows.
    engine_batch, halvings = oom.inference_batch(bs, cfg.output_prefix)
    rows = [slice(k * bs, (k + 1) * bs) for k in range(math.ceil(total / bs))]
    held = quarantine.load(cfg.output_prefix)  # rows earlier attempts set aside, with their attempts
    chunks = [load_chunk(cfg, k, ids[r], held) for k, r in enumerate(rows)]  # ({id: translation}, tokens) or None: to do
    todo = [k for k, chunk in enumerate(chunks) if chunk is None]
    resumed = sum(len(chunk[0]) for chunk in chunks if chunk is not None)
    done_rows = total - sum(len(ids[rows[k]]) for k in todo)  # translated or quarantined
    tokens_now, gen_seconds = 0, 0.0

    def report() -> None:
        progress.emit_progress("translate", done_rows, total, checkpoint_uri=store.join(cfg.output_prefix, "partial"),
                               tokens_per_second=tokens_now / gen_seconds if gen_seconds else 0.0)

    def finish(k: int, out: dict[str, str], tokens: int, now_held: dict[str, dict]) -> None:
        """Chunk k is done: its quarantined rows are recorded before the chunk that lacks them is saved."""
        nonlocal tokens_now, held
        chunk_ids = ids[rows[k]]
        after = {i: row for i, row in held.items() if i not in chunk_ids or i in now_held} | now_held
        if after != held:
            quarantine.save(cfg.output_prefix, after)
            held = after
        save_chunk(cfg, k, chunk_ids, out, tokens)
        chunks[k] = (out, tokens)
        tokens_now += tokens

    if resumed:
        report()
    try:
        # A finished chunk that lacks quarantined rows: each gets one more try in this attempt.
        for k, chunk in enumerate(chunks):
            again = [n for n, i in enumerate(ids[rows[k]]) if chunk is not None and i not in chunk[0]]
            if again:
                t0 = time.monotonic()
                out, tokens, still = quarantine.each_alone(engine, [ids[rows[k]][n] for n in again], [texts[rows[k]][n] for n in again],
                                                           cfg.max_new_tokens, cfg.prompt_template, held)
                gen_seconds += time.monotonic() - t0
                finish(k, {**chunk[0], **out}, chunk[1] + tokens, still)
        # Chunks come back as they finish (all at once for vLLM, one by one otherwise); each is saved then.
        pending = engine.translate_chunks([texts[rows[k]] for k in todo], engine_batch, cfg.max_new_tokens, cfg.prompt_template)
        t0 = time.monotonic()
        try:
            with contextlib.closing(pending):  # stopping early (a chunk not saved) lets the engine drop the rest
                for i, out, tokens in pending:
                    gen_seconds += time.monotonic() - t0
                    finish(todo[i], dict(zip(ids[rows[todo[i]]], out)), tokens, {})
                    done_rows += len(out)
                    report()
                    t0 = time.monotonic()
        except Exception as e:  # noqa: BLE001 - only a row's failure is handled here; the rest is re-raised
            if not quarantine.row_failure(e):
                raise
            # vLLM raised before generating anything (a row refused at enqueue), transformers at the
            # chunk it was on: the chunks left go one call each, and a failing one row by row.
            print(f"translate: {type(e).__name__}: {str(e)[:300]}; translating the chunks left one by one "
                  f"to find the rows that fail alone", file=sys.stderr)
            for k in [k for k in todo if chunks[k] is None]:
                t0 = time.monotonic()
                out, tokens, bad = quarantine.translate_rows(engine, ids[rows[k]], texts[rows[k]], engine_batch,
                                                             cfg.max_new_tokens, cfg.prompt_template, held)
                gen_seconds += time.monotonic() - t0
                finish(k, out, tokens, bad)
                done_rows += len(ids[rows[k]])
                report()
    except Exception as e:
        if oom.is_oom(e):
            raise oom.after_inference_oom(e, engine_batch, halvings, cfg.output_prefix,
                                          "generation.teacher.batch_size / generation.translator.batch_size") from e
        raise
    missing = [k for k in todo if chunks[k] is None]
    if missing:  # an engine bug, never expected: better no output than a shard with holes
        raise RuntimeError(f"the {engine.name} engine finished without translating chunk(s) {missing} of {len(rows)}")
    translated = {i: t for chunk in chunks for i, t in chunk[0].items()}
    tokens_total = sum(chunk[1] for chunk in chunks)
    kept = [n for n, i in enumerate(ids) if i in translated]

    scratch = scratch_dir(cfg.stage_key)
    local = scratch / "translations.parquet"
    pq.write_table(pa.table({"id": [ids[n] for n in kept], "text": [texts[n] for n in kept],
                             "translation": [translated[ids[n]] for n in kept]}), local)
    ref = store.publish_file(local, store.join(cfg.output_prefix, "translations.parquet"), "dataset", rows=len(kept))
    quarantined = quarantine.publish(cfg.output_prefix, held, scratch)
    translation_cache.register_part(cfg.cache, cfg.stage_key, ref)
    return {"translations": ref, "rows": total, "generated_tokens": tokens_total,
            "seconds": round(time.monotonic() - started, 3),
            "tokens_per_second": round(tokens_now / gen_seconds, 3) if gen_seconds else 0.0,
            "engine": engine.name, "resumed_rows": resumed,
            # What it ran with: the recipe's batch, or the halved one after out-of-memory retries.
            "engine_batch_size": engine_batch, "oom_halvings": halvings,
            # Rows of the shard with no translation: the engine raised on each alone (runners/quarantine.py).
            "quarantined_rows": len(held), **({"quarantine": quarantined} if quarantined else {})}


def open_engine(model: str, engine: str, tensor_parallel_size: int = 1):
    from ..engines import load_engine, select_engine

    name = select_engine(engine)
    model_dir = hub.resolve(model)
    progress.emit_progress("load", 0, 1)
    loaded = load_engine(name, Path(model_dir), tensor_parallel_size)
    progress.emit_progress("load", 1, 1)
    return loaded


def _run(cfg: Config) -> dict:
    return translate_shard(cfg, open_engine(cfg.model, cfg.engine, cfg.tensor_parallel_size))


def serve(argv: list[str]) -> int:
    """Load the engine once, then answer one shard config per stdin line until stdin closes."""
    parser = argparse.ArgumentParser(description="long-lived translation engine (JSON lines on stdin)")
    parser.add_argument("--serve", action="store_true", required=True)
    parser.add_argument("--model", required=True, help="hf://, file:// or s3:// model directory")
    parser.add_argument("--engine", default="auto", help="auto | vllm | transformers")
    parser.add_argument("--tensor-parallel-size", type=int, default=1, help="GPUs the engine spans (vLLM)")
    args = parser.parse_args(argv)
    exit_with_parent()
    engine = None
    for line in sys.stdin:  # EOF: the worker closed our stdin (or died): exit and free the GPU
        if not line.strip():
            continue
        try:
            if engine is None:  # loaded on the first request, so its failure is that request's error
                engine = open_engine(args.model, args.engine, args.tensor_parallel_size)
            cfg = config_from_dict(Config, json.loads(line), "the engine request on stdin")
            served = (args.model, args.engine, args.tensor_parallel_size)
            if (cfg.model, cfg.engine, cfg.tensor_parallel_size) != served:
                raise bad_input(f"this engine serves {served}; got a shard for {(cfg.model, cfg.engine, cfg.tensor_parallel_size)}: "
                                f"route it to its own engine process")
            progress.emit_result(translate_shard(cfg, engine))
        except Exception as e:  # noqa: BLE001 - one bad shard must not take the loaded model down
            err = classify(e)
            # The model stays loaded only when the shard explains the failure. After anything else (a
            # failed load, out of memory, vLLM's EngineDeadError, an unknown exception) the engine may
            # be dead or its CUDA context poisoned: exit, and the worker starts a fresh one.
            exiting = engine is None or err.type not in SHARD_FAILURES
            report_failure(e, err, exiting=exiting)
            if exiting:
                return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--serve" in argv:
        return serve(argv)
    return run(Config, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
