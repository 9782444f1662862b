"""The Python peer of bench/language-id.ts: the same language identification as filter-opus
(activities/corpus/language-identifier.ts) over the same pairs, with fastText's own Python binding
and the same model file (lid.176.ftz, the builtin model), in a multiprocessing pool of one process
per core, each loading the model once.

    python bench/peers/language_id.py PAIRS.parquet MODEL SOURCE_LABEL TARGET_LABEL MIN_CONFIDENCE MIN_LETTERS

PAIRS.parquet: id, source, target (the pairs filter-opus hands to identification). Prints one JSON
line {"seconds", "pairs", "dropped": [[id, side], ...]}; seconds from reading the parquet to the verdicts.
"""
from __future__ import annotations

import json
import os
import sys
import time
from multiprocessing import Pool

import fasttext
import pyarrow.parquet as pq
import regex

# The same cuts as judgeableText: code blocks, inline code and URLs, whitespace collapsed, 1000 characters.
CODE = regex.compile(r"```[\s\S]*?(```|$)|`[^`\n]*`")
URL = regex.compile(r"\bhttps?://\S+")
SPACE = regex.compile(r"\s+")
LETTER = regex.compile(r"\p{L}")
JUDGED_CHARS = 1000

model = None
args: dict = {}


def init(model_path: str, settings: dict) -> None:
    global model, args
    fasttext.FastText.eprint = lambda *_: None  # its load warning, once per process
    model = fasttext.load_model(model_path)
    args = settings


def wrong(text: str | None, accept: str) -> bool:
    if text is None:
        return False
    judged = SPACE.sub(" ", URL.sub(" ", CODE.sub(" ", text))).strip()[:JUDGED_CHARS]
    if len(LETTER.findall(judged)) < args["min_letters"]:
        return False
    labels, probs = model.predict(judged, k=1, threshold=0.0)
    if not labels:
        return False
    return labels[0].removeprefix("__label__") != accept and float(probs[0]) >= args["min_confidence"]


def judge(chunk: list[tuple[str, str | None, str | None]]) -> list[list[str]]:
    dropped = []
    for pair_id, source, target in chunk:
        if wrong(source, args["source"]):
            dropped.append([pair_id, "source"])
        elif wrong(target, args["target"]):
            dropped.append([pair_id, "target"])
    return dropped


def main() -> None:
    pairs_path, model_path, source, target, min_confidence, min_letters = sys.argv[1:7]
    settings = {"source": source, "target": target, "min_confidence": float(min_confidence), "min_letters": int(min_letters)}
    with Pool(os.cpu_count(), initializer=init, initargs=(model_path, settings)) as pool:
        pool.map(len, [[]] * (os.cpu_count() or 1))  # every process started and its model loaded, outside the timing
        t0 = time.perf_counter()
        table = pq.read_table(pairs_path, columns=["id", "source", "target"]).to_pydict()
        rows = list(zip(map(str, table["id"]), table["source"], table["target"]))
        chunks = [rows[i : i + 2048] for i in range(0, len(rows), 2048)]
        dropped = [d for part in pool.imap(judge, chunks) for d in part]
        seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "pairs": len(rows), "dropped": dropped}))


if __name__ == "__main__":
    main()
