"""Rows that fail alone: a row the engine raises on is set aside with its error, not the shard.

When an engine call raises with an error a row can explain (a chat template choking on a text, a
prompt longer than the model's context), the runner translates the call's chunks again one by one
and, within a chunk that still fails, each row alone: the rows that fail alone are quarantined, the
others translated. Errors of the engine or the machine are never blamed on a row (out of memory:
runners/oom.py; a dead engine; storage; our own HalaErrors), and a chunk whose every row fails alone
is the engine's failure, not its rows' (one row cannot tell: it is quarantined).

vLLM 0.33 (images/infer/requirements.lock), what raises where:
- per row, before any generation: LLM.enqueue_chat renders each conversation (a chat template's
  jinja2 error) and adds it (vllm/v1/engine/input_processor.py:566 an empty prompt, :588 a prompt
  longer than max_model_len, :598 one exactly as long: VLLMValidationError, a VLLMClientError); on
  the first failure vllm/entrypoints/common/offline.py:539-564 aborts the requests it already
  added and re-raises, so the engine is left idle and usable: isolated here.
- the engine: EngineDeadError (a VLLMServerError, vllm/v1/engine/exceptions.py) from step() once
  EngineCore died (vllm/v1/engine/core_client.py:588, :809); a CUDA fault (torch.AcceleratorError,
  "CUDA error: ..."): never isolated; the engine process exits (runners/translate.py serve).

The record `<output_prefix>/partial/quarantine.json` ({id: row}) lives beside the resume chunks,
written before the chunk that lacks its rows, so a retry of the activity finds both: it keeps the
finished chunks, tries each quarantined row once more (greedy decoding: a row that fails again
counts one more attempt; one that now passes joins its chunk) and publishes the survivors as
`<output_prefix>/quarantine.parquet` (id, text, error_type, error, attempts).
"""
from __future__ import annotations

import json

from .. import store
from ..errors import HalaError, classify

# Exception classes (by name: vLLM is not importable here) that say the engine, not a row, failed.
_ENGINE_FAILURES = ("EngineDeadError", "EngineGenerateError", "VLLMServerError", "AcceleratorError")
_MAX_ERROR_CHARS = 2000  # enough for a validation message; a traceback-long one is cut


def row_failure(exc: BaseException) -> bool:
    """Could a row explain this error (worth isolating), or is it the engine's or the machine's?"""
    if isinstance(exc, HalaError):  # ours already carry their type (BadInput, Preempted, ...)
        return False
    if any(c.__name__ in _ENGINE_FAILURES for c in type(exc).__mro__):
        return False
    if "CUDA error" in str(exc):  # a device fault poisons the context whatever the row
        return False
    return classify(exc).type == "RunnerFailed"  # not out of memory, storage or the hub


def record_uri(output_prefix: str) -> str:
    return store.join(output_prefix, "partial", "quarantine.json")


def load(output_prefix: str) -> dict[str, dict]:
    """Rows an earlier attempt quarantined, by id: {id, text, error_type, error, attempts}."""
    uri = record_uri(output_prefix)
    return json.loads(store.read_bytes(uri)) if store.exists(uri) else {}


def save(output_prefix: str, rows: dict[str, dict]) -> None:
    store.write_bytes(record_uri(output_prefix), json.dumps(rows, ensure_ascii=False).encode())


def failed(row_id: str, text: str, exc: BaseException, before: dict[str, dict]) -> dict:
    """The quarantine row of `row_id` after it failed in this attempt (one more than it had)."""
    return {"id": row_id, "text": text, "error_type": type(exc).__name__, "error": str(exc)[:_MAX_ERROR_CHARS],
            "attempts": before.get(row_id, {}).get("attempts", 0) + 1}


def translate_rows(engine, ids: list[str], texts: list[str], engine_batch: int, max_new_tokens: int, template: str,
                   before: dict[str, dict]) -> tuple[dict[str, str], int, dict[str, dict]]:
    """Translate a chunk, isolating the rows it fails on: ({id: translation}, tokens, {id: quarantine row}).

    The chunk goes to the engine whole first (the common case: it passes); if it raises with a row
    failure, each row goes alone. Any other error propagates, as does the chunk's own error when
    every one of several rows fails alone (then the engine is broken, not the rows).
    """
    try:
        out, tokens = engine.translate(texts, engine_batch, max_new_tokens, template)
        return dict(zip(ids, out)), tokens, {}
    except Exception as e:  # noqa: BLE001 - sorted by row_failure; the rest is re-raised
        if not row_failure(e):
            raise
        chunk_error = e
    done, tokens, quarantined = each_alone(engine, ids, texts, max_new_tokens, template, before)
    if len(ids) > 1 and not done:
        raise chunk_error
    return done, tokens, quarantined


def each_alone(engine, ids: list[str], texts: list[str], max_new_tokens: int, template: str,
               before: dict[str, dict]) -> tuple[dict[str, str], int, dict[str, dict]]:
    """Each row in an engine call of its own: ({id: translation}, tokens, {id: quarantine row})."""
    done: dict[str, str] = {}
    quarantined: dict[str, dict] = {}
    tokens = 0
    for row_id, text in zip(ids, texts):
        try:
            [translation], n = engine.translate([text], 1, max_new_tokens, template)
        except Exception as e:  # noqa: BLE001 - sorted by row_failure; the rest is re-raised
            if not row_failure(e):
                raise
            quarantined[row_id] = failed(row_id, text, e, before)
            continue
        done[row_id] = translation
        tokens += n
    return done, tokens, quarantined


def publish(output_prefix: str, rows: dict[str, dict], local_dir) -> dict | None:
    """`<output_prefix>/quarantine.parquet` as an ArtifactRef, or None when no row is quarantined."""
    if not rows:
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    ordered = list(rows.values())
    table = pa.table({
        "id": [r["id"] for r in ordered], "text": [r["text"] for r in ordered],
        "error_type": [r["error_type"] for r in ordered], "error": [r["error"] for r in ordered],
        "attempts": pa.array([r["attempts"] for r in ordered], pa.int64()),
    })
    local = local_dir / "quarantine.parquet"
    pq.write_table(table, local)
    return store.publish_file(local, store.join(output_prefix, "quarantine.parquet"), "dataset", rows=len(ordered))
