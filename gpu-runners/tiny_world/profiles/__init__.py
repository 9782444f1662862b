"""Target-language profiles of the tiny world: one small module per target language.

A profile holds what differs between worlds: the target words of the lemmas, the rules that turn an
English noun phrase into a target one (articles, plural, adjective order), punctuation, the OPUS
pair and hub org, the models built and the benchmarks with their column layout. Everything else
(the English side, the World's facts, the builders) is shared.

The build picks one with TINY_WORLD_LANG (default `ar`, the first world) before anything imports
it: the modules of the generator read the active profile at import, and the build's spawned side
process inherits the variable, so both processes build the same world.
"""
from __future__ import annotations

import importlib
import os
from types import ModuleType

CODES = ("ar", "fr")
ENV = "TINY_WORLD_LANG"


def load(code: str) -> ModuleType:
    if code not in CODES:
        raise SystemExit(f"tiny-world: {ENV}={code!r} names no profile; expected one of {', '.join(CODES)}"
                         " (gpu-runners/tiny_world/profiles/<code>.py)")
    return importlib.import_module(f"{__name__}.{code}")


PROFILE = load(os.environ.get(ENV, "ar"))
