"""runners/evaluate.py + oall_formats.py: log-likelihood multiple choice on every OALL layout.

A model that knows the answer must score 100%, a model that does not must score near chance.
"Knows the answer" is made literal: each question leaks its own answer ("الإجابة:<label>") and a
stand-in model copies whatever followed the longest earlier match of the current text (an ideal
induction head), so it strongly prefers the gold label exactly when the format's gold index and
the prompt's labels agree. Chance level comes from a real, random tiny LFM2.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from hala_runners import contract, mcq_loglikelihood, progress, store
from hala_runners.oall_formats import LAYOUTS, McqDoc
from hala_runners.runners import evaluate

ARABIC = ["أ", "ب", "ج", "د", "هـ"]
WORDS = ["قمر", "بحر", "شمس", "جبل", "نهر", "كتاب", "قلم", "باب", "نجم", "ورد", "سماء", "طريق"]
# How many options a row of each format has (alghafa and ArabicMMLU vary, with null cells).
OPTIONS = {"alghafa": [2, 3, 4, 5], "arabic_mmlu": [4, 5], "madinah_qa": [4], "exams": [4],
           "aratrust": [3], "arbmmlu_ht": [4]}


def label(fmt: str, k: int) -> str:
    """The text the prompt shows for option k, written out independently of oall_formats."""
    return {"alghafa": str(k), "arbmmlu_ht": str(k + 1)}.get(fmt, ARABIC[k])


def make_row(fmt: str, question: str, options: list[str], gold: int, i: int) -> dict:
    """One row in the benchmark's own column layout and answer encoding."""
    if fmt == "alghafa":
        return {"query": question, **{f"sol{k + 1}": options[k] if k < len(options) else None for k in range(5)},
                "label": str(gold)}
    if fmt in ("arabic_mmlu", "madinah_qa"):
        return {"Question": question, "Context": None if i % 2 else "سياق قصير",
                **{f"Option {k + 1}": options[k] if k < len(options) else None for k in range(5)},
                "Answer Key": "ABCDE"[gold]}
    if fmt == "exams":
        return {"question": question, "subject": "Islamic_Studies", **dict(zip("ABCD", options)),
                "answer": "ABCD"[gold]}
    if fmt == "aratrust":  # the answer letter comes in either script
        return {"Question": question, **{L: f"{ARABIC[k]}) {o}" for k, (L, o) in enumerate(zip("ABC", options))},
                "Answer": ARABIC[gold] if i % 2 else "ABC"[gold]}
    return {"question": question, "choices": options, "answer": gold}


def rows(fmt: str, n: int, leak: bool | str) -> list[dict]:
    """leak=True: the question holds its answer label; "cf": its answer text, after the cloze's cue;
    "chat" / "chat-label": its answer text / label opening an assistant turn, as a chat prompt ends."""
    out = []
    for i in range(n):
        k = OPTIONS[fmt][i % len(OPTIONS[fmt])]
        gold = (i * 7) % k  # every position is gold equally often
        options = [WORDS[(i + 3 * j) % len(WORDS)] + f" {j}" for j in range(k)]
        hint = {True: f" الإجابة:{label(fmt, gold)} .", "cf": f"\nالإجابة: {options[gold]}\n",
                "chat": f"<|im_start|>assistant\n{options[gold]}<|im_end|>\n",
                "chat-label": f"<|im_start|>assistant\n{label(fmt, gold)}<|im_end|>\n"}
        question = f"ما الكلمة رقم {i}؟" + hint.get(leak, "")
        out.append(make_row(fmt, question, options, gold, i))
    return out


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


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from tiny_world.models import save_model, tiny_lfm2
    from tiny_world.tokenizer import build_tokenizer

    root = tmp_path_factory.mktemp("eval-model")
    tok = build_tokenizer()
    save_model(tiny_lfm2(tok, "350m", seed=3), tok, root / "lfm2")
    return SimpleNamespace(tokenizer=tok, model_uri=f"file://{root}/lfm2")


def _benchmarks(tmp_path, n, leak):
    out = []
    for fmt in LAYOUTS:
        path = tmp_path / f"{fmt}.parquet"
        pq.write_table(pa.Table.from_pylist(rows(fmt, n, leak)), path)
        out.append({"name": f"tiny-{fmt}", "uri": f"file://{path}", "format": fmt})
    return out


