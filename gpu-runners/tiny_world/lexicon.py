"""The tiny world's vocabulary: English lemmas by part of speech, their inflections, and the
deterministic target word each lemma maps to (the active profile's: profiles/).

Everything here is a pure function of the word lists, so the language is identical on every machine
and needs no seed: the random choices live in grammar.py.
"""
from __future__ import annotations

from functools import lru_cache

from .profiles import PROFILE

# Grouped by role so grammar.py can build sentences (and world facts) that make sense.
ANIMALS = ("cat dog horse bird cow sheep lion camel goat rabbit mouse duck fox wolf bear monkey "
           "owl frog").split()
PEOPLE = ("boy girl man woman teacher doctor farmer king queen child student friend mother father "
          "brother sister baker driver").split()
PLACES = ("city village house forest garden school market river mountain desert sea library farm "
          "street island castle").split()
FOODS = "fish meat grass bread rice apple cheese milk water honey seed date egg soup cake corn".split()
THINGS = ("car book door ball hat table chair window box key cup pen lamp bag boat letter phone "
          "clock bed shirt").split()
ABSTRACT = "answer question sentence word step story song game day".split()
PROMPT_NOUNS = "assistant color".split()  # only in instruction templates, never in random sentences
NOUNS = ANIMALS + PEOPLE + PLACES + FOODS + THINGS + ABSTRACT + PROMPT_NOUNS

COLORS = "red blue green yellow white black brown".split()
ADJECTIVES = COLORS + ("big small old new young happy sad tall short long fast slow hot cold good bad "
                       "beautiful clean dirty heavy light quiet loud rich poor strong weak kind hungry "
                       "tired busy empty full sweet simple helpful").split()

# Transitive verbs take an object; `live`/`go`/`sleep` take a place phrase instead.
TRANSITIVE = ("see like want have eat read find buy sell carry open close make take give help love "
              "visit paint clean watch follow write need bring").split()
INTRANSITIVE = "live go sleep walk run sing play work".split()
INSTRUCTION_VERBS = "answer explain tell think translate".split()  # imperatives in prompts
VERBS = TRANSITIVE + INTRANSITIVE + [v for v in INSTRUCTION_VERBS if v not in TRANSITIVE]

NUMBERS = "one two three four five six seven eight nine ten eleven twelve".split()
PRONOUNS = "i you he she we they it me him us them".split()
POSSESSIVES = "my your his her our their its".split()
DETERMINERS = "this that every some".split()
ARTICLES = ("the", "a", "an")
PREPOSITIONS = "in on near under with from to behind into by for of about".split()
FUNCTION = ("is are am do does did not and but because very today now there here yes no what where "
            "who how many much why when which please always also everything follows here").split() \
    + list(PROFILE.EXTRA_FUNCTION)  # the language names the world's prompts use

# English irregular forms; everything else follows the regular -s / -es / -ies rules.
_IRREGULAR_PLURAL = {"man": "men", "woman": "women", "child": "children", "mouse": "mice",
                     "sheep": "sheep", "fish": "fish", "corn": "corn", "rice": "rice", "milk": "milk",
                     "water": "water", "honey": "honey", "grass": "grass", "meat": "meat",
                     "bread": "bread", "cheese": "cheese", "soup": "soup", "wolf": "wolves"}
_IRREGULAR_3SG = {"have": "has", "do": "does", "go": "goes", "watch": "watches"}

def plural(noun: str) -> str:
    if noun in _IRREGULAR_PLURAL:
        return _IRREGULAR_PLURAL[noun]
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def third_singular(verb: str) -> str:
    if verb in _IRREGULAR_3SG:
        return _IRREGULAR_3SG[verb]
    if verb.endswith(("s", "x", "ch", "sh", "o")):
        return verb + "es"
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


@lru_cache(maxsize=1)
def lexicon() -> dict[str, tuple[str, str, bool]]:
    """English surface form -> (lemma, part of speech, is_plural). Inflections share their lemma."""
    table: dict[str, tuple[str, str, bool]] = {}

    def add(form: str, lemma: str, pos: str, is_plural: bool = False) -> None:
        table.setdefault(form, (lemma, pos, is_plural))

    for noun in NOUNS:
        add(noun, noun, "noun")
        add(plural(noun), noun, "noun", plural(noun) != noun)
    for adj in ADJECTIVES:
        add(adj, adj, "adj")
    for verb in VERBS:
        add(verb, verb, "verb")
        add(third_singular(verb), verb, "verb")
    for word in NUMBERS:
        add(word, word, "num")
    for word in ARTICLES:
        add(word, word, "article")
    for group, pos in ((PRONOUNS, "pron"), (POSSESSIVES, "poss"), (DETERMINERS, "det"),
                       (PREPOSITIONS, "prep"), (FUNCTION, "func")):
        for word in group:
            add(word, word, pos)
    return table


@lru_cache(maxsize=1)
def target_words() -> dict[str, str]:
    """Lemma -> its target word (the profile's); unique, so translation is invertible per word."""
    lemmas = sorted({lemma for lemma, _, _ in lexicon().values()} - {"the", "a", "an"})
    out: dict[str, str] = {}
    taken: set[str] = set()
    for lemma in lemmas:
        salt = 0
        word = PROFILE.target_word(lemma, salt)
        while word in taken:
            salt += 1
            word = PROFILE.target_word(lemma, salt)
        taken.add(word)
        out[lemma] = word
    return out
