"""Question/answer items about the tiny world: the English instruction data (Open-Orca, Hermes-3)
and the multiple-choice benchmark questions. Fact questions always get the World's answer.

The instruction data asks a fact one way ("What does the cat eat?") and answers it either with the
statement or with the bare answer; the benchmarks ask it another way ("Tell me what the cat eats."),
so decontamination keeps the instruction rows and a student must generalise, not recall a string."""
from __future__ import annotations

import random
from dataclasses import dataclass

from . import lexicon as lx
from .grammar import ADJ_NO_COLOR, World, noun_phrase, sentence_tokens
from .language import english
from .prompts import SYSTEM_PROMPTS


@dataclass(frozen=True)
class Fact:
    subject: str      # the lemma asked about: an animal, person or thing
    question: str     # English question, as the instruction data asks it
    asked: str        # the same question as the benchmarks word it
    answer: str       # the fact's object lemma (a food, place or colour)
    statement: str    # English sentence stating the fact
    topic: str        # benchmark "subject": animals / people / things
    pool: tuple       # where distractors come from

    def surface(self, lemma: str) -> str:
        """How an answer lemma appears in the statement: foods in the plural ("eats apples")."""
        return lx.plural(lemma) if self.topic == "animals" else lemma


def facts(world: World) -> list[Fact]:
    out = []
    for animal, food in world.eats.items():
        out.append(Fact(animal, f"What does the {animal} eat?", f"Tell me what the {animal} eats.", food,
                        f"The {animal} eats {lx.plural(food)}.", "animals", tuple(lx.FOODS)))
    for person, place in world.lives.items():
        out.append(Fact(person, f"Where does the {person} live?", f"Tell me where the {person} lives.", place,
                        f"The {person} lives in the {place}.", "people", tuple(lx.PLACES)))
    for thing, color in world.color.items():
        out.append(Fact(thing, f"What color is the {thing}?", f"Tell me the color of the {thing}.", color,
                        f"The {thing} is {color}.", "things", tuple(lx.COLORS)))
    return out


def options(fact: Fact, rng: random.Random, n: int) -> tuple[list[str], int]:
    """n answer lemmas (the right one among distractors from the same pool) and the correct index."""
    wrong = rng.sample([w for w in fact.pool if w != fact.answer], n - 1)
    correct = rng.randrange(n)
    return wrong[:correct] + [fact.answer] + wrong[correct:], correct


def _yes_no(rng: random.Random) -> tuple[str, str]:
    np, plural = noun_phrase(rng, lx.ANIMALS + lx.PEOPLE, article="the")
    adj = rng.choice(ADJ_NO_COLOR)
    be = "are" if plural else "is"
    question = english([be] + np + [adj, "?"])
    if rng.random() < 0.5:
        return question, english(["yes", ","] + np + [be, adj, "."])
    return question, english(["no", ","] + np + [be, "not", adj, "."])


def _how_many(rng: random.Random) -> tuple[str, str]:
    person = rng.choice(lx.PEOPLE)
    item = lx.plural(rng.choice(lx.THINGS + lx.FOODS))
    number = rng.choice(lx.NUMBERS[1:])
    return (english(["how", "many", item, "does", "the", person, "have", "?"]),
            english(["the", person, "has", number, item, "."]))


def _write_about(rng: random.Random) -> tuple[str, str]:
    noun = rng.choice(lx.ANIMALS + lx.PEOPLE)
    np, plural = noun_phrase(rng, [noun], plural=False, article="the")
    answer = english(np + ["is", "very", rng.choice(ADJ_NO_COLOR), "."])
    return english(["write", "a", "short", "sentence", "about", "the", noun, "."]), answer


def qa_pair(rng: random.Random, world: World) -> tuple[str, str]:
    """One English (question, response), each one or two sentences."""
    roll = rng.random()
    if roll < 0.45:
        fact = rng.choice(facts(world))
        # Half the answers are the bare object ("Apples."): a benchmark choice is scored as the
        # first words of the reply, and a student taught only full statements never starts with it.
        short = rng.random() < 0.5
        question = fact.question
        response = fact.surface(fact.answer).capitalize() + "." if short else fact.statement
        if rng.random() < 0.3:  # a second sentence of context on either side
            question = english(sentence_tokens(rng)) + " " + question
        elif rng.random() < 0.3:
            response += " " + english(sentence_tokens(rng))
        return question, response
    if roll < 0.65:
        return _yes_no(rng)
    if roll < 0.8:
        return _how_many(rng)
    return _write_about(rng)


def orca_row(rng: random.Random, world: World, row_id: str) -> dict[str, str]:
    """A row in the Open-Orca layout: id, system_prompt, question, response."""
    question, response = qa_pair(rng, world)
    return {"id": row_id, "system_prompt": rng.choice(SYSTEM_PROMPTS), "question": question,
            "response": response}
