"""The ground-truth translation of the tiny world: English-like text -> Arabic-script text.

Word by word through lexicon.target_words(), plus rules that make it more than substitution:
  1. adjectives follow their noun:            "the big red dog" -> DOG BIG RED
  2. `the` becomes a prefix on the noun and on each of its adjectives (agreement): ال+DOG ال+BIG
  3. `a` / `an` vanish (no indefinite article on the target side)
  4. plural nouns take a suffix whatever their English form: "dogs", "mice" -> DOG+ات, MOUSE+ات
  5. punctuation takes its Arabic form (? -> ؟, , -> ،, ; -> ؛); there is no letter case
Words outside the lexicon (names, code) are transliterated letter by letter, so translate() is total.
translate() is what chrF++ is measured against; sentence() / paragraph() draw English text.
"""
from __future__ import annotations

import re

from .lexicon import DEFINITE_PREFIX, PLURAL_SUFFIX, lexicon, target_words

SOURCE_NAME = "English"
TARGET_NAME = "Arabic"
TARGET_PUNCT = {"?": "؟", ",": "،", ";": "؛"}
_TOKEN = re.compile(r"[A-Za-z']+|\d+|[^\sA-Za-z\d]")
_LATIN_TO_ARABIC = dict(zip("abcdefghijklmnopqrstuvwxyz", "ابكدهفغحيجكلمنوبقرستويكسيز"))


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
        return "".join(_LATIN_TO_ARABIC.get(ch, ch) for ch in token)
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
    prefix = DEFINITE_PREFIX if article == "the" else ""
    noun = prefix + target_words()[lemma] + (PLURAL_SUFFIX if is_plural else "")
    out = ([_target(number)] if number else []) + [noun] + [prefix + _target(a) for a in adjectives]
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
        if token in ("a", "an"):
            pass  # rule 3
        elif entry is not None and entry[1] == "noun" and entry[2]:
            out.append(target_words()[entry[0]] + PLURAL_SUFFIX)
        elif token == "the":
            out.append(DEFINITE_PREFIX)  # a dangling article: keep it visible rather than lose it
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
