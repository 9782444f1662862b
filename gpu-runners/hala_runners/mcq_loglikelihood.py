"""Multiple-choice scoring by log-likelihood, the own harness's core (runners/evaluate.py): each
(row, choice) becomes a request, requests become as few sequences as the model must read, and each
choice's summed log-probability becomes acc and acc_norm.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from .errors import bad_input
from .oall_formats import McqDoc


@dataclass(frozen=True)
class Request:
    doc: int  # index of the row
    choice: int
    context: list[int]
    continuation: list[int]


def build_requests(docs: Sequence[McqDoc], encode: Callable[..., list[int]], max_length: int) -> list[Request]:
    """One request per (row, choice). `encode(text, add_special_tokens=True)` is the tokenizer.

    The continuation's tokens are those that encoding prompt + choice adds after the prompt's own
    encoding (as lighteval does), so the choice is scored the way the model reads it in context;
    when the tokenizer merges across the boundary, the choice is encoded on its own instead.
    A prompt too long for `max_length` loses its left end (the question stays next to the answer)."""
    requests = []
    for d, doc in enumerate(docs):
        context = encode(doc.query)
        for c, choice in enumerate(doc.choices):
            whole = encode(doc.query + choice)
            if whole[: len(context)] == context and len(whole) > len(context):
                cont = whole[len(context):]
            else:
                cont = encode(choice, add_special_tokens=False)
            keep = max_length - len(cont)
            if keep < 1:
                raise bad_input(f"choice {choice!r:.80} is {len(cont)} tokens, over max_length {max_length}")
            requests.append(Request(d, c, context[-keep:], cont))
    return requests


@dataclass(frozen=True)
class _Row:
    """One sequence the model reads, and the requests scored from its last logits."""
    tokens: list[int]
    reads: list[tuple[int, int]]  # (request index, lag): lag 1 = continuation is the tail of
    #                               `tokens`; lag 0 = one-token continuation predicted after it


def _rows(requests: Sequence[Request]) -> list[_Row]:
    """Choices of one prompt that are single tokens (letter labels, digits) share one sequence:
    one forward pass scores them all. Longer choices each get their own sequence."""
    by_context: dict[tuple[int, ...], list[int]] = {}
    for i, r in enumerate(requests):
        by_context.setdefault(tuple(r.context), []).append(i)
    rows = []
    for context, members in by_context.items():
        if len(members) > 1 and all(len(requests[i].continuation) == 1 for i in members):
            rows.append(_Row(list(context), [(i, 0) for i in members]))
        else:
            rows += [_Row(requests[i].context + requests[i].continuation, [(i, 1)]) for i in members]
    return sorted(rows, key=lambda row: -len(row.tokens))  # similar lengths batch together


def score_requests(model, requests: Sequence[Request], batch_size: int, pad_id: int,
                   on_batch: Callable[[int], None] = lambda n: None) -> list[float]:
    """Summed log-probabilities of each request's continuation, in request order.

    Batches are left-padded so every continuation ends at the last position: the model computes
    logits for the last few positions only, never a seq x vocab tensor. Position ids skip the
    padding, so a padded row scores as it would alone."""
    import torch

    device = next(model.parameters()).device
    rows = _rows(requests)
    out = [0.0] * len(requests)
    for start in range(0, len(rows), batch_size):
        batch = rows[start:start + batch_size]
        width = max(len(row.tokens) for row in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for b, row in enumerate(batch):
            ids[b, width - len(row.tokens):] = torch.tensor(row.tokens)
            mask[b, width - len(row.tokens):] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        keep = max(len(requests[i].continuation) + lag for row in batch for i, lag in row.reads)
        with torch.inference_mode():
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device),
                           position_ids=positions.to(device), logits_to_keep=keep).logits
        logprobs = torch.log_softmax(logits[:, -keep:, :].float(), dim=-1)
        for b, row in enumerate(batch):
            for i, lag in row.reads:
                cont = requests[i].continuation
                # The logit at position p predicts token p + 1, so a continuation of n tokens that
                # ends `lag` positions before the end is predicted by the n positions before that.
                preds = logprobs[b, keep - len(cont) - lag: keep - lag, :]
                target = torch.tensor(cont, device=preds.device)
                out[i] = float(preds.gather(-1, target[:, None]).sum())
        on_batch(sum(len(row.reads) for row in batch))
    return out


def accuracy(docs: Sequence[McqDoc], requests: Sequence[Request], logprobs: Sequence[float]) -> dict[str, float]:
    """acc and acc_norm in percent. Ties go to the first choice (no credit for a flat model)."""
    per_doc: dict[int, list[float]] = {}
    for r, lp in zip(requests, logprobs):
        per_doc.setdefault(r.doc, [0.0] * len(docs[r.doc].choices))[r.choice] = lp
    acc = acc_norm = 0
    for d, doc in enumerate(docs):
        lps = per_doc[d]
        normed = [lp / max(1, len(choice)) for lp, choice in zip(lps, doc.choices)]
        acc += int(max(range(len(lps)), key=lps.__getitem__) == doc.gold_index)
        acc_norm += int(max(range(len(normed)), key=normed.__getitem__) == doc.gold_index)
    n = max(1, len(docs))
    return {"rows": len(docs), "acc": 100.0 * acc / n, "acc_norm": 100.0 * acc_norm / n}
