"""Rows that fail alone: a row the engine raises on is quarantined, the shard completes without it."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hala_runners import contract, store
from hala_runners.runners.translate import Config, translate_shard
from test_translate import StubEngine, _payload, _shard

POISON = "{{ a row the chat template chokes on }}"


class PoisonEngine(StubEngine):
    """Raises, as a chat template's error does, on any call holding the poison row; translates the rest."""

    def translate(self, texts, batch_size, max_new_tokens, prompt_template):
        if POISON in texts:
            raise ValueError("jinja2.exceptions.TemplateSyntaxError: unexpected '}' (injected)")
        return super().translate(texts, batch_size, max_new_tokens, prompt_template)


def _texts(n: int, poison_at: int) -> list[str]:
    return [POISON if i == poison_at else f"sentence number {i}" for i in range(n)]


def test_a_poison_row_is_quarantined_and_the_shard_completes_without_it(work_dir):
    texts = _texts(10, poison_at=5)
    cfg = Config(**_payload(work_dir, _shard(work_dir, texts), batch_size=4))

    out = translate_shard(cfg, PoisonEngine())

    assert out["rows"] == 10 and out["quarantined_rows"] == 1
    table = pq.read_table(store.fetch(out["translations"]))
    assert "row-5" not in table.column("id").to_pylist()
    assert table.column("translation").to_pylist() == [t.upper() for i, t in enumerate(texts) if i != 5]
    quarantine = pq.read_table(store.fetch(out["quarantine"])).to_pylist()
    assert quarantine == [{"id": "row-5", "text": POISON, "error_type": "ValueError",
                           "error": "jinja2.exceptions.TemplateSyntaxError: unexpected '}' (injected)", "attempts": 1}]
    assert out["quarantine"]["uri"].endswith("/out/quarantine.parquet")
    contract.validate_output("translate_shard", out)


class PreemptedAfter(PoisonEngine):
    """The poison engine, preempted when asked for the row `dies_on` (a later chunk)."""

    def __init__(self, dies_on: str):
        super().__init__()
        self.dies_on = dies_on

    def translate(self, texts, batch_size, max_new_tokens, prompt_template):
        if self.dies_on in texts:
            raise ConnectionError("the node went away (injected)")
        return super().translate(texts, batch_size, max_new_tokens, prompt_template)


def test_a_retry_keeps_good_chunks_and_counts_one_more_attempt_for_a_row_that_fails_again(work_dir):
    texts = _texts(10, poison_at=1)
    cfg = Config(**_payload(work_dir, _shard(work_dir, texts), batch_size=4))

    from hala_runners.errors import classify
    with pytest.raises(ConnectionError) as first:  # chunks 0 (less its poison row) and 1 done, dies in 2
        translate_shard(cfg, PreemptedAfter(dies_on=texts[9]))
    assert classify(first.value).type == "StorageUnavailable"  # retried by Temporal, never isolated
    retry = PoisonEngine()
    out = translate_shard(cfg, retry)

    # The retry asks for the poison row alone once (it raises again: not in `seen`), then only the
    # chunk never finished; chunk 0 (less its poison row) and chunk 1 are kept.
    assert retry.seen == texts[8:], retry.seen
    assert (out["resumed_rows"], out["quarantined_rows"]) == (7, 1)
    [row] = pq.read_table(store.fetch(out["quarantine"])).to_pylist()
    assert (row["id"], row["attempts"]) == ("row-1", 2)
    assert len(pq.read_table(store.fetch(out["translations"]))) == 9


def test_a_row_that_passes_on_the_retry_leaves_the_quarantine(work_dir):
    texts = _texts(6, poison_at=2)
    cfg = Config(**_payload(work_dir, _shard(work_dir, texts), batch_size=4))
    with pytest.raises(ConnectionError):
        translate_shard(cfg, PreemptedAfter(dies_on=texts[5]))

    out = translate_shard(cfg, StubEngine())  # whatever broke the row is gone (a fixed template, say)

    assert out["quarantined_rows"] == 0 and "quarantine" not in out
    table = pq.read_table(store.fetch(out["translations"]))
    assert table.column("translation").to_pylist() == [t.upper() for t in texts]
    contract.validate_output("translate_shard", out)


class BrokenEngine(StubEngine):
    def translate(self, texts, batch_size, max_new_tokens, prompt_template):
        raise ValueError("the tokenizer lost its vocabulary (injected)")


