"""The second tiny world: French, in the Latin script. Real French words for the lemmas (so that a
real language identifier calls the target side French), with the rules of a simplified French:
adjectives follow their noun and agree in number; `the` / `a` become le, la, l', les / un, une by the
noun's gender; plurals take -s (-x, -aux, unchanged after s/x/z); punctuation and letter case stay
as they are written (all lower case, like the first world). Verbs keep one form each.
"""
from __future__ import annotations

CODE = "fr"
TARGET_NAME = "French"
ORG = "hala-tiny-fr"
MANIFEST = "MANIFEST.fr.json"
EXTRA_FUNCTION = ("french", "english")
# A smaller world than the first: the translator base and one student.
MODELS = {"350m": "lfm2-350m", "1.2b": "lfm2-1.2b"}
BENCHMARK_DIR = "mmlu"
BENCHMARKS = ("mmlu",)  # the cais/mmlu layout that translated MMLUs (French MMLU among them) keep
TARGET_PUNCT: dict[str, str] = {}
QUESTION_MARK = "?"

# lemma -> French word; nouns carry their gender after a space (m / f).
_WORDS = """
cat chat m|dog chien m|horse cheval m|bird oiseau m|cow vache f|sheep mouton m|lion lion m|camel chameau m
goat chèvre f|rabbit lapin m|mouse souris f|duck canard m|fox renard m|wolf loup m|bear ours m
monkey singe m|owl hibou m|frog grenouille f
boy garçon m|girl fille f|man homme m|woman femme f|teacher professeur m|doctor médecin m|farmer fermier m
king roi m|queen reine f|child enfant m|student étudiant m|friend ami m|mother mère f|father père m
brother frère m|sister sœur f|baker boulanger m|driver chauffeur m
city ville f|village village m|house maison f|forest forêt f|garden jardin m|school école f|market marché m
river rivière f|mountain montagne f|desert désert m|sea mer f|library bibliothèque f|farm ferme f
street rue f|island île f|castle château m
fish poisson m|meat viande f|grass herbe f|bread pain m|rice riz m|apple pomme f|cheese fromage m
milk lait m|water eau f|honey miel m|seed graine f|date datte f|egg œuf m|soup soupe f|cake gâteau m
corn maïs m
car voiture f|book livre m|door porte f|ball balle f|hat chapeau m|table table f|chair chaise f
window fenêtre f|box boîte f|key clé f|cup tasse f|pen stylo m|lamp lampe f|bag sac m|boat bateau m
letter lettre f|phone téléphone m|clock horloge f|bed lit m|shirt chemise f
answer réponse f|question question f|sentence phrase f|word mot m|step étape f|story histoire f
song chanson f|game jeu m|day jour m|assistant assistant m|color couleur f
red rouge|blue bleu|green vert|yellow jaune|white blanc|black noir|brown brun|big grand|small petit
old vieux|new nouveau|young jeune|happy heureux|sad triste|tall haut|short bref|long long|fast rapide
slow lent|hot chaud|cold froid|good bon|bad mauvais|beautiful beau|clean propre|dirty sale|heavy lourd
light léger|quiet calme|loud bruyant|rich riche|poor pauvre|strong fort|weak faible|kind gentil
hungry affamé|tired fatigué|busy occupé|empty vide|full plein|sweet doux|simple simple|helpful utile
see voit|like aime|want veut|have a|eat mange|read lis|find trouve|buy achète|sell vend
carry transporte|open ouvre|close clôt|make fabrique|take prend|give donne|help aide|love adore
visit visite|paint peint|watch regarde|follow suit|write écrit|need nécessite|bring apporte
live habite|go va|sleep dort|walk marche|run court|sing chante|play joue|work travaille
explain explique|tell dis|think pense|translate traduis
one un|two deux|three trois|four quatre|five cinq|six six|seven sept|eight huit|nine neuf|ten dix
eleven onze|twelve douze
i je|you tu|he il|she elle|we on|they ils|it ça|me moi|him lui|us nous|them eux
my mon|your ton|his son|her sa|our notre|their leur|its ses
this ce|that cet|every chaque|some quelques
in dans|on sur|near près|under sous|with avec|from depuis|to à|behind derrière|into vers|by par
for pour|of de|about environ
is est|are sont|am suis|do fais|does fait|did faisait|not pas|and et|but mais|because parce
very très|today aujourd'hui|now maintenant|there là|here ici|yes oui|no non|what quoi|where où
who qui|how comment|many beaucoup|much tant|why pourquoi|when quand|which quel|please veuillez
always toujours|also aussi|everything tout|follows suit|french français|english anglais
"""
_TABLE = {}
for _entry in _WORDS.replace("\n", "|").split("|"):
    if _entry.strip():
        _lemma, *_rest = _entry.split()
        _TABLE[_lemma] = (_rest[0], _rest[1] if len(_rest) > 1 else "")


def target_word(lemma: str, salt: int) -> str:
    """The French word of a lemma; a word that collides with another lemma's (salt > 0) is an error
    in the table above, not something to paper over."""
    if lemma not in _TABLE:
        raise KeyError(f"tiny_world/profiles/fr.py has no French word for the lemma {lemma!r}")
    if salt:
        raise ValueError(f"tiny_world/profiles/fr.py: {lemma!r} -> {_TABLE[lemma][0]!r} is another lemma's word")
    return _TABLE[lemma][0]


def gender(lemma: str) -> str:
    return _TABLE.get(lemma, ("", ""))[1]


def transliterate(token: str) -> str:
    return token  # names and code are written the same in both languages


def plural(word: str) -> str:
    if word.endswith(("s", "x", "z")):
        return word
    if word.endswith("eau") or word in ("hibou", "jeu"):
        return word + "x"
    if word.endswith("al"):
        return word[:-2] + "aux"
    return word + "s"


def _article(article: str | None, noun: str, plural_: bool, gender_: str) -> str:
    if article == "the":
        if plural_:
            return "les"
        if noun[0] in "aeiouéèêîôœh":
            return "l'"
        return "la" if gender_ == "f" else "le"
    if article in ("a", "an") and not plural_:
        return "une" if gender_ == "f" else "un"
    return ""


def noun_phrase(article: str | None, number: str | None, noun: str, plural_: bool,
                gender: str, adjectives: list[str]) -> list[str]:
    """Target words of [article] [number] adjective* noun (words already translated)."""
    head = plural(noun) if plural_ else noun
    det = _article(article, noun, plural_, gender)
    if det == "l'":
        head, det = det + head, ""  # elided: one word, "l'oiseau"
    return [w for w in (det, number) if w] + [head] + [plural(a) if plural_ else a for a in adjectives]


def dangling_article(article: str) -> str | None:
    return "le" if article == "the" else None


def lexicon_line(form: str, word: str) -> str:
    return f"{form} {form.capitalize()} {word} {word.capitalize()} {plural(word)} le {word} l'{word}"


def embedding_forms(word: str, is_plural: bool) -> list[tuple[str, bool]]:
    return [(plural(word) if is_plural else word, False)]
