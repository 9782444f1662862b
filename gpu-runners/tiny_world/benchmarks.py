"""The world's benchmarks, in miniature: target-language multiple-choice questions about the
World's facts, in real column layouts (test split only). The profile names them: the first world
has the six OALL v2 benchmarks in the layouts lighteval's Arabic community tasks read; the French
one has `mmlu`, the cais/mmlu layout (question, subject, choices, answer index) that translated
MMLUs keep.

A model that learnt the facts from the translated instruction data scores above chance; the answer
options are single words or the full statement, so normalised log-likelihood is meaningful.
"""
from __future__ import annotations

import random
from pathlib import Path

from .facts import Fact, facts, options
from .grammar import World
from .language import translate
from .profiles import PROFILE

LETTERS = "ABCDE"
BENCHMARKS = PROFILE.BENCHMARKS


def _item(fact: Fact, rng: random.Random, n: int, statements: bool = False):
    """(target question, target options, correct index) for one fact."""
    lemmas, correct = options(fact, rng, n)
    if statements:  # the fact's sentence with its object swapped: "The cat eats breads."
        right = fact.surface(fact.answer)
        texts = [fact.statement.replace(f" {right}.", f" {fact.surface(w)}.") for w in lemmas]
    else:
        texts = [fact.surface(w) for w in lemmas]
    return translate(fact.asked), [translate(t) for t in texts], correct


def rows(name: str, seed: int, n: int = 200) -> list[dict]:
    """n rows of benchmark `name` in its own column layout."""
    rng = random.Random(f"oall:{name}:{seed}")
    pool = facts(World.make(seed))
    chosen = [pool[i % len(pool)] for i in rng.sample(range(max(n, len(pool))), n)]
    out = []
    for fact in chosen:
        if name == "alghafa":
            q, opts, k = _item(fact, rng, 4)
            out.append({"query": q, **{f"sol{i + 1}": o for i, o in enumerate(opts)}, "label": str(k)})
        elif name in ("arabic_mmlu", "madinah_qa"):
            q, opts, k = _item(fact, rng, 4, statements=name == "madinah_qa")
            context = translate(f"This question is about the {fact.subject}.") if rng.random() < 0.3 else None
            out.append({"Question": q, "Context": context,
                        **{f"Option {i + 1}": o for i, o in enumerate(opts)}, "Option 5": None,
                        "Answer Key": LETTERS[k], "Subject": fact.topic})
        elif name == "exams":
            q, opts, k = _item(fact, rng, 4)
            out.append({"question": q, **dict(zip("ABCD", opts)), "answer": LETTERS[k],
                        "subject": fact.topic})
        elif name == "aratrust":
            q, opts, k = _item(fact, rng, 3, statements=True)
            out.append({"Question": q, **dict(zip("ABC", opts)), "Answer": LETTERS[k]})
        elif name == "arbmmlu_ht":
            q, opts, k = _item(fact, rng, 4)
            out.append({"question": q, "choices": opts, "answer": k, "subject": fact.topic})
        elif name == "mmlu":
            q, opts, k = _item(fact, rng, 4)
            out.append({"question": q, "subject": fact.topic, "choices": opts, "answer": k})
        else:
            raise ValueError(f"unknown benchmark {name!r}; expected one of {BENCHMARKS}")
    return out


def schema(name: str):
    import pyarrow as pa

    s = pa.string()
    mmlu = [("Question", s), ("Context", s)] + [(f"Option {i}", s) for i in range(1, 6)] + \
        [("Answer Key", s), ("Subject", s)]
    return pa.schema({
        "alghafa": [("query", s)] + [(f"sol{i}", s) for i in range(1, 5)] + [("label", s)],
        "arabic_mmlu": mmlu,
        "madinah_qa": mmlu,
        "exams": [("question", s), ("A", s), ("B", s), ("C", s), ("D", s), ("answer", s), ("subject", s)],
        "aratrust": [("Question", s), ("A", s), ("B", s), ("C", s), ("Answer", s)],
        "arbmmlu_ht": [("question", s), ("choices", pa.list_(s)), ("answer", pa.int64()), ("subject", s)],
        "mmlu": [("question", s), ("subject", s), ("choices", pa.list_(s)), ("answer", pa.int64())],
    }[name])


def write_benchmarks(root: Path, seed: int, n: int = 200) -> dict[str, int]:
    """Write <root>/<name>/test.parquet for each benchmark (root = datasets/<org>/<BENCHMARK_DIR>). 200 rows
    each: one right answer more or less moves a score by 0.5 points, so base, SFT and merged scores
    that differ are told apart from noise."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    counts = {}
    for name in BENCHMARKS:
        (root / name).mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(rows(name, seed, n), schema=schema(name))
        pq.write_table(table, root / name / "test.parquet")
        counts[name] = table.num_rows
    return counts
