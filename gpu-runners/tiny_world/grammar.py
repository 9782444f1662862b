"""English sentences, paragraphs and question/answer pairs of the tiny world, drawn with a random.Random.

A World holds a few fixed facts (what each animal eats, where each person lives, the colour of each
thing). Question/answer data states them consistently, so a student tuned on it can answer the OALL
benchmark questions better than chance; random sentences never contradict them, and the plain-LM
pretraining text never states them, so base models start near chance.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from . import lexicon as lx
from .language import english

MIN_WORDS, MAX_WORDS = 4, 12
ADJ_NO_COLOR = [a for a in lx.ADJECTIVES if a not in lx.COLORS]
CONCRETE = lx.ANIMALS + lx.PEOPLE + lx.PLACES + lx.FOODS + lx.THINGS


@dataclass(frozen=True)
class World:
    eats: dict[str, str]     # animal -> food
    lives: dict[str, str]    # person -> place
    color: dict[str, str]    # thing -> colour

    @classmethod
    def make(cls, seed: int) -> "World":
        rng = random.Random(f"world:{seed}")
        return cls(eats={a: rng.choice(lx.FOODS) for a in lx.ANIMALS},
                   lives={p: rng.choice(lx.PLACES) for p in lx.PEOPLE},
                   color={t: rng.choice(lx.COLORS) for t in lx.THINGS})


def noun_phrase(rng: random.Random, nouns: list[str] | None = None, plural: bool | None = None,
                article: str | None = None) -> tuple[list[str], bool]:
    """Tokens of a noun phrase and whether it is plural. Things never get a colour (facts own that)."""
    noun = rng.choice(nouns or CONCRETE)
    plural = rng.random() < 0.3 if plural is None else plural
    words: list[str] = []
    if article is None:
        article = rng.choice(["the", "the", "a", "my", "your", "this", "our", "their"])
    if plural:
        article = {"a": "the", "this": "some"}.get(article, article)
        number = rng.choice(lx.NUMBERS[1:]) if rng.random() < 0.5 else None
        if number:
            article = "the" if rng.random() < 0.5 else ""
        words += [w for w in (article, number) if w]
    elif article:
        words.append("an" if article == "a" and noun[0] in "aeiou" else article)
    pool = ADJ_NO_COLOR if noun in lx.THINGS else lx.ADJECTIVES
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        words.append(rng.choice(pool))
    words.append(lx.plural(noun) if plural else noun)
    return words, plural


def _subject(rng: random.Random, nouns: list[str] | None = None) -> tuple[list[str], str]:
    """Subject tokens and agreement class: '1' (I), '3s' (he/she/it, singular), 'pl' (the rest)."""
    if nouns is None and rng.random() < 0.25:
        pron = rng.choice(["i", "you", "he", "she", "we", "they", "it"])
        return [pron], {"i": "1", "he": "3s", "she": "3s", "it": "3s"}.get(pron, "pl")
    words, plural = noun_phrase(rng, nouns or lx.PEOPLE + lx.ANIMALS)
    return words, "pl" if plural else "3s"


def _verb(verb: str, agreement: str) -> str:
    return lx.third_singular(verb) if agreement == "3s" else verb


def _be(agreement: str) -> str:
    return {"1": "am", "3s": "is"}.get(agreement, "are")


def _object(rng: random.Random, nouns: list[str] | None = None) -> list[str]:
    if rng.random() < 0.15:
        return [rng.choice(["me", "him", "her", "us", "them", "it"])]
    return noun_phrase(rng, nouns)[0]


def _clause(rng: random.Random) -> list[str]:
    kind = rng.randrange(6)
    if kind == 0:  # subject is [very] adjective
        subj, agr = _subject(rng)
        return subj + [_be(agr)] + (["very"] if rng.random() < 0.3 else []) + [rng.choice(ADJ_NO_COLOR)]
    if kind == 1:  # subject is in/near/under a place or thing
        subj, agr = _subject(rng)
        return subj + [_be(agr), rng.choice(["in", "near", "under", "behind", "on"])] + \
            noun_phrase(rng, lx.PLACES + lx.THINGS)[0]
    if kind == 2:  # people eat food; animals' food is a fact, so they never appear here
        subj, agr = _subject(rng, lx.PEOPLE)
        return subj + [_verb("eat", agr)] + noun_phrase(rng, lx.FOODS)[0]
    if kind == 3:  # intransitive with a place phrase
        subj, agr = _subject(rng)
        verb = rng.choice([v for v in lx.INTRANSITIVE if v != "live"])
        return subj + [_verb(verb, agr), rng.choice(["in", "to", "near"])] + noun_phrase(rng, lx.PLACES)[0]
    subj, agr = _subject(rng)  # subject verb object [place]
    verb = rng.choice([v for v in lx.TRANSITIVE if v != "eat"])
    words = subj + [_verb(verb, agr)] + _object(rng)
    if rng.random() < 0.3:
        words += [rng.choice(["in", "near", "behind"])] + noun_phrase(rng, lx.PLACES)[0]
    return words


def _question(rng: random.Random) -> list[str]:
    kind = rng.randrange(5)
    np, plural = noun_phrase(rng, lx.PEOPLE + lx.ANIMALS + lx.THINGS)
    if kind == 0:
        return ["where", "are" if plural else "is"] + np + ["?"]
    if kind == 1:
        return ["are" if plural else "is"] + np + [rng.choice(ADJ_NO_COLOR), "?"]
    if kind == 2:
        subj, _ = noun_phrase(rng, lx.PEOPLE)
        return ["how", "many", lx.plural(rng.choice(lx.THINGS + lx.FOODS)), "does"] + subj + ["have", "?"]
    if kind == 3:
        return ["who", rng.choice(["has", "wants", "likes", "sees"])] + np + ["?"]
    subj, agr = _subject(rng, lx.PEOPLE)
    return ["does" if agr == "3s" else "do"] + subj + [rng.choice(["like", "want", "see", "need"])] + \
        noun_phrase(rng)[0] + ["?"]


def _short_enough(tokens: list[str]) -> bool:
    n = sum(t[0].isalpha() for t in tokens)
    return MIN_WORDS <= n <= MAX_WORDS


def sentence_tokens(rng: random.Random) -> list[str]:
    """One sentence of 4-12 words: statements, compound statements and questions."""
    while True:
        roll = rng.random()
        if roll < 0.2:
            tokens = _question(rng)
        elif roll < 0.3:
            tokens = _clause(rng) + [",", rng.choice(["and", "but", "because"])] + _clause(rng) + ["."]
        else:
            tokens = _clause(rng) + ["."]
        if _short_enough(tokens):
            return tokens


def sentence(rng: random.Random) -> str:
    return english(sentence_tokens(rng))


def paragraph(rng: random.Random, sentences: tuple[int, int] = (2, 4)) -> str:
    return english([t for _ in range(rng.randint(*sentences)) for t in sentence_tokens(rng)])
