"""Tiny OPUS-100 en-<target>: parquet splits with one `translation` struct column {en, <target>}
(the active profile's code: ar, fr), and realistic
noise injected into train only, counted in NOISE.json so filter tests can check their counts.

Each noise row has one defect; the exception is `identical` (target == source), whose target side is
necessarily also in the wrong script. Kinds and how a filter sees them:
  empty          one side "" or whitespace only
  identical      target == source
  over_long      a genuine pair of >= 250 words per side (normal rows have <= 30)
  length_ratio   one side a sentence, the other a 5-7 sentence paragraph (ratio > 3 in chars and words)
  wrong_script   target side in English, or source side in the target language (sides not identical):
                 the wrong script when the target has its own, the wrong language in any case
  exact_duplicate  a byte-identical copy of a clean row (each source row copied at most once)
  near_duplicate   a clean row with case / punctuation / whitespace changed (normalised key equal)
Clean rows are unique under that normalisation (lower case, punctuation removed, spaces collapsed),
and validation / test share no normalised source with train.
"""
from __future__ import annotations

import json
import random
import re
import unicodedata
from pathlib import Path

from . import grammar
from . import lexicon as lx
from .language import english, translate
from .profiles import PROFILE

T = PROFILE.CODE  # the target side's column, as OPUS names it

NOISE_SHARE = {"empty": 0.14, "identical": 0.1, "over_long": 0.08, "length_ratio": 0.1,
               "wrong_script": 0.14, "exact_duplicate": 0.24, "near_duplicate": 0.2}


def normalise(text: str) -> str:
    """The near-duplicate key: case, punctuation (any script) and spacing removed."""
    text = "".join(ch for ch in text.lower() if not unicodedata.category(ch).startswith("P"))
    return re.sub(r"\s+", " ", text).strip()


def _fragment(rng: random.Random) -> str:
    """A line of a word or two ("Apples.", "The old garden.", "Red."), as subtitles and UI strings
    give real OPUS-100 many. Half the instruction data answers a fact with its bare object: a
    translator that never saw a fragment translated 28 % of those answers right (54 % of the
    statements), so SFT taught the students wrong facts."""
    if rng.random() < 0.25:
        return english([rng.choice(lx.ADJECTIVES), "."])
    words, _ = grammar.noun_phrase(rng, article=rng.choice(["", "", "the"]))
    return english(words + ["."])


def _unique_sources(rng: random.Random, n: int) -> list[str]:
    seen, out = set(), []
    while len(out) < n:
        roll = rng.random()
        text = _fragment(rng) if roll < 0.12 else grammar.sentence(rng) if roll < 0.8 else grammar.paragraph(rng, (2, 2))
        key = normalise(text)
        if key not in seen:
            seen.add(key)
            out.append(text)
    return out


def _near_variant(rng: random.Random, pair: dict[str, str]) -> dict[str, str]:
    en, ar = pair["en"], pair[T]
    kind = rng.randrange(4)
    if kind == 0:
        en = en.upper() if rng.random() < 0.5 else en.lower()
    elif kind == 1:
        en, ar = en.rstrip(".?") + "!", ar.rstrip("." + PROFILE.QUESTION_MARK) + "!"
    elif kind == 2:
        en, ar = "  " + en.replace(" ", "  ", 2) + " ", ar + "  "
    else:
        en, ar = en.rstrip(".?"), ar.rstrip("." + PROFILE.QUESTION_MARK)
    return {"en": en, T: ar}


def _noise(rng: random.Random, kind: str, clean: list[dict], fresh) -> dict[str, str]:
    if kind == "empty":
        text = fresh()
        blank = rng.choice(["", " ", "\t"])
        return {"en": blank, T: translate(text)} if rng.random() < 0.5 else {"en": text, T: blank}
    if kind == "identical":
        text = fresh()
        return {"en": text, T: text}
    if kind == "over_long":
        text = " ".join(fresh() for _ in range(40))
        while len(text.split()) < 250:
            text += " " + fresh()
        return {"en": text, T: translate(text)}
    if kind == "length_ratio":
        short, long = fresh(), " ".join(fresh() for _ in range(rng.randint(5, 7)))
        if rng.random() < 0.5:
            return {"en": short, T: translate(long)}
        return {"en": long, T: translate(short)}
    if kind == "wrong_script":
        text = fresh()
        return {"en": text, T: fresh()} if rng.random() < 0.7 else {"en": translate(text), T: translate(text)}
    raise ValueError(kind)


def build_opus(seed: int, train_rows: int = 3000, eval_rows: int = 200, noise: float = 0.15):
    """(train, validation, test, noise_report): lists of {en, <target>} rows and the injected counts."""
    rng = random.Random(f"opus:{seed}")
    n_noise = round(train_rows * noise)
    counts = {k: round(n_noise * share) for k, share in NOISE_SHARE.items()}
    counts["exact_duplicate"] += n_noise - sum(counts.values())
    n_clean = train_rows - n_noise
    reserve = 60 * counts["over_long"] + 8 * counts["length_ratio"] + 2 * n_noise
    sources = _unique_sources(rng, n_clean + 2 * eval_rows + reserve)
    pairs = [{"en": s, T: translate(s)} for s in sources]
    clean, validation = pairs[:n_clean], pairs[n_clean:n_clean + eval_rows]
    test = pairs[n_clean + eval_rows:n_clean + 2 * eval_rows]
    spare = iter(sources[n_clean + 2 * eval_rows:])  # unseen text for the noise rows
    rows = [(pair, "clean") for pair in clean]
    copied = rng.sample(range(n_clean), counts["exact_duplicate"] + counts["near_duplicate"])
    for i in copied[:counts["exact_duplicate"]]:
        rows.append((dict(clean[i]), "exact_duplicate"))
    for i in copied[counts["exact_duplicate"]:]:
        rows.append((_near_variant(rng, clean[i]), "near_duplicate"))
    for kind in ("empty", "identical", "over_long", "length_ratio", "wrong_script"):
        for _ in range(counts[kind]):
            rows.append((_noise(rng, kind, clean, lambda: next(spare)), kind))
    rng.shuffle(rows)
    report = {"train_rows": len(rows), "clean_rows": n_clean, "injected": counts,
              "injected_total": n_noise,
              "rows_by_kind": {k: [i for i, (_, kind) in enumerate(rows) if kind == k] for k in counts},
              "near_duplicate_key": "lower case, Unicode punctuation removed, whitespace collapsed",
              "note": "one defect per row, except `identical` rows whose target is also in the wrong script"}
    return [pair for pair, _ in rows], validation, test, report


def write_opus(root: Path, seed: int, **sizes) -> dict:
    """Write the three splits and NOISE.json under root (= datasets/<org>/opus-100)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    train, validation, test, report = build_opus(seed, **sizes)
    schema = pa.schema([("translation", pa.struct([("en", pa.string()), (T, pa.string())]))])
    (root / f"en-{T}").mkdir(parents=True, exist_ok=True)
    for split, rows in (("train", train), ("validation", validation), ("test", test)):
        table = pa.Table.from_pylist([{"translation": r} for r in rows], schema=schema)
        pq.write_table(table, root / f"en-{T}" / f"{split}-00000-of-00001.parquet")
    (root / "NOISE.json").write_text(json.dumps(report, indent=1) + "\n")
    return {"train": len(train), "validation": len(validation), "test": len(test)}
