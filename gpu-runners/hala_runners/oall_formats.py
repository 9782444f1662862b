"""The benchmark layouts: one parquet row -> (prompt, choices, gold). The six Open Arabic LLM
Leaderboard v2 task layouts, and `mmlu`, the cais/mmlu layout that translated MMLUs keep.

Pure functions, no model. The prompts and the scored continuations follow lighteval's OALL prompt
functions (community_tasks/arabic_evals.py), because the leaderboard numbers in RECIPE.md were
produced with them: the model is scored on the option *labels* listed in the prompt (أ/ب/ج…,
0/1/2… or 1/2/3…), not on the option texts. The Arabic wording belongs to these Arabic benchmarks,
not to the recipe's target language, so it is fixed here on purpose.

Two knobs of `stages.evaluate` change what is scored (both default to the leaderboard's way):
  formulation  mcf = the option labels after the listed options (the leaderboard);
               cf  = "cloze": the option *texts*, after the question alone. Small models stay at
               chance on labels long after they know the answers (HF's FineTasks study saw the
               same), so cf is how a small student's progress shows.
  chat_template  the prompt is the user turn of the model's own chat template, and the scored
               continuation starts the assistant's reply: how an instruction-tuned model is asked.
"""
from __future__ import annotations

from dataclasses import dataclass
import re
from typing import Any, Callable, Iterable

from .contract import evaluate_formulations
from .errors import bad_input

LATIN = ["A", "B", "C", "D", "E"]
ARABIC_LETTERS = ["أ", "ب", "ج", "د", "هـ"]
_MCQ_INSTRUCTION = "السؤال التالي هو سؤال متعدد الإختيارات. اختر الإجابة الصحيحة:\n\n"
_ANSWER = "الإجابة:"


@dataclass(frozen=True)
class McqDoc:
    query: str
    choices: list[str]  # the continuations scored after `query`
    gold_index: int


@dataclass(frozen=True)
class Layout:
    required: tuple[str, ...]
    description: str  # shown in errors: what a row of this format must look like
    to_doc: Callable[[dict[str, Any]], McqDoc]


def _letter_position(value: Any, field: str) -> int:
    """0-based position of an answer letter given in Latin (A-E) or Arabic (أ-هـ) script."""
    text = str(value).strip()
    for letters in (LATIN, ARABIC_LETTERS):
        if text in letters:
            return letters.index(text)
    raise ValueError(f"{field}={value!r} is not a letter A-E or أ-هـ")


def _gold(value: Any, positions: list[int], field: str) -> int:
    """Index among the options present of the option the answer letter names."""
    position = _letter_position(value, field)
    if position not in positions:
        raise ValueError(f"{field}={value!r} names an option the row does not have")
    return positions.index(position)


def _present(cells: Iterable[Any]) -> list[tuple[int, str]]:
    """(position, text) of the options that exist: a null or empty cell is no option."""
    return [(k, str(v)) for k, v in enumerate(cells) if v is not None and str(v) != ""]


def _alghafa(row: dict) -> McqDoc:
    options = [text for _, text in _present(row.get(f"sol{i}") for i in range(1, 6))]
    query = f"الأسئلة التالية هي أسئلة متعددة الإختيارات مع الجواب الصحيح\n\nالسؤال: {row['query']}\n"
    query += "".join(f"{i}) {o}\n" for i, o in enumerate(options)) + _ANSWER
    return McqDoc(query, [str(i) for i in range(len(options))], int(row["label"]))


def _lettered(row: dict) -> tuple[list[str], list[str], int]:
    """Option 1..5 (nullable) with an `Answer Key` letter: ArabicMMLU and MadinahQA. An option
    keeps its own letter even if an earlier one is null, as in lighteval."""
    present = _present(row.get(f"Option {i}") for i in range(1, 6))
    positions = [k for k, _ in present]
    letters = [ARABIC_LETTERS[k] for k in positions]
    return [text for _, text in present], letters, _gold(row["Answer Key"], positions, "Answer Key")


def _arabic_mmlu(row: dict) -> McqDoc:
    # lighteval's OALL v2 task does not show `Context` for ArabicMMLU; we match it.
    options, letters, gold = _lettered(row)
    query = f"{_MCQ_INSTRUCTION}{row['Question']}\n"
    query += "".join(f"{k}. {o}\n" for k, o in zip(letters, options)) + _ANSWER
    return McqDoc(query, letters, gold)


