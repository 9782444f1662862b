"""The first tiny world: an Arabic-script pseudo-language (the world every other test's figures
rest on; its bytes must not change when the generator changes for another profile).

Rules beyond word substitution: adjectives follow their noun; `the` becomes a prefix on the noun
and on each of its adjectives (agreement); `a` / `an` vanish; every plural noun takes one suffix
whatever its English form; punctuation takes its Arabic form; no letter case. Target words are
pseudo-words drawn from Arabic letters, seeded by the lemma.
"""
from __future__ import annotations

import hashlib
import random

CODE = "ar"
TARGET_NAME = "Arabic"
ORG = "hala-tiny"
MANIFEST = "MANIFEST.json"
# Lemmas only this world's prompts need ("Translate everything that follows into Arabic").
EXTRA_FUNCTION = ("arabic", "english")
MODELS = {"350m": "lfm2-350m", "700m": "lfm2-700m", "1.2b": "lfm2-1.2b"}
BENCHMARK_DIR = "oall"
BENCHMARKS = ("alghafa", "arabic_mmlu", "exams", "madinah_qa", "aratrust", "arbmmlu_ht")
TARGET_PUNCT = {"?": "؟", ",": "،", ";": "؛"}
QUESTION_MARK = "؟"

_LATIN_TO_ARABIC = dict(zip("abcdefghijklmnopqrstuvwxyz", "ابكدهفغحيجكلمنوبقرستويكسيز"))
# Arabic letters used for pseudo-words: consonants plus the long vowels that carry syllables.
_CONSONANTS = list("بتثجحخدذرزسشصضطظعغفقكلمنهو")
_VOWELS = ["ا", "و", "ي", ""]
DEFINITE_PREFIX = "ال"  # `the` becomes a prefix on the noun and its adjectives (target-side rule)
PLURAL_SUFFIX = "ات"    # every plural noun takes this suffix, irregular English plurals included


def pseudo_word(lemma: str, salt: int) -> str:
    # Seeded by the lemma itself (sha256, not Python's salted hash) so adding a word never changes
    # the others; two or three syllables keep the target side about as long as the English one.
    digest = hashlib.sha256(f"hala-tiny:{lemma}:{salt}".encode()).digest()
    rng = random.Random(digest)
    syllables = 2 if len(lemma) <= 4 else 3
    return "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(syllables))


def target_word(lemma: str, salt: int) -> str:
    return pseudo_word(lemma, salt)


def transliterate(token: str) -> str:
    """A word outside the lexicon (a name, code), letter by letter."""
    return "".join(_LATIN_TO_ARABIC.get(ch, ch) for ch in token)


def plural(word: str) -> str:
    return word + PLURAL_SUFFIX


def noun_phrase(article: str | None, number: str | None, noun: str, plural_: bool,
                gender: str, adjectives: list[str]) -> list[str]:
    """Target words of [article] [number] adjective* noun (words already translated)."""
    prefix = DEFINITE_PREFIX if article == "the" else ""
    head = prefix + (plural(noun) if plural_ else noun)
    return ([number] if number else []) + [head] + [prefix + a for a in adjectives]


def dangling_article(article: str) -> str | None:
    """An article with no noun after it: `the` stays visible, `a` vanishes."""
    return DEFINITE_PREFIX if article == "the" else None


def lexicon_line(form: str, word: str) -> str:
    """One tokenizer training line per English form: its target forms, so each becomes a token or two."""
    return f"{form} {form.capitalize()} {word} {DEFINITE_PREFIX}{word} {word}{PLURAL_SUFFIX}"


def embedding_forms(word: str, is_plural: bool) -> list[tuple[str, bool]]:
    """(target surface form, is definite) whose embeddings start near the lemma's."""
    word += PLURAL_SUFFIX if is_plural else ""
    return [(word, False), (DEFINITE_PREFIX + word, True)]


def gender(lemma: str) -> str:
    return ""
