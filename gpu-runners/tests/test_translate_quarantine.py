"""Rows that fail alone: a row the engine raises on is quarantined, the shard completes without it."""
from __future__ import annotations

import pyarrow.parquet as pq

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
