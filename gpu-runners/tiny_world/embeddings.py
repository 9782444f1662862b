"""Cross-lingual embedding initialisation from the tiny world's bilingual lexicon.

The real students and teacher are pretrained on both languages, so a word and its translation
already sit close in their embedding space. A tiny model trained for seconds cannot get there, so
we start it there, the way NMT systems are initialised from cross-lingual word vectors: a token's
embedding is lemma + side (source/target) + feature (plural, definite, capitalised, spaced) vectors
plus noise. Attention can then match a target word with its source word from the first step
(the generic copying circuit a small model learns fast); the word mapping itself, the word order
and everything else are still learnt from text. On its own it translates nothing.
"""
from __future__ import annotations

from . import lexicon as lx
from .profiles import PROFILE


def _single_token(tokenizer, text: str) -> int | None:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return ids[0] if len(ids) == 1 else None


def align_embeddings(model, tokenizer, seed: int, noise: float = 0.3) -> int:
    """Start every surface form of a lemma, in both scripts, near one shared vector; returns how
    many token embeddings were set. The other tokens keep their random initialisation."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    emb = model.get_input_embeddings().weight
    std = model.config.initializer_range

    def vec() -> "torch.Tensor":
        return torch.randn(emb.shape[1], generator=gen) * std

    features = {k: vec() for k in ("source", "target", "plural", "definite", "capital", "space")}
    lemma_vec: dict[str, torch.Tensor] = {}
    assigned: dict[int, torch.Tensor] = {}
    for form, (lemma, _, is_plural) in sorted(lx.lexicon().items()):
        if lemma not in lemma_vec:
            lemma_vec[lemma] = vec()
        base = lemma_vec[lemma] + (features["plural"] if is_plural else 0)
        variants = [(form, features["source"]), (form.capitalize(), features["source"] + features["capital"])]
        word = lx.target_words().get(lemma)
        if word:
            variants += [(text, features["target"] + (features["definite"] if definite else 0))
                         for text, definite in PROFILE.embedding_forms(word, is_plural)]
        for text, extra in variants:
            for spaced in (False, True):
                token = _single_token(tokenizer, (" " if spaced else "") + text)
                if token is not None and token not in assigned:
                    assigned[token] = base + extra + (features["space"] if spaced else 0) + vec() * noise
    with torch.no_grad():
        for token, value in assigned.items():
            emb[token] = value
    return len(assigned)
