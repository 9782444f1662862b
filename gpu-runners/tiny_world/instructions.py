"""English instruction sets of the tiny world in their real layouts:
  Open-Orca 1M-GPT4-Augmented and the Open-Orca instructions to translate: id, system_prompt,
      question, response (ids like "niv.123"; the two files share no id)
  Hermes-3: ShareGPT `conversations` = list<struct<from, value>>, from in system/human/gpt,
      1-2 exchanges, about 10% of rows with ``` code fences for the drop_code filter.
"""
from __future__ import annotations

import random
from pathlib import Path

from .facts import orca_row, qa_pair
from .grammar import World
from .prompts import SYSTEM_PROMPTS

ORCA_PREFIXES = ("niv", "flan", "t0", "cot")
CODE_SNIPPETS = (
    ("Write a short program that adds two numbers.",
     "Here is the answer.\n\n```python\ndef add(a, b):\n    return a + b\n```"),
    ("Write a program that says hello.",
     "Here is the answer.\n\n```javascript\nconsole.log(\"hello\");\n```"),
    ("What does this code do?\n\n```python\nprint(len([1, 2, 3]))\n```",
     "It prints the number three."),
    ("Write a short program that counts the files.",
     "Here is the answer.\n\n```bash\nls | wc -l\n```"),
)


def orca_rows(seed: int, n: int, id_offset: int, stream: str) -> list[dict[str, str]]:
    """n Open-Orca rows; ids are prefix.number with numbers from id_offset up, so sets never clash."""
    rng = random.Random(f"{stream}:{seed}")
    world = World.make(seed)
    return [orca_row(rng, world, f"{rng.choice(ORCA_PREFIXES)}.{id_offset + i}") for i in range(n)]


def hermes_rows(seed: int, n: int, code_share: float = 0.1) -> list[dict]:
    rng = random.Random(f"hermes:{seed}")
    world = World.make(seed)
    rows = []
    n_code = round(n * code_share)
    for i in range(n):
        turns = []
        system = rng.choice(SYSTEM_PROMPTS)
        if system:
            turns.append({"from": "system", "value": system})
        for _ in range(rng.choice([1, 1, 2])):
            question, answer = qa_pair(rng, world)
            turns += [{"from": "human", "value": question}, {"from": "gpt", "value": answer}]
        if i < n_code:  # one exchange becomes a coding one; rows are shuffled below
            question, answer = rng.choice(CODE_SNIPPETS)
            at = 1 if system else 0
            turns[at:at + 2] = [{"from": "human", "value": question}, {"from": "gpt", "value": answer}]
        rows.append({"conversations": turns})
    rng.shuffle(rows)
    return rows


def write_instructions(datasets: Path, seed: int, orca: int = 1500, orca_instructions: int = 600,
                       hermes: int = 400) -> dict[str, int]:
    """Write the three files under datasets/ (= <mirror>/datasets/hala-tiny); returns row counts."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    orca_schema = pa.schema([(c, pa.string()) for c in ("id", "system_prompt", "question", "response")])
    turn = pa.struct([("from", pa.string()), ("value", pa.string())])
    hermes_schema = pa.schema([("conversations", pa.list_(turn))])
    files = {
        "OpenOrca/1M-GPT4-Augmented.parquet": (orca_rows(seed, orca, 0, "orca"), orca_schema),
        "OpenOrca-instructions/train.parquet":
            (orca_rows(seed, orca_instructions, 1_000_000, "orca-instructions"), orca_schema),
        "hermes-3/train.parquet": (hermes_rows(seed, hermes), hermes_schema),
    }
    counts = {}
    for rel, (rows, schema) in files.items():
        path = datasets / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
        counts[rel] = len(rows)
    return counts
