"""The pandas peer of bench/corpus.ts: the OPUS filters, exact and near dedup and the bilingual
assembly of activities/corpus (filter-opus.ts, text-sql.ts, assemble-bilingual.ts), written the
straightforward way: pyarrow reads, pandas Series and per-row Python with the `regex` module
(RE2's Unicode classes), pyarrow writes.

    python bench/peers/corpus_pandas.py OPUS.parquet OUT_DIR

Writes OUT_DIR/pairs.parquet (id, source, target) and OUT_DIR/bilingual.parquet (id, messages);
prints one JSON line {"seconds", "kept"}. The knobs are the recipe defaults (contracts/recipe.ts).
"""
from __future__ import annotations

import hashlib
import json
import sys
import time

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import regex

MIN_CHARS, MAX_CHARS, MAX_RATIO, MIN_SCRIPT = 1, 1000, 3.0, 0.5
PROMPT = "Translate everything that follows into {target_name}:\n\n{text}"
SEED = 0
SPACE = r"[\t\n\f\r \p{Z}]"  # RE2's \s is ASCII only; text-sql.ts adds \p{Z}
TRIM = regex.compile(rf"^{SPACE}+|{SPACE}+$")
NOT_LETTER = regex.compile(r"\P{L}")
NOT_LATIN = regex.compile(r"[^\p{Script=Latin}]")
NOT_ARABIC = regex.compile(r"[^\p{Script=Arabic}]")
PUNCT_NUM = regex.compile(r"[\p{P}\p{N}]")
SPACES = regex.compile(rf"{SPACE}+")


def trim(s):
    return None if s is None else TRIM.sub("", s)


def script_share(s: str, not_script) -> float:
    letters = NOT_LETTER.sub("", s)
    return len(not_script.sub("", letters)) / len(letters) if letters else 0.0


def near_key(s: str) -> str:
    return TRIM.sub("", SPACES.sub(" ", PUNCT_NUM.sub("", s.lower())))


def rejected_by(source, target) -> str | None:
    if source is None or target is None or source == "" or target == "":
        return "empty"
    if source.lower() == target.lower():
        return "identical"
    ls, lt = len(source), len(target)
    if min(ls, lt) < MIN_CHARS:
        return "too_short"
    if max(ls, lt) > MAX_CHARS:
        return "too_long"
    if max(ls, lt) > MAX_RATIO * min(ls, lt):
        return "length_ratio"
    if script_share(source, NOT_LATIN) < MIN_SCRIPT:
        return "source_script"
    if script_share(target, NOT_ARABIC) < MIN_SCRIPT:
        return "target_script"
    return None


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    translation = pq.read_table(src, columns=["translation"]).column("translation").combine_chunks()
    df = pd.DataFrame({
        "source": translation.field("en").to_pandas().map(trim),
        "target": translation.field("ar").to_pandas().map(trim),
    })
    df["id"] = df.index.astype(str)
    df["rejected_by"] = [rejected_by(s, t) for s, t in zip(df["source"], df["target"])]
    kept = df[df["rejected_by"].isna()]
    kept = kept[~kept.duplicated(subset=["source", "target"], keep="first")]
    keys = pd.DataFrame({"s": kept["source"].map(near_key), "t": kept["target"].map(near_key)}, index=kept.index)
    kept = kept[~keys.duplicated(keep="first")]
    pq.write_table(pa.Table.from_pandas(kept[["id", "source", "target"]], preserve_index=False),
                   f"{out}/pairs.parquet", compression="zstd")

    # Assembly: one user/assistant chat per direction, ordered by md5(seed:id), then id.
    rows = []
    for frm, to, from_name, to_name, user, answer in (
            ("en", "ar", "English", "Arabic", "source", "target"),
            ("ar", "en", "Arabic", "English", "target", "source")):
        prompt = PROMPT.replace("{target_name}", to_name).replace("{source_name}", from_name)
        for pid, u, a in zip(kept["id"], kept[user], kept[answer]):
            rows.append((f"opus:{pid}:{frm}-{to}", prompt.replace("{text}", u), a))
    rows.sort(key=lambda r: (hashlib.md5(f"{SEED}:{r[0]}".encode()).hexdigest(), r[0]))
    messages = [[{"role": "user", "content": u}, {"role": "assistant", "content": a}] for _, u, a in rows]
    table = pa.table({"id": [r[0] for r in rows], "messages": messages})
    pq.write_table(table, f"{out}/bilingual.parquet", compression="zstd")
    print(json.dumps({"seconds": time.perf_counter() - t0, "kept": len(kept)}))


if __name__ == "__main__":
    main()
