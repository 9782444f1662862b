"""The Python side of bench/translate-runner.ts: the tiny world's teacher translating the same
rows through runners/translate.py and through its engine called directly.

    python bench/translate_runner.py prepare DIR ROWS BATCH  -> DIR/config.json (shard in DIR/store)
    python bench/translate_runner.py direct DIR              -> one JSON line {"seconds", "rows"}

The runner side is `python -m hala_runners.runners.translate --config DIR/config.json`: subprocess,
shard read with digest check, chunks of `batch_size` rows each written to the store, the output
parquet published. `direct` loads the same engine (engines.load_engine, transformers) and calls
engine.translate on all rows at once with the same batch size. Both need HALA_HUB_MIRROR.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

TEACHER = "hf://hala-tiny/command-a-translate"
MAX_NEW_TOKENS = 48


def template() -> str:
    from tiny_world.language import TARGET_NAME
    from tiny_world.tokenizer import PROMPT_TEMPLATE

    return PROMPT_TEMPLATE.replace("{target}", TARGET_NAME)


def prepare(directory: Path, rows: int, batch: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hala_runners import store
    from tiny_world import grammar, teacher

    texts = teacher.held_out(0, grammar.World.make(0), rows)
    path = directory / "shard.parquet"
    pq.write_table(pa.table({"id": [f"row-{i}" for i in range(len(texts))], "text": texts}), path)
    shard = store.publish_file(path, f"file://{directory}/store/in/shard.parquet", "dataset", rows=len(texts))
    cfg = {"stage_key": "e" * 64, "output_prefix": f"file://{directory}/store/out", "model": TEACHER, "shard": shard,
           "engine": "transformers", "batch_size": batch, "max_new_tokens": MAX_NEW_TOKENS, "tensor_parallel_size": 1,
           "prompt_template": template()}
    (directory / "config.json").write_text(json.dumps(cfg))
    print(json.dumps({"rows": len(texts)}))


def direct(directory: Path) -> None:
    import pyarrow.parquet as pq

    from hala_runners import hub
    from hala_runners.engines import load_engine

    t0 = time.perf_counter()
    cfg = json.loads((directory / "config.json").read_text())
    texts = pq.read_table(directory / "shard.parquet").column("text").to_pylist()
    engine = load_engine("transformers", Path(hub.resolve(cfg["model"])), 1)
    out, tokens = engine.translate(texts, cfg["batch_size"], cfg["max_new_tokens"], cfg["prompt_template"])
    print(json.dumps({"seconds": time.perf_counter() - t0, "rows": len(out), "tokens": tokens}))


def main() -> None:
    cmd, *args = sys.argv[1:]
    if cmd == "prepare":
        prepare(Path(args[0]), int(args[1]), int(args[2]))
    elif cmd == "direct":
        direct(Path(args[0]))
    else:
        sys.exit(f"unknown command {cmd}; see the docstring")


if __name__ == "__main__":
    main()
