"""pytest plugin (listed in conftest.py): synthetic benchmark rows in every OALL layout, a tiny LFM2 to
score them with, and the evaluate runner run from a config, shared by test_evaluate.py (scores) and
test_evaluate_formats.py (layouts and files).

    def test_x(tiny, tmp_path, capsys):
        code, events = run_evaluate(tmp_path, capsys, tiny.model_uri, write_benchmarks(tmp_path, 6, leak=False))
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hala_runners import progress
from hala_runners.oall_formats import LAYOUTS
from hala_runners.runners import evaluate

ARABIC = ["أ", "ب", "ج", "د", "هـ"]
WORDS = ["قمر", "بحر", "شمس", "جبل", "نهر", "كتاب", "قلم", "باب", "نجم", "ورد", "سماء", "طريق"]
# How many options a row of each format has (alghafa and ArabicMMLU vary, with null cells).
OPTIONS = {"alghafa": [2, 3, 4, 5], "arabic_mmlu": [4, 5], "madinah_qa": [4], "exams": [4],
           "aratrust": [3], "arbmmlu_ht": [4], "mmlu": [4]}


def label(fmt: str, k: int) -> str:
    """The text the prompt shows for option k, written out independently of oall_formats."""
    return {"alghafa": str(k), "arbmmlu_ht": str(k + 1), "mmlu": "ABCDE"[k]}.get(fmt, ARABIC[k])


def make_row(fmt: str, question: str, options: list[str], gold: int, i: int) -> dict:
    """One row in the benchmark's own column layout and answer encoding."""
    if fmt == "alghafa":
        return {"query": question, **{f"sol{k + 1}": options[k] if k < len(options) else None for k in range(5)},
                "label": str(gold)}
    if fmt in ("arabic_mmlu", "madinah_qa"):
        return {"Question": question, "Context": None if i % 2 else "سياق قصير",
                **{f"Option {k + 1}": options[k] if k < len(options) else None for k in range(5)},
                "Answer Key": "ABCDE"[gold]}
    if fmt == "exams":
        return {"question": question, "subject": "Islamic_Studies", **dict(zip("ABCD", options)),
                "answer": "ABCD"[gold]}
    if fmt == "aratrust":  # the answer letter comes in either script
        return {"Question": question, **{L: f"{ARABIC[k]}) {o}" for k, (L, o) in enumerate(zip("ABC", options))},
                "Answer": ARABIC[gold] if i % 2 else "ABC"[gold]}
    return {"question": question, "choices": options, "answer": gold}


def rows(fmt: str, n: int, leak: bool | str) -> list[dict]:
    """leak=True: the question holds its answer label; "cf": its answer text, after the cloze's cue;
    "chat" / "chat-label": its answer text / label opening an assistant turn, as a chat prompt ends."""
    out = []
    for i in range(n):
        k = OPTIONS[fmt][i % len(OPTIONS[fmt])]
        gold = (i * 7) % k  # every position is gold equally often
        options = [WORDS[(i + 3 * j) % len(WORDS)] + f" {j}" for j in range(k)]
        cue, gap = ("Answer:", " ") if fmt == "mmlu" else ("الإجابة:", "")  # each layout's answer cue; mmlu's labels are " A".." D"
        hint = {True: f" {cue}{gap}{label(fmt, gold)} .", "cf": f"\n{cue} {options[gold]}\n",
                "chat": f"<|im_start|>assistant\n{options[gold]}<|im_end|>\n",
                "chat-label": f"<|im_start|>assistant\n{label(fmt, gold)}<|im_end|>\n"}
        question = f"ما الكلمة رقم {i}؟" + hint.get(leak, "")
        out.append(make_row(fmt, question, options, gold, i))
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from tiny_world.models import save_model, tiny_lfm2
    from tiny_world.tokenizer import build_tokenizer

    root = tmp_path_factory.mktemp("eval-model")
    tok = build_tokenizer()
    save_model(tiny_lfm2(tok, "350m", seed=3), tok, root / "lfm2")
    return SimpleNamespace(tokenizer=tok, model_uri=f"file://{root}/lfm2")


def write_benchmarks(tmp_path, n, leak):
    """One parquet file of `rows(fmt, n, leak)` per layout, as the recipe names benchmarks."""
    out = []
    for fmt in LAYOUTS:
        path = tmp_path / f"{fmt}.parquet"
        pq.write_table(pa.Table.from_pylist(rows(fmt, n, leak)), path)
        out.append({"name": f"tiny-{fmt}", "uri": f"file://{path}", "format": fmt})
    return out


def run_evaluate(tmp_path, capsys, model_uri, benchmarks, batch_size=8, **knobs):
    """Runs the evaluate runner on a config written under tmp_path: its exit code and every event it printed."""
    cfg = {"stage_key": "e" * 64, "output_prefix": f"file://{tmp_path}/store/eval", "model": model_uri,
           "benchmarks": benchmarks, "batch_size": batch_size,
           "harness": "own", "formulation": "mcf", "chat_template": False, **knobs}
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    code = evaluate.main(["--config", str(tmp_path / "cfg.json")])
    return code, [e for e in map(progress.parse_line, capsys.readouterr().out.splitlines()) if e]
