"""Score translations: corpus BLEU and chrF++ of hypotheses against references, joined on `id`.

    python -m hala_runners.runners.score --config config.json

Inputs (contracts/gpu-activities.ts ScoreTranslationInput): `hypotheses` = parquet (id, translation),
`references` = parquet (id, reference). Every reference row is scored: an id with no hypothesis (a
shard lost, a row the translator skipped) counts as an empty hypothesis, so it lowers the score
instead of silently vanishing; the count is reported as progress metric `missing_hypotheses`.
Tokenisation: `tokenize`, sacrebleu's (the recipe's scoring.bleu_tokenize, default `intl`, which splits
Unicode punctuation of any script).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

from .. import progress, store
from ..errors import bad_input
from ..runner_harness import run, save_config


@dataclass(kw_only=True)
class Config:
    stage_key: str
    output_prefix: str
    hypotheses: dict
    references: dict
    tokenize: str  # sacrebleu BLEU tokenizer: intl | 13a | flores200
    resume: dict | None = None  # unused: scoring is one short pass


@dataclass(frozen=True)
class Aligned:
    hypotheses: list[str]
    references: list[str]
    missing: int  # reference ids with no hypothesis (scored as "")
    extra: int  # hypothesis ids with no reference (not scored: nothing to compare with)


def align(hyp_rows: list[dict[str, Any]], ref_rows: list[dict[str, Any]], where: str = "") -> Aligned:
    """Pair each reference with its hypothesis by id, in reference order."""
    hyps: dict[str, str] = {}
    for row in hyp_rows:
        key = str(row["id"])
        if key in hyps:
            raise bad_input(f"{where}hypotheses: id {key!r} appears twice; deduplicate the shards")
        hyps[key] = row["translation"] or ""  # a null translation is an empty one
    refs, out, seen, missing = [], [], set(), 0
    for row in ref_rows:
        key = str(row["id"])
        if key in seen:
            raise bad_input(f"{where}references: id {key!r} appears twice")
        seen.add(key)
        if key not in hyps:
            missing += 1
        out.append(hyps.get(key, ""))
        refs.append(row["reference"] or "")
    return Aligned(out, refs, missing, len(set(hyps) - seen))


def corpus_scores(hypotheses: list[str], references: list[str], tokenize: str = "intl") -> tuple[float, float]:
    """(BLEU, chrF++) in sacrebleu's 0..100 scale, one reference per segment."""
    from sacrebleu.metrics import BLEU, CHRF

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    try:
        bleu = BLEU(tokenize=tokenize)
    except (ImportError, OSError, ValueError, KeyError) as e:
        # flores200 needs sentencepiece and a model file sacrebleu would download: never at run time.
        raise bad_input(f"score.tokenize={tokenize!r} is unusable here ({type(e).__name__}: {e}); "
                        "use 'intl' or '13a', or install sentencepiece and place the model under "
                        f"{os.environ.get('SACREBLEU', '~/.sacrebleu')}/models") from e
    chrf = CHRF(word_order=2)  # word_order=2 makes it chrF++
    return (float(bleu.corpus_score(hypotheses, [references]).score),
            float(chrf.corpus_score(hypotheses, [references]).score))


def _read(ref: dict, columns: list[str], name: str) -> list[dict]:
    import pyarrow.parquet as pq

    path = store.fetch(ref)
    table = pq.read_table(path)
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise bad_input(f"{name} {ref['uri']}: column(s) {missing} missing; expected parquet with "
                        f"columns {columns} (found {table.column_names})")
    return table.select(columns).to_pylist()


def _run(cfg: Config) -> dict:
    save_config(cfg)
    if cfg.tokenize == "flores200" and not _spm_model_present():
        raise bad_input("score.tokenize='flores200' needs sacrebleu's SentencePiece model on disk and "
                        "runners never download at run time; use 'intl', or pre-seed $SACREBLEU/models")
    hyp_rows = _read(cfg.hypotheses, ["id", "translation"], "hypotheses")
    ref_rows = _read(cfg.references, ["id", "reference"], "references")
    aligned = align(hyp_rows, ref_rows, f"{cfg.hypotheses['uri']}: ")
    if not aligned.references:
        raise bad_input(f"references {cfg.references['uri']} has no rows: nothing to score")
    bleu, chrf = corpus_scores(aligned.hypotheses, aligned.references, cfg.tokenize)
    progress.emit_progress("score", len(aligned.references), len(aligned.references), None,
                           missing_hypotheses=aligned.missing, extra_hypotheses=aligned.extra,
                           bleu=bleu, chrf=chrf)
    if aligned.missing:
        print(f"score: {aligned.missing} reference ids had no hypothesis; scored as empty", file=sys.stderr)
    return {"bleu": bleu, "chrf": chrf, "rows": len(aligned.references), "tokenize": cfg.tokenize}


def _spm_model_present() -> bool:
    root = os.environ.get("SACREBLEU", os.path.join(os.path.expanduser("~"), ".sacrebleu"))
    return os.path.exists(os.path.join(root, "models", "flores200sacrebleuspm"))


def main(argv: list[str] | None = None) -> int:
    return run(Config, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
