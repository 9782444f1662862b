"""The French profile of the tiny world (gpu-runners/tiny_world/profiles/fr.py): real French words,
articles by gender and number, adjectives after the noun and agreeing in number, Latin script.
The generator reads its profile at import, so the French world is probed in a child process.

Run: PYTHONPATH=gpu-runners $(bash scripts/python-env.sh)/bin/python -m pytest gpu-runners/tests/test_tiny_world_fr.py
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json
from tiny_world import lexicon, benchmarks
from tiny_world.language import TARGET_NAME, translate
words = lexicon.target_words()
print(json.dumps({
    "name": TARGET_NAME,
    "unique": len(set(words.values())) == len(words),
    "examples": {t: translate(t) for t in [
        "The big red dog eats the apples.", "A small cat sees an old bird.", "The two horses are in the garden?",
        "Dogs like water."]},
    "mmlu": benchmarks.rows("mmlu", 0, 3),
    "benchmarks": list(benchmarks.BENCHMARKS),
}, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def french():
    gpu_runners = Path(__file__).resolve().parents[1]
    env = {**os.environ, "TINY_WORLD_LANG": "fr", "PYTHONPATH": str(gpu_runners)}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_the_french_world_translates_with_french_words_and_rules(french):
    assert french["name"] == "French" and french["unique"]
    assert french["examples"] == {
        "The big red dog eats the apples.": "le chien grand rouge mange les pommes.",
        "A small cat sees an old bird.": "un chat petit voit un oiseau vieux.",
        "The two horses are in the garden?": "les deux chevaux sont dans le jardin?",
        "Dogs like water.": "chiens aime eau.",
    }


def test_its_benchmark_is_in_the_mmlu_layout(french):
    assert french["benchmarks"] == ["mmlu"]
    row = french["mmlu"][0]
    assert list(row) == ["question", "subject", "choices", "answer"]
    assert len(row["choices"]) == 4 and 0 <= row["answer"] < 4


def test_an_unknown_profile_is_refused_naming_the_variable_and_the_choices():
    gpu_runners = Path(__file__).resolve().parents[1]
    env = {**os.environ, "TINY_WORLD_LANG": "xx", "PYTHONPATH": str(gpu_runners)}
    done = subprocess.run([sys.executable, "-c", "import tiny_world.language"], env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "TINY_WORLD_LANG='xx' names no profile; expected one of ar, fr" in done.stderr