def test_an_engine_that_fails_every_row_alone_fails_the_shard_instead_of_quarantining_it(work_dir):
    cfg = Config(**_payload(work_dir, _shard(work_dir, _texts(6, poison_at=-1)), batch_size=3))
    with pytest.raises(ValueError, match="lost its vocabulary"):
        translate_shard(cfg, BrokenEngine())
    assert not (work_dir / "store" / "out" / "partial" / "quarantine.json").exists()


def _error(name: str, bases: tuple = (Exception,), message: str = "boom") -> Exception:
    return type(name, bases, {})(message)


@pytest.mark.parametrize("exc, isolated", [
    (ValueError("The decoder prompt (length 9000) is longer than the maximum model length of 8192."), True),
    (_error("VLLMValidationError"), True),
    (_error("TemplateError"), True),  # jinja2's, from a chat template
    (_error("EngineDeadError", (_error("VLLMServerError").__class__,)), False),
    (_error("AcceleratorError", (RuntimeError,), "CUDA error: an illegal memory access was encountered"), False),
    (RuntimeError("CUDA error: device-side assert triggered"), False),
    (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), False),
    (ConnectionError("reset by peer"), False),
])
def test_only_errors_a_row_can_explain_are_isolated(exc, isolated):
    from hala_runners.runners.quarantine import row_failure

    assert row_failure(exc) is isolated


def test_hala_errors_are_never_blamed_on_a_row():
    from hala_runners.errors import HalaError
    from hala_runners.runners.quarantine import row_failure

    assert not row_failure(HalaError("Preempted", "SIGTERM"))
    assert not row_failure(HalaError("BadInput", "no such column"))


def test_a_quarantined_dev_row_scores_as_an_empty_hypothesis(work_dir):
    """The dev-set measurements (score_translation) score every reference: a row the engine raised on
    counts as an empty translation, lowering the score, never dropped from it (runners/score.py align)."""
    from hala_runners.runners.score import Config as ScoreConfig, _run as score

    texts = _texts(4, poison_at=3)
    out = translate_shard(Config(**_payload(work_dir, _shard(work_dir, texts), batch_size=4)), PoisonEngine())
    refs = work_dir / "refs.parquet"
    pq.write_table(pa.table({"id": [f"row-{i}" for i in range(4)], "reference": [t.upper() for t in texts]}), refs)
    ref = store.publish_file(refs, f"file://{work_dir}/store/in/refs.parquet", "dataset", rows=4)

    scored = score(ScoreConfig(stage_key="c" * 64, output_prefix=f"file://{work_dir}/store/score", hypotheses=out["translations"],
                               references=ref, tokenize="intl"))

    assert scored["rows"] == 4  # the quarantined row is scored, as ""
    assert 0 < scored["chrf"] < 100


def test_the_real_transformers_engine_translates_around_a_poison_row(hub_mirror, work_dir):
    """The tiny teacher on the transformers engine, its chat template made to fail on one row: the
    other rows, translated batched or alone after the failure, are still good translations."""
    from hala_runners.engines.transformers_engine import TransformersEngine
    from test_translate import _held_out, _template
    from tiny_world.teacher import chrf_pp

    class TemplateChokes(TransformersEngine):
        def translate(self, texts, batch_size, max_new_tokens, prompt_template):
            if POISON in texts:  # as jinja2 fails rendering a chat template on a row
                raise ValueError("TemplateError: the chat template cannot render this message (injected)")
            return super().translate(texts, batch_size, max_new_tokens, prompt_template)

    held, refs = _held_out(6)
    texts = held[:3] + [POISON] + held[3:]
    payload = {**_payload(work_dir, _shard(work_dir, texts), batch_size=4), "max_new_tokens": 96, "prompt_template": _template()}
    engine = TemplateChokes(hub_mirror / "hala-tiny" / "command-a-translate")

    out = translate_shard(Config(**payload), engine)

    assert (out["rows"], out["quarantined_rows"]) == (7, 1)
    table = pq.read_table(store.fetch(out["translations"]))
    assert table.column("id").to_pylist() == [f"row-{i}" for i in (0, 1, 2, 4, 5, 6)]
    score = chrf_pp(table.column("translation").to_pylist(), refs)
    print(f"translate: tiny teacher around a poison row, chrF++ {score:.1f} on the 6 other rows")
    assert score > 60, (score, table.column("translation").to_pylist()[:2], refs[:2])
