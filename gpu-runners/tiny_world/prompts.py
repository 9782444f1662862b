"""System prompts and instruction phrasings of the tiny instruction sets, all inside the lexicon
so that the translator can translate them like any other text."""
from __future__ import annotations

SYSTEM_PROMPTS = (
    "",
    "You are a helpful assistant.",
    "You are a helpful assistant. Answer the question in one short sentence.",
    "You are a kind teacher. Explain the answer in simple words.",
    "You are a helpful assistant. Think step by step.",
)