def _evaluate(tmp_path, capsys, model_uri, benchmarks, batch_size=8, **knobs):
    cfg = {"stage_key": "e" * 64, "output_prefix": f"file://{tmp_path}/store/eval", "model": model_uri,
           "benchmarks": benchmarks, "batch_size": batch_size, **knobs}
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    code = evaluate.main(["--config", str(tmp_path / "cfg.json")])
    return code, [e for e in map(progress.parse_line, capsys.readouterr().out.splitlines()) if e]


def test_a_model_that_knows_the_answers_scores_100_on_every_format(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setattr(evaluate, "_load_model", lambda uri: (SuffixCopyLM(len(tiny.tokenizer)), tiny.tokenizer))
    code, events = _evaluate(tmp_path, capsys, "hf://stand-in/copy", _benchmarks(tmp_path, 12, leak=True))
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
    code, events = _evaluate(tmp_path, capsys, "hf://stand-in/copy", _benchmarks(tmp_path, 12, leak=True))
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
    benchmarks = _benchmarks(tmp_path, 12, leak=leak)
    code, events = _evaluate(tmp_path, capsys, "hf://stand-in/copy", benchmarks, **knobs)
    assert code == 0, events[-1]
    assert events[-1]["result"]["scores"] == {f"tiny-{fmt}": 100.0 for fmt in LAYOUTS}
    report = json.loads(store.fetch(events[-1]["result"]["report"]).read_text())
    assert ("cloze" in report["prompts"]) == (knobs.get("formulation") == "cf")
    assert ("chat template" in report["prompts"]) == bool(knobs.get("chat_template"))


def test_cloze_scores_option_texts_after_the_question_and_chat_wraps_the_user_turn():
    from hala_runners.oall_formats import to_doc

    trust = {"Question": "q", "A": "أ) نعم", "B": "ب) لا", "C": "ج) ربما", "Answer": "ب"}
    doc = to_doc("aratrust", trust, "trust.parquet", "cf")
    assert doc == McqDoc("q\nالإجابة:", [" نعم", " لا", " ربما"], 1)  # AraTrust's own labels are dropped
    madinah = {"Question": "q", "Context": "c", "Option 1": "x", "Option 2": "y", "Answer Key": "B"}
    chat = lambda text: f"<user>{text}</user><reply>"  # noqa: E731
    assert to_doc("madinah_qa", madinah, "m.parquet", "cf", chat) == McqDoc("<user>c\nq</user><reply>", ["x", "y"], 1)
    labels = to_doc("madinah_qa", madinah, "m.parquet", "mcf", chat)
    assert labels.query.startswith("<user>") and labels.query.endswith("الإجابة:</user><reply>")
    assert labels.choices == ["أ", "ب"]


def test_chat_template_on_a_model_without_one_and_cloze_under_lighteval_are_bad_input(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    bare = SimpleNamespace(chat_template=None, pad_token_id=0, model_max_length=1024)
    monkeypatch.setattr(evaluate, "_load_model", lambda uri: (SuffixCopyLM(len(tiny.tokenizer)), bare))
    code, events = _evaluate(tmp_path, capsys, "hf://stand-in/bare", _benchmarks(tmp_path, 2, leak=False),
                             chat_template=True)
    assert code == 1 and events[-1]["type"] == "BadInput"
    assert "hf://stand-in/bare has no chat template" in events[-1]["message"]
    (tmp_path / "le").mkdir()
    code, events = _evaluate(tmp_path / "le", capsys, tiny.model_uri, _benchmarks(tmp_path, 2, leak=False),
                             harness="lighteval", formulation="cf")
    assert code == 1 and events[-1]["type"] == "BadInput" and "formulation: mcf" in events[-1]["message"]


ROWS = 24  # per format: enough to tell chance from knowledge, cheap on 2 CPU cores


def test_a_model_that_does_not_know_scores_near_chance(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    code, events = _evaluate(tmp_path, capsys, tiny.model_uri, _benchmarks(tmp_path, ROWS, leak=False), batch_size=16)
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


def test_formats_keep_option_letters_and_reject_impossible_answers():
    from hala_runners.errors import HalaError
    from hala_runners.oall_formats import to_doc

    row = {"Question": "q", "Context": None, "Option 1": "x", "Option 2": "y", "Option 3": None,
           "Option 4": "z", "Option 5": None, "Answer Key": "D"}
    doc = to_doc("arabic_mmlu", row, "mmlu.parquet")
    assert (doc.choices, doc.gold_index) == (["أ", "ب", "د"], 2)  # a null option keeps later letters
    assert doc.query.endswith("أ. x\nب. y\nد. z\nالإجابة:")
    with pytest.raises(HalaError, match=r"trust.parquet: row .* Answer='X' is not a letter"):
        to_doc("aratrust", {"Question": "q", "A": "a", "B": "b", "C": "c", "Answer": "X"}, "trust.parquet")
    with pytest.raises(HalaError, match="names an option the row does not have"):
        to_doc("arabic_mmlu", {**row, "Answer Key": "C"}, "mmlu.parquet")


def test_a_missing_column_is_bad_input_naming_file_column_and_layout(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    path = tmp_path / "exams.parquet"
    pq.write_table(pa.Table.from_pylist([{"question": "q", "A": "a", "B": "b", "C": "c", "D": "d"}]), path)
    code, events = _evaluate(tmp_path, capsys, tiny.model_uri,
                             [{"name": "ex", "uri": f"file://{path}", "format": "exams"}])
    assert code == 1
    message = events[-1]["message"]
    assert events[-1]["type"] == "BadInput" and "exams.parquet" in message and "['answer']" in message
    assert "answer = a letter A-D" in message


def test_the_tiny_world_benchmarks_evaluate_in_every_format(hub_mirror, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    benchmarks = [{"name": fmt, "uri": f"hf://datasets/hala-tiny/oall/{fmt}/test.parquet", "format": fmt}
                  for fmt in LAYOUTS]
    code, events = _evaluate(tmp_path, capsys, "hf://hala-tiny/lfm2-350m", benchmarks, batch_size=16)
    assert code == 0, events[-1]
    result = events[-1]["result"]
    assert set(result["scores"]) == set(LAYOUTS)
    assert all(0.0 <= s <= 100.0 for s in result["scores"].values())


def test_a_split_sharded_over_several_files_is_named_by_a_glob(tiny, tmp_path, capsys, monkeypatch):
    """Hub benchmarks ship as test-0000k-of-0000n.parquet: one benchmark reads every shard."""
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    data = rows("exams", 8, leak=True)
    split = tmp_path / "split"
    split.mkdir()
    pq.write_table(pa.Table.from_pylist(data[:5]), split / "test-00000-of-00002.parquet")
    pq.write_table(pa.Table.from_pylist(data[5:]), split / "test-00001-of-00002.parquet")
    code, events = _evaluate(tmp_path, capsys, tiny.model_uri,
                             [{"name": "ex", "uri": f"file://{split}/test-*.parquet", "format": "exams"}])
    assert code == 0, events[-1]
    report = json.loads(store.fetch(events[-1]["result"]["report"]).read_text())
    assert report["benchmarks"]["ex"]["rows"] == 8


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
    benchmarks = _benchmarks(tmp_path, 6, leak=False)
    (tmp_path / "straight").mkdir()
    code, events = _evaluate(tmp_path / "straight", capsys, tiny.model_uri, benchmarks, batch_size=8)
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
        code, events = _evaluate(tmp_path, capsys, tiny.model_uri, benchmarks, batch_size=8)
        assert code != 0 and events[-1]["event"] == "error" and events[-1]["type"] == "OutOfMemory"
        assert f"out of memory at {batch} rows per engine call" in events[-1]["message"]
        assert "stages.evaluate.batch_size" in events[-1]["message"]
    code, events = _evaluate(tmp_path, capsys, tiny.model_uri, benchmarks, batch_size=8)
    assert code == 0, events[-1]
    result = events[-1]["result"]
    contract.validate_output("evaluate_benchmarks", result)
    assert max(bounded[-1].batches) == 2 and (result["batch_size"], result["oom_halvings"]) == (2, 2)
    assert straight["oom_halvings"] == 0 and straight["batch_size"] == 8
    assert result["scores"] == straight["scores"]  # the batch changes how rows are grouped, not the scores
