"""The ground-truth translation of the tiny world: English-like text -> the target language.

Word by word through lexicon.target_words(), plus the active profile's rules (profiles/) that make
it more than substitution: how a noun phrase's article, number, adjectives and plural come out
(the first world: "the big red dog" -> ال+DOG ال+BIG ال+RED, `a` vanishes, one plural suffix),
and the target's punctuation. There is no letter case on the target side.
Words outside the lexicon (names, code) are transliterated by the profile, so translate() is total.
translate() is what chrF++ is measured against; sentence() / paragraph() draw English text.
"""
from __future__ import annotations

import re

from .lexicon import lexicon, target_words
from .profiles import PROFILE

SOURCE_NAME = "English"
TARGET_NAME = PROFILE.TARGET_NAME
TARGET_PUNCT = PROFILE.TARGET_PUNCT
_TOKEN = re.compile(r"[A-Za-z']+|\d+|[^\sA-Za-z\d]")


def words(text: str) -> list[str]:
    """Lower-cased word and punctuation tokens of an English text."""
    return [t.lower() for t in _TOKEN.findall(text)]


def _target(token: str) -> str:
    entry = lexicon().get(token)
    if entry is not None:
        return target_words()[entry[0]]
    if token in TARGET_PUNCT:
        return TARGET_PUNCT[token]
    if token.isalpha():
        return PROFILE.transliterate(token)
    return token


def _pos(token: str) -> str:
    entry = lexicon().get(token)
    return entry[1] if entry else "other"


def _noun_phrase(tokens: list[str], i: int) -> tuple[list[str], int] | None:
    """Match [article] [number] adjective* noun at i; return its target words and the next index."""
    j = i
    article = tokens[j] if tokens[j] in ("the", "a", "an") else None
    j += article is not None
    number = None
    if j < len(tokens) and _pos(tokens[j]) == "num":
        number, j = tokens[j], j + 1
    adjectives = []
    while j < len(tokens) and _pos(tokens[j]) == "adj":
        adjectives.append(tokens[j])
        j += 1
    if j >= len(tokens) or _pos(tokens[j]) != "noun":
        return None
    if article is None and number is None and not adjectives:
        return None  # a bare noun needs no rule
    lemma, _, is_plural = lexicon()[tokens[j]]
    out = PROFILE.noun_phrase(article, _target(number) if number else None, target_words()[lemma], is_plural,
                              PROFILE.gender(lemma), [_target(a) for a in adjectives])
    return out, j + 1


def translate_tokens(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        phrase = _noun_phrase(tokens, i)
        if phrase is not None:
            out.extend(phrase[0])
            i = phrase[1]
            continue
        token = tokens[i]
        entry = lexicon().get(token)
        if token in ("a", "an", "the"):
            dangling = PROFILE.dangling_article(token)  # no noun follows: the profile says what stays
            if dangling:
                out.append(dangling)
        elif entry is not None and entry[1] == "noun" and entry[2]:
            out.append(PROFILE.plural(target_words()[entry[0]]))
        else:
            out.append(_target(token))
        i += 1
    return out


def join(tokens: list[str]) -> str:
    """Space-separated words with punctuation attached to the word before it (both scripts)."""
    text = ""
    for token in tokens:
        # isalnum() is False for Arabic punctuation too, and True for Arabic letters.
        text += token if not text or not token[0].isalnum() else " " + token
    return text


def translate(english: str) -> str:
    """The reference translation of an English text (any casing, several sentences allowed)."""
    return join(translate_tokens(words(english)))


def sentence(rng) -> str:
    """A random English sentence of 4-12 words (grammar.py does the work)."""
    from .grammar import sentence as _sentence

    return _sentence(rng)


def paragraph(rng, sentences: tuple[int, int] = (2, 4)) -> str:
    from .grammar import paragraph as _paragraph

    return _paragraph(rng, sentences)


def english(tokens: list[str]) -> str:
    """Render tokens as English prose: sentence-initial capitals, `I`, attached punctuation."""
    cased, start = [], True
    for token in tokens:
        if token == "i":
            token = "I"
        elif start and token[0].isalpha():
            token = token[0].upper() + token[1:]
        start = token in (".", "?", "!") or (start and not token[0].isalpha())
        cased.append(token)
    return join(cased)
