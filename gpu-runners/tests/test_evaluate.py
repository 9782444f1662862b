"""runners/evaluate.py + oall_formats.py: log-likelihood multiple choice on every OALL layout.

A model that knows the answer must score 100%, a model that does not must score near chance.
"Knows the answer" is made literal: each question leaks its own answer ("الإجابة:<label>") and a
stand-in model copies whatever followed the longest earlier match of the current text (an ideal
induction head), so it strongly prefers the gold label exactly when the format's gold index and
the prompt's labels agree. Chance level comes from a real, random tiny LFM2. The rows and the tiny
model come from eval_world.py; how each layout's files are read is test_evaluate_formats.py's.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch
from eval_world import OPTIONS, rows, run_evaluate, write_benchmarks

from hala_runners import contract, mcq_loglikelihood, store
from hala_runners.oall_formats import LAYOUTS, McqDoc
from hala_runners.runners import evaluate


class SuffixCopyLM(torch.nn.Module):
    """Puts logit 20 on the token that followed the longest earlier match of the text so far."""

    def __init__(self, vocab: int):
        super().__init__()
        self.vocab = vocab
        self.config = SimpleNamespace(max_position_embeddings=1024)
        self.anchor = torch.nn.Parameter(torch.zeros(1))  # so the runner can find a device

    def forward(self, input_ids, attention_mask, position_ids=None, logits_to_keep=0):
        b, n = input_ids.shape
        real = attention_mask.bool()
        eq = (input_ids[:, :, None] == input_ids[:, None, :]) & real[:, :, None] & real[:, None, :]
        # match[:, i, j] = length of the common suffix of the texts ending at i and at j.
        match = torch.zeros(b, n, n, dtype=torch.long)
        for i in range(n):
            match[:, i, 0] = eq[:, i, 0]
            if i:
                match[:, i, 1:] = eq[:, i, 1:] * (match[:, i - 1, :-1] + 1)
        match = match * torch.ones(n, n, dtype=torch.long).tril(-1)  # only earlier positions j < i
        best = (match * (n + 1) + torch.arange(n)).argmax(-1)  # longest match, latest on ties
        found = match.gather(-1, best[..., None])[..., 0] > 0
        nxt = input_ids.gather(1, (best + 1).clamp(max=n - 1))
        logits = torch.zeros(b, n, self.vocab)
        logits.scatter_(-1, nxt[..., None], 20.0 * found[..., None].float())
        return SimpleNamespace(logits=logits[:, -logits_to_keep:] if logits_to_keep else logits)


def test_a_model_that_knows_the_answers_scores_100_on_every_format(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setattr(evaluate, "_load_model", lambda uri: (SuffixCopyLM(len(tiny.tokenizer)), tiny.tokenizer))
    code, events = run_evaluate(tmp_path, capsys, "hf://stand-in/copy", write_benchmarks(tmp_path, 12, leak=True))
    assert code == 0, events[-1]
    result = events[-1]["result"]
    contract.validate_output("evaluate_benchmarks", result)
    assert result["scores"] == {f"tiny-{fmt}": 100.0 for fmt in LAYOUTS} and result["average"] == 100.0

    report = json.loads(store.fetch(result["report"]).read_text())
    assert report["benchmarks"]["tiny-exams"] == {"format": "exams", "uri": f"file://{tmp_path}/exams.parquet",
                                                  "rows": 12, "acc": 100.0, "acc_norm": 100.0}
    assert "LogProbCharNorm" in report["metric"]

    # A retry finds every benchmark finished under the prefix and never loads the model again.
    monkeypatch.setattr(evaluate, "_load_model", lambda uri: pytest.fail("model loaded on a retry"))
    code, events = run_evaluate(tmp_path, capsys, "hf://stand-in/copy", write_benchmarks(tmp_path, 12, leak=True))
    assert code == 0 and events[-1]["result"]["scores"] == result["scores"]


@pytest.mark.parametrize("knobs", [{"formulation": "cf"}, {"formulation": "cf", "chat_template": True},
                                   {"chat_template": True}], ids=["cloze", "cloze-chat", "labels-chat"])
def test_cloze_and_chat_template_score_what_the_model_was_asked(tiny, tmp_path, capsys, monkeypatch, knobs):
    """The copying model finds the answer where each knob's prompt puts it: after the cloze's cue, or
    at the opening of the assistant's turn (the option text, or its label under mcf)."""
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setattr(evaluate, "_load_model", lambda uri: (SuffixCopyLM(len(tiny.tokenizer)), tiny.tokenizer))
    leak = {("cf", False): "cf", ("cf", True): "chat", ("mcf", True): "chat-label"}[
        (knobs.get("formulation", "mcf"), knobs.get("chat_template", False))]
    benchmarks = write_benchmarks(tmp_path, 12, leak=leak)
    code, events = run_evaluate(tmp_path, capsys, "hf://stand-in/copy", benchmarks, **knobs)
    assert code == 0, events[-1]
    assert events[-1]["result"]["scores"] == {f"tiny-{fmt}": 100.0 for fmt in LAYOUTS}
    report = json.loads(store.fetch(events[-1]["result"]["report"]).read_text())
    assert ("cloze" in report["prompts"]) == (knobs.get("formulation") == "cf")
    assert ("chat template" in report["prompts"]) == bool(knobs.get("chat_template"))


