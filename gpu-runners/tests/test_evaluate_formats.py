"""runners/evaluate.py + oall_formats.py on benchmark files: each layout's columns, labels and answer
encodings (and the cloze / chat prompts built from them), bad rows and missing columns named, a split
sharded over several files, and the tiny world's own benchmarks.

    PYTHONPATH=gpu-runners python -m pytest gpu-runners/tests/test_evaluate_formats.py -q
"""
from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from eval_world import rows, run_evaluate

from hala_runners import store
from hala_runners.oall_formats import LAYOUTS, McqDoc


def test_cloze_scores_option_texts_after_the_question_and_chat_wraps_the_user_turn():
    from hala_runners.oall_formats import to_doc

    trust = {"Question": "q", "A": "أ) نعم", "B": "ب) لا", "C": "ج) ربما", "Answer": "ب"}
    doc = to_doc("aratrust", trust, "trust.parquet", "cf")
    assert doc == McqDoc("q\nالإجابة:", [" نعم", " لا", " ربما"], 1)  # AraTrust's own labels are dropped
    madinah = {"Question": "q", "Context": "c", "Option 1": "x", "Option 2": "y", "Answer Key": "B"}
    chat = lambda text: f"<user>{text}</user><reply>"  # noqa: E731
    assert to_doc("madinah_qa", madinah, "m.parquet", "cf", chat) == McqDoc("<user>c\nq</user><reply>", ["x", "y"], 1)
    labels = to_doc("madinah_qa", madinah, "m.parquet", "mcf", chat)
    assert labels.query.startswith("<user>") and labels.query.endswith("الإجابة:</user><reply>")
    assert labels.choices == ["أ", "ب"]


def test_the_mmlu_layout_lists_lettered_choices_and_scores_their_texts_as_a_cloze():
    from hala_runners.errors import HalaError
    from hala_runners.oall_formats import to_doc

    row = {"question": "q", "subject": "high_school_biology", "choices": ["x", "y", "z", "w"], "answer": 2}
    doc = to_doc("mmlu", row, "mmlu.parquet")
    assert doc.query == ("The following are multiple choice questions (with answers) about high school biology.\n\n"
                         "q\nA. x\nB. y\nC. z\nD. w\nAnswer:")
    assert (doc.choices, doc.gold_index) == ([" A", " B", " C", " D"], 2)
    assert to_doc("mmlu", row, "mmlu.parquet", "cf") == McqDoc("q\nAnswer:", [" x", " y", " z", " w"], 2)
    with pytest.raises(HalaError, match="mmlu.parquet: row .* does not fit format 'mmlu'"):
        to_doc("mmlu", {**row, "answer": "C"}, "mmlu.parquet")


def test_formats_keep_option_letters_and_reject_impossible_answers():
    from hala_runners.errors import HalaError
    from hala_runners.oall_formats import to_doc

    row = {"Question": "q", "Context": None, "Option 1": "x", "Option 2": "y", "Option 3": None,
           "Option 4": "z", "Option 5": None, "Answer Key": "D"}
    doc = to_doc("arabic_mmlu", row, "mmlu.parquet")
    assert (doc.choices, doc.gold_index) == (["أ", "ب", "د"], 2)  # a null option keeps later letters
    assert doc.query.endswith("أ. x\nب. y\nد. z\nالإجابة:")
    with pytest.raises(HalaError, match=r"trust.parquet: row .* Answer='X' is not a letter"):
        to_doc("aratrust", {"Question": "q", "A": "a", "B": "b", "C": "c", "Answer": "X"}, "trust.parquet")
    with pytest.raises(HalaError, match="names an option the row does not have"):
        to_doc("arabic_mmlu", {**row, "Answer Key": "C"}, "mmlu.parquet")


def test_a_missing_column_is_bad_input_naming_file_column_and_layout(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    path = tmp_path / "exams.parquet"
    pq.write_table(pa.Table.from_pylist([{"question": "q", "A": "a", "B": "b", "C": "c", "D": "d"}]), path)
    code, events = run_evaluate(tmp_path, capsys, tiny.model_uri,
                             [{"name": "ex", "uri": f"file://{path}", "format": "exams"}])
    assert code == 1
    message = events[-1]["message"]
    assert events[-1]["type"] == "BadInput" and "exams.parquet" in message and "['answer']" in message
    assert "answer = a letter A-D" in message


def test_the_tiny_world_benchmarks_evaluate_in_every_format(hub_mirror, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    # The OALL layouts are the first world's benchmarks, mmlu the French world's.
    where = {fmt: f"hala-tiny/oall/{fmt}" for fmt in LAYOUTS} | {"mmlu": "hala-tiny-fr/mmlu/mmlu"}
    benchmarks = [{"name": fmt, "uri": f"hf://datasets/{where[fmt]}/test.parquet", "format": fmt}
                  for fmt in LAYOUTS]
    code, events = run_evaluate(tmp_path, capsys, "hf://hala-tiny/lfm2-350m", benchmarks, batch_size=16)
    assert code == 0, events[-1]
    result = events[-1]["result"]
    assert set(result["scores"]) == set(LAYOUTS)
    assert all(0.0 <= s <= 100.0 for s in result["scores"].values())


def test_a_split_sharded_over_several_files_is_named_by_a_glob(tiny, tmp_path, capsys, monkeypatch):
    """Hub benchmarks ship as test-0000k-of-0000n.parquet: one benchmark reads every shard."""
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    data = rows("exams", 8, leak=True)
    split = tmp_path / "split"
    split.mkdir()
    pq.write_table(pa.Table.from_pylist(data[:5]), split / "test-00000-of-00002.parquet")
    pq.write_table(pa.Table.from_pylist(data[5:]), split / "test-00001-of-00002.parquet")
    code, events = run_evaluate(tmp_path, capsys, tiny.model_uri,
                             [{"name": "ex", "uri": f"file://{split}/test-*.parquet", "format": "exams"}])
    assert code == 0, events[-1]
    report = json.loads(store.fetch(events[-1]["result"]["report"]).read_text())
    assert report["benchmarks"]["ex"]["rows"] == 8
