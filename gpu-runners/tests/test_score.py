"""runners/score.py: corpus BLEU / chrF++ joined on id, missing hypotheses counted as empty."""
from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sacrebleu.metrics import BLEU, CHRF

from hala_runners import contract, progress, store
from hala_runners.errors import HalaError
from hala_runners.runners import score

REFS = ["ذهب الولد إلى المدرسة، ثم عاد.", "القطة تنام على الكرسي!", "هل تحب القهوة؟", "The sky is blue today."]
HYPS = ["ذهب الولد إلى المدرسة ثم عاد.", "القطة نائمة على الكرسي!", "هل تحب الشاي؟", "The sky is blue."]


def test_pure_scores_match_sacrebleu_corpus_scores():
    for tokenize in ("intl", "13a"):
        bleu, chrf = score.corpus_scores(HYPS, REFS, tokenize)
        assert bleu == pytest.approx(BLEU(tokenize=tokenize).corpus_score(HYPS, [REFS]).score)
        assert chrf == pytest.approx(CHRF(word_order=2).corpus_score(HYPS, [REFS]).score)
    assert score.corpus_scores(REFS, REFS)[0] == pytest.approx(100.0)


def test_intl_splits_arabic_punctuation_where_13a_does_not():
    # The Arabic comma and question mark glued to a word: intl makes them separate tokens.
    hyp, ref = ["هل تحب القهوة ؟"], ["هل تحب القهوة؟"]
    assert score.corpus_scores(hyp, ref, "intl")[0] == pytest.approx(100.0)
    assert score.corpus_scores(hyp, ref, "13a")[0] < 100.0


def test_align_joins_on_id_and_scores_missing_hypotheses_as_empty():
    hyps = [{"id": "c", "translation": "z"}, {"id": "a", "translation": "x"}, {"id": "q", "translation": "extra"}]
    refs = [{"id": "a", "reference": "x"}, {"id": "b", "reference": "y"}, {"id": "c", "reference": "z"}]
    aligned = score.align(hyps, refs)
    assert aligned.hypotheses == ["x", "", "z"] and aligned.references == ["x", "y", "z"]
    assert (aligned.missing, aligned.extra) == (1, 1)
    with pytest.raises(HalaError, match="appears twice"):
        score.align(hyps + [{"id": "a", "translation": "again"}], refs)


def _parquet(tmp_path, name, rows):
    path = tmp_path / f"{name}.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return store.publish_file(path, f"file://{tmp_path}/store/{name}.parquet", "dataset", rows=len(rows))


def test_runner_scores_every_reference_and_reports_the_missing(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    ids = [f"r{i}" for i in range(len(REFS))]
    hyp = _parquet(tmp_path, "hyp", [{"id": i, "translation": h} for i, h in zip(ids[:-1], HYPS[:-1])])
    ref = _parquet(tmp_path, "ref", [{"id": i, "reference": r} for i, r in zip(ids, REFS)])
    cfg = {"stage_key": "c" * 64, "output_prefix": f"file://{tmp_path}/store/score",
           "hypotheses": hyp, "references": ref, "tokenize": "intl"}
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))

    assert score.main(["--config", str(tmp_path / "cfg.json")]) == 0
    events = [e for e in map(progress.parse_line, capsys.readouterr().out.splitlines()) if e]
    result = events[-1]["result"]
    contract.validate_output("score_translation", result)
    expected = score.corpus_scores(HYPS[:-1] + [""], REFS, "intl")
    assert result == {"bleu": pytest.approx(expected[0]), "chrf": pytest.approx(expected[1]),
                      "rows": len(REFS), "tokenize": "intl"}
    assert events[-2]["metrics"]["missing_hypotheses"] == 1


def test_runner_names_the_missing_column(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    hyp = _parquet(tmp_path, "hyp", [{"id": "a", "text": "x"}])
    ref = _parquet(tmp_path, "ref", [{"id": "a", "reference": "x"}])
    cfg = {"stage_key": "c" * 64, "output_prefix": f"file://{tmp_path}/store/score",
           "hypotheses": hyp, "references": ref, "tokenize": "intl"}
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))

    assert score.main(["--config", str(tmp_path / "cfg.json")]) == 1
    error = progress.parse_line(capsys.readouterr().out.splitlines()[-1])
    assert error["type"] == "BadInput" and "['translation'] missing" in error["message"]
    assert "hyp.parquet" in error["message"]