def _madinah_qa(row: dict) -> McqDoc:
    options, letters, gold = _lettered(row)
    # lighteval formats the cell as it is, so a null Context reads "None" in the leaderboard's
    # prompts; matching it keeps both harnesses' scores equal (tests/test_lighteval_parity.py).
    context = row.get("Context")
    query = ("بناءً على السياق أدناه، اختر الإجابة الصحيحة للسؤال التالي من قائمة الأجوبة:\n\n"
             f"\nالسياق:\n{context}\nالسؤال:\n{row['Question']}\n")
    query += "".join(f"{k}. {o}\n" for k, o in zip(letters, options)) + _ANSWER
    return McqDoc(query, letters, gold)


def _exams(row: dict) -> McqDoc:
    options = [str(row[k]) for k in LATIN[:4]]
    topic = str(row.get("subject") or "").replace("_", " ")
    about = f" حول {topic}" if topic else ""
    query = f"الأسئلة التالية هي أسئلة متعددة الإختيارات مع الجواب الصحيح{about}. \n\nالسؤال: {row['question']}\n"
    query += "\n".join(f" {ARABIC_LETTERS[i]}) {o}\n" for i, o in enumerate(options)) + "\n" + _ANSWER
    return McqDoc(query, ARABIC_LETTERS[:4], _gold(row["answer"], [0, 1, 2, 3], "answer"))


def _aratrust(row: dict) -> McqDoc:
    # AraTrust options already carry their label ("أ) ..."), so they are listed as they are.
    options = [str(row[k]) for k in LATIN[:3]]
    query = "السؤال التالي هو سؤال متعدد الإختيارات. اختر الإجابة الصحيحة: أ، ب أو ج. \n\n"
    query += f"{row['Question']}\n" + "".join(f"{o}\n" for o in options) + _ANSWER
    return McqDoc(query, ARABIC_LETTERS[:3], _gold(row["Answer"], [0, 1, 2], "Answer"))


def _arbmmlu_ht(row: dict) -> McqDoc:
    options = [str(c) for c in row["choices"]]
    query = f"{_MCQ_INSTRUCTION}{row['question']}\n"
    query += "".join(f"{i}. {o}\n" for i, o in enumerate(options, start=1)) + _ANSWER
    return McqDoc(query, [str(i) for i in range(1, len(options) + 1)], int(row["answer"]))


def _mmlu(row: dict) -> McqDoc:
    # lighteval's original MMLU prompt (English instructions, A-D labels), as MMLU itself is scored.
    options = [str(c) for c in row["choices"]]
    topic = str(row.get("subject") or "").replace("_", " ")
    query = f"The following are multiple choice questions (with answers) about {topic}.\n\n{row['question']}\n"
    query += "".join(f"{LATIN[i]}. {o}\n" for i, o in enumerate(options)) + "Answer:"
    return McqDoc(query, [f" {k}" for k in LATIN[:len(options)]], int(row["answer"]))


LAYOUTS: dict[str, Layout] = {
    "alghafa": Layout(("query", "sol1", "sol2", "label"),
                      "query, sol1..solN (N <= 5), label = 0-based index of the right sol, as a string",
                      _alghafa),
    "arabic_mmlu": Layout(("Question", "Option 1", "Option 2", "Answer Key"),
                          "Question, Context (nullable), 'Option 1'..'Option 5' (nullable), "
                          "'Answer Key' = a letter A-E", _arabic_mmlu),
    "madinah_qa": Layout(("Question", "Option 1", "Option 2", "Answer Key"),
                         "Question, Context (nullable), 'Option 1'..'Option 5' (nullable), "
                         "'Answer Key' = a letter A-E", _madinah_qa),
    "exams": Layout(("question", "A", "B", "C", "D", "answer"),
                    "question, A, B, C, D, answer = a letter A-D (subject optional)", _exams),
    "aratrust": Layout(("Question", "A", "B", "C", "Answer"),
                       "Question, A, B, C, Answer = A/B/C or أ/ب/ج", _aratrust),
    "arbmmlu_ht": Layout(("question", "choices", "answer"),
                         "question, choices (list of strings), answer = 0-based int index", _arbmmlu_ht),
    "mmlu": Layout(("question", "choices", "answer"),
                   "question, subject, choices (list of strings), answer = 0-based int index (cais/mmlu)", _mmlu),
}


