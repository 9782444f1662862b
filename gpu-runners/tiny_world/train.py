"""The one small training loop the tiny world uses: causal-LM loss on pre-tokenized examples.

Plain PyTorch rather than a Trainer: on 2 CPU cores the build has minutes, and a hand loop with
length-bucketed batches wastes no time on padding or framework start-up. Deterministic given the
seed (fixed thread count, seeded shuffles).
"""
from __future__ import annotations

import math
import random
import sys
import time
from dataclasses import dataclass


@dataclass
class Example:
    input_ids: list[int]
    labels: list[int]  # -100 where no loss is taken (prompt, padding)


@dataclass
class TrainConfig:
    steps: int = 300            # optimizer steps
    batch_tokens: int = 4096    # padded tokens per batch (batch size adapts to sequence length)
    lr: float = 3e-3            # peak AdamW learning rate, after linear warm-up
    warmup: int = 20            # warm-up steps; cosine decay to 10% of peak afterwards
    weight_decay: float = 0.01
    seed: int = 0
    log_every: int = 50
    short_steps: int = 0        # curriculum: the first steps draw only batches of short examples,
    short_width: int = 56       # <= this many tokens, so word mapping is learnt before long-range order


def _batches(examples: list[Example], cfg: TrainConfig, pad_id: int):
    """Endless stream of padded (input_ids, attention_mask, labels) batches of similar length."""
    rng = random.Random(cfg.seed)
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].input_ids))
    groups, current, longest = [], [], 0
    for i in order:  # consecutive lengths: little padding
        longest = max(longest, len(examples[i].input_ids))
        if current and longest * (len(current) + 1) > cfg.batch_tokens:
            groups.append(current)
            current, longest = [], len(examples[i].input_ids)
        current.append(i)
    groups.append(current)
    short = [g for g in groups if max(len(examples[i].input_ids) for i in g) <= cfg.short_width]
    step = 0
    while True:  # one shuffled pass over the groups at a time (the curriculum's passes are cut short)
        curriculum = step < cfg.short_steps and bool(short)
        pool = list(short if curriculum else groups)
        rng.shuffle(pool)
        for group in pool[:cfg.short_steps - step] if curriculum else pool:
            step += 1
            yield _pad([examples[i] for i in group], pad_id)


def _pad(batch: list[Example], pad_id: int):
    import torch

    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, e in enumerate(batch):
        n = len(e.input_ids)
        ids[row, :n] = torch.tensor(e.input_ids)
        labels[row, :n] = torch.tensor(e.labels)
        mask[row, :n] = 1
    return ids, mask, labels


def causal_lm_loss(model, ids, mask, labels):
    """Mean next-token cross-entropy over labelled positions, projecting only those positions on
    the vocabulary (the prompt is most of a translation example: this skips ~60% of the lm_head).
    Equals model(labels=...).loss for the architectures here (checked in tests)."""
    import torch.nn.functional as F

    hidden = model.model(input_ids=ids, attention_mask=mask).last_hidden_state[:, :-1]
    target = labels[:, 1:]
    keep = target != -100
    logits = model.get_output_embeddings()(hidden[keep]) * getattr(model.config, "logit_scale", 1.0)
    return F.cross_entropy(logits.float(), target[keep])


def train(model, examples: list[Example], cfg: TrainConfig, pad_id: int, name: str = "model") -> float:
    """Train in place; returns the mean loss of the last 20 steps."""
    import torch

    torch.manual_seed(cfg.seed)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                            betas=(0.9, 0.98))

    def lr_at(step: int) -> float:
        if step < cfg.warmup:
            return cfg.lr * (step + 1) / cfg.warmup
        progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
        return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    recent: list[float] = []
    start = time.time()
    stream = _batches(examples, cfg, pad_id)
    for step in range(cfg.steps):
        ids, mask, labels = next(stream)
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        loss = causal_lm_loss(model, ids, mask, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        recent = (recent + [loss.item()])[-20:]
        if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
            print(f"tiny-world: {name} step {step + 1}/{cfg.steps} loss {sum(recent) / len(recent):.3f} "
                  f"({time.time() - start:.0f}s)", file=sys.stderr, flush=True)
    model.eval()
    return sum(recent) / len(recent)