def test_chat_template_on_a_model_without_one_and_cloze_under_lighteval_are_bad_input(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    bare = SimpleNamespace(chat_template=None, pad_token_id=0, model_max_length=1024)
    monkeypatch.setattr(evaluate, "_load_model", lambda uri: (SuffixCopyLM(len(tiny.tokenizer)), bare))
    code, events = run_evaluate(tmp_path, capsys, "hf://stand-in/bare", write_benchmarks(tmp_path, 2, leak=False),
                             chat_template=True)
    assert code == 1 and events[-1]["type"] == "BadInput"
    assert "hf://stand-in/bare has no chat template" in events[-1]["message"]
    (tmp_path / "le").mkdir()
    code, events = run_evaluate(tmp_path / "le", capsys, tiny.model_uri, write_benchmarks(tmp_path, 2, leak=False),
                             harness="lighteval", formulation="cf")
    assert code == 1 and events[-1]["type"] == "BadInput" and "formulation: mcf" in events[-1]["message"]


ROWS = 24  # per format: enough to tell chance from knowledge, cheap on 2 CPU cores


def test_a_model_that_does_not_know_scores_near_chance(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    code, events = run_evaluate(tmp_path, capsys, tiny.model_uri, write_benchmarks(tmp_path, ROWS, leak=False), batch_size=16)
    assert code == 0, events[-1]
    for fmt, score in ((b.removeprefix("tiny-"), s) for b, s in events[-1]["result"]["scores"].items()):
        chance = 100.0 * sum(1 / OPTIONS[fmt][i % len(OPTIONS[fmt])] for i in range(ROWS)) / ROWS
        assert abs(score - chance) <= 20.0, (fmt, score, chance)


@pytest.mark.parametrize("fmt", ["arabic_mmlu", "alghafa"])  # multi-token and shared one-token choices
def test_batched_left_padded_scores_equal_a_plain_forward_of_each_choice(tiny, fmt):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(store.local_path(tiny.model_uri)).eval()
    docs = [evaluate.to_doc(fmt, r, "test") for r in rows(fmt, 6, leak=False)]
    requests = mcq_loglikelihood.build_requests(docs, lambda text, add_special_tokens=True: tiny.tokenizer(
        text, add_special_tokens=add_special_tokens)["input_ids"], max_length=1024)
    batched = mcq_loglikelihood.score_requests(model, requests, 16, tiny.tokenizer.pad_token_id)

    def plain(r):  # no padding, full logits: log P(continuation | context) by the book
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([r.context + r.continuation])).logits[0]
        logprobs = torch.log_softmax(logits, -1)
        n = len(r.context)
        return sum(float(logprobs[n - 1 + k, t]) for k, t in enumerate(r.continuation))

    assert batched == pytest.approx([plain(r) for r in requests], abs=1e-4)


def test_acc_norm_divides_by_characters_where_acc_does_not():
    docs = [McqDoc("q", ["ab", "abcdefgh"], gold_index=1)]
    requests = [mcq_loglikelihood.Request(0, 0, [1], [2]), mcq_loglikelihood.Request(0, 1, [1], [3])]
    # Total log-likelihood favours the short choice; per character the long one wins.
    assert mcq_loglikelihood.accuracy(docs, requests, [-4.0, -6.0]) == {"rows": 1, "acc": 0.0, "acc_norm": 100.0}


class MemoryBound(torch.nn.Module):
    """A model on a device that fits at most `fits` rows per forward pass: CUDA's OOM past it."""

    def __init__(self, model, fits: int):
        super().__init__()
        self.model, self.config, self.fits = model, model.config, fits
        self.batches: list[int] = []

    def forward(self, input_ids, **kwargs):
        self.batches.append(input_ids.shape[0])
        if input_ids.shape[0] > self.fits:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.00 GiB (injected)")
        return self.model(input_ids, **kwargs)


def test_out_of_memory_halves_the_batch_and_scores_the_same(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    benchmarks = write_benchmarks(tmp_path, 6, leak=False)
    (tmp_path / "straight").mkdir()
    code, events = run_evaluate(tmp_path / "straight", capsys, tiny.model_uri, benchmarks, batch_size=8)
    assert code == 0, events[-1]
    straight = events[-1]["result"]

    real_load = evaluate._load_model
    bounded: list[MemoryBound] = []

    def load_bounded(uri):
        model, tokenizer = real_load(uri)
        bounded.append(MemoryBound(model, fits=2))
        return bounded[-1], tokenizer

    monkeypatch.setattr(evaluate, "_load_model", load_bounded)
    for batch in (8, 4):
        code, events = run_evaluate(tmp_path, capsys, tiny.model_uri, benchmarks, batch_size=8)
        assert code != 0 and events[-1]["event"] == "error" and events[-1]["type"] == "OutOfMemory"
        assert f"out of memory at {batch} rows per engine call" in events[-1]["message"]
        assert "stages.evaluate.batch_size" in events[-1]["message"]
    code, events = run_evaluate(tmp_path, capsys, tiny.model_uri, benchmarks, batch_size=8)
    assert code == 0, events[-1]
    result = events[-1]["result"]
    contract.validate_output("evaluate_benchmarks", result)
    assert max(bounded[-1].batches) == 2 and (result["batch_size"], result["oom_halvings"]) == (2, 2)
    assert straight["oom_halvings"] == 0 and straight["batch_size"] == 8
    assert result["scores"] == straight["scores"]  # the batch changes how rows are grouped, not the scores