def check_columns(fmt: str, columns: Iterable[str], where: str) -> None:
    """BadInput naming the file, the missing columns and the layout the format expects."""
    if fmt not in LAYOUTS:
        raise bad_input(f"{where}: unknown benchmark format {fmt!r}; use one of {sorted(LAYOUTS)}")
    layout = LAYOUTS[fmt]
    missing = [c for c in layout.required if c not in set(columns)]
    if missing:
        raise bad_input(f"{where}: column(s) {missing} missing for format {fmt!r}; "
                        f"expected {layout.description} (found {sorted(columns)})")


# AraTrust cells carry their own label ("أ) نعم"): in a cloze the text is scored without it.
_LEADING_LABEL = re.compile(r"^\s*(?:[A-E]|[أبجد]|هـ)\s*[).:-]\s*")


def _cloze_parts(fmt: str, row: dict) -> tuple[str, list[str], int]:
    """(the question as the model reads it, the option texts, the gold index) of one row."""
    if fmt == "alghafa":
        return str(row["query"]), [t for _, t in _present(row.get(f"sol{i}") for i in range(1, 6))], int(row["label"])
    if fmt in ("arabic_mmlu", "madinah_qa"):
        options, _, gold = _lettered(row)
        context = row.get("Context") if fmt == "madinah_qa" else None  # as each MCF prompt shows it
        return (f"{context}\n" if context else "") + str(row["Question"]), options, gold
    if fmt == "exams":
        return str(row["question"]), [str(row[k]) for k in LATIN[:4]], _gold(row["answer"], [0, 1, 2, 3], "answer")
    if fmt == "aratrust":
        options = [_LEADING_LABEL.sub("", str(row[k])) for k in LATIN[:3]]
        return str(row["Question"]), options, _gold(row["Answer"], [0, 1, 2], "Answer")
    if fmt in ("arbmmlu_ht", "mmlu"):
        return str(row["question"]), [str(c) for c in row["choices"]], int(row["answer"])
    raise KeyError(fmt)


def _cloze(fmt: str, row: dict, chat: Callable[[str], str] | None) -> McqDoc:
    question, options, gold = _cloze_parts(fmt, row)
    if chat:  # the reply itself is scored: no answer cue, no leading space
        return McqDoc(chat(question), options, gold)
    cue = "Answer:" if fmt == "mmlu" else _ANSWER  # each layout's own answer cue
    return McqDoc(f"{question}\n{cue}", [f" {o}" for o in options], gold)


def to_doc(fmt: str, row: dict[str, Any], where: str, formulation: str = "mcf",
           chat: Callable[[str], str] | None = None) -> McqDoc:
    """One row as an McqDoc; a malformed row is BadInput naming the file and the row.
    `chat(user_text)` is the model's chat template around a user turn, with the assistant's turn
    opened (stages.evaluate.chat_template); None scores the raw prompt."""
    if formulation not in evaluate_formulations():
        raise bad_input(f"stages.evaluate.formulation must be one of {list(evaluate_formulations())} (got {formulation!r})")
    try:
        if formulation == "cf":
            doc = _cloze(fmt, row, chat)
        else:
            doc = LAYOUTS[fmt].to_doc(row)
            # In a chat the reply itself is scored, so no leading space (mmlu's labels are " A".." D").
            doc = McqDoc(chat(doc.query), [c.lstrip() for c in doc.choices], doc.gold_index) if chat else doc
    except (ValueError, TypeError, KeyError) as e:
        raise bad_input(f"{where}: row {row!r:.200} does not fit format {fmt!r} "
                        f"({LAYOUTS[fmt].description}): {e}") from e
    if not 0 <= doc.gold_index < len(doc.choices) or len(doc.choices) < 2:
        raise bad_input(f"{where}: row {row!r:.200} has gold index {doc.gold_index} "
                        f"for {len(doc.choices)} choices")
    return doc
