"""Brief plain-LM pretraining of the LFM2 bases on monolingual text of both languages.

The English documents and the target-language documents come from different random streams, so
the bases learn each language's words and order but never see a sentence next to its translation:
they are fluent-ish bases that do not translate (the translator's untrained chrF++ stays low).
Facts of the World are never stated here, so benchmark scores start near chance.
"""
from __future__ import annotations

import random

from . import grammar
from .language import translate
from .tokenizer import EOT
from .train import Example, TrainConfig, train

BLOCK = 96  # tokens per training sequence; documents are packed and split at this length


def monolingual_blocks(tokenizer, seed: int, documents: int = 1500) -> list[Example]:
    english_rng, target_rng = random.Random(f"mono-en:{seed}"), random.Random(f"mono-tgt:{seed}")
    docs = []
    for i in range(documents):
        if i % 2:
            docs.append(grammar.paragraph(english_rng, (2, 5)))
        else:
            docs.append(translate(grammar.paragraph(target_rng, (2, 5))))
    stream: list[int] = []
    for ids in tokenizer(docs, add_special_tokens=False)["input_ids"]:
        stream += ids + [tokenizer.convert_tokens_to_ids(EOT)]
    blocks = [stream[i:i + BLOCK] for i in range(0, len(stream) - BLOCK + 1, BLOCK)]
    return [Example(b, list(b)) for b in blocks]


def pretrain(model, tokenizer, seed: int, steps: int = 150, name: str = "lfm2") -> float:
    """Train in place on packed monolingual blocks; returns the final mean loss."""
    blocks = monolingual_blocks(tokenizer, seed)
    cfg = TrainConfig(steps=steps, batch_tokens=16 * BLOCK, lr=3e-3, warmup=15, seed=seed)
    return train(model, blocks, cfg, tokenizer.pad_token_id, name)
