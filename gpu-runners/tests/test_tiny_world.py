"""The tiny world's generators: language, tokenizer, model builders and dataset writers (seconds).

Run: PYTHONPATH=gpu-runners $(bash scripts/python-env.sh)/bin/python -m pytest gpu-runners/tests/test_tiny_world.py
The shipped mirror is checked by test_tiny_world_mirror.py; runner tests use it through `tiny_hub`.
"""
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tiny_world import benchmarks, grammar, instructions, lexicon, opus
from tiny_world.profiles import ar
from tiny_world.language import translate, words
from tiny_world.tokenizer import IM_END, build_tokenizer, training_text, translation_messages

W = lexicon.target_words()
THE, PL = ar.DEFINITE_PREFIX, ar.PLURAL_SUFFIX  # these tests read the first world (the default profile)


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer(texts=training_text(0, sentences=800))


# --- language -------------------------------------------------------------------------------

def test_generators_are_deterministic_for_a_seed():
    first = [grammar.paragraph(random.Random(7)) for _ in range(3)]
    assert first == [grammar.paragraph(random.Random(7)) for _ in range(3)]
    assert grammar.sentence(random.Random(1)) != grammar.sentence(random.Random(2))
    assert translate(first[0]) == translate(first[0])
    from tiny_world.language import sentence
    assert sentence(random.Random(5)) == grammar.sentence(random.Random(5))


def test_sentences_are_short_english_and_translations_are_arabic_script():
    rng = random.Random(3)
    for _ in range(200):
        text = grammar.sentence(rng)
        n = sum(t[0].isalpha() for t in words(text))
        assert 4 <= n <= 12 and text[0].isupper() and text[-1] in ".?"
        target = translate(text)
        assert not any("a" <= ch.lower() <= "z" for ch in target)
        assert any("\u0600" <= ch <= "\u06ff" for ch in target)


def test_adjectives_follow_their_noun_and_take_the_article():
    assert translate("the red cat") == f"{THE}{W['cat']} {THE}{W['red']}"
    assert translate("a big old dog") == f"{W['dog']} {W['big']} {W['old']}"  # `a` vanishes
    # predicative adjectives stay in place and get no article
    assert translate("The cat is red.") == f"{THE}{W['cat']} {W['is']} {W['red']}."


def test_plurals_take_one_suffix_and_punctuation_goes_arabic():
    assert translate("two mice?") == f"{W['two']} {W['mouse']}{PL}؟"
    assert translate("dogs, cats") == f"{W['dog']}{PL}، {W['cat']}{PL}"


def test_pseudo_words_are_unique_and_unknown_words_still_translate():
    assert len(set(W.values())) == len(W)
    assert translate("Zorblat") and translate("Zorblat") == translate("zorblat")


# --- tokenizer ------------------------------------------------------------------------------

def test_tokenizer_round_trips_both_scripts(tok):
    english = "The big red dog sees a small cat. Where is the old king?"
    for text in (english, translate(english), "mixed نص and text 123 ```code```"):
        assert tok.decode(tok(text)["input_ids"]) == text
    # one token or two per word: the BPE learnt the words of both sides
    assert len(tok(translate(english))["input_ids"]) <= 2 * len(translate(english).split())


def test_chat_template_marks_only_the_assistant_answer(tok):
    answer = translate("The big dog sees a cat.")
    msgs = translation_messages("The big dog sees a cat.") + [{"role": "assistant", "content": answer}]
    out = tok.apply_chat_template(msgs, return_assistant_tokens_mask=True, return_dict=True)
    kept = [i for i, m in zip(out["input_ids"], out["assistant_masks"]) if m]
    assert sum(out["assistant_masks"]) > 0
    assert tok.decode(kept) == answer + IM_END


def test_generation_prompt_and_special_tokens(tok):
    text = tok.apply_chat_template(translation_messages("Hello."), add_generation_prompt=True, tokenize=False)
    assert text == ("<|im_start|>user\nTranslate everything that follows into Arabic:\n\nHello.<|im_end|>\n"
                    "<|im_start|>assistant\n")
    assert tok.eos_token == IM_END and tok.pad_token_id == 0 and tok.eos_token_id != tok.pad_token_id


def test_teacher_examples_tokenize_like_the_full_chat(tok):
    from tiny_world.teacher import translation_example

    text = "Where does the king live? The king is happy."
    example = translation_example(tok, text)
    msgs = translation_messages(text) + [{"role": "assistant", "content": translate(text)}]
    full = tok.apply_chat_template(msgs, tokenize=True, return_dict=True)["input_ids"]
    assert full[:len(example.input_ids)] == example.input_ids
    assert tok.decode([t for t in example.labels if t >= 0]) == translate(text) + IM_END


# --- models ---------------------------------------------------------------------------------

@pytest.mark.parametrize("size", ["350m", "700m", "1.2b"])
def test_tiny_lfm2_runs_a_forward_pass(tok, size):
    import torch

    from tiny_world.models import tiny_lfm2

    model = tiny_lfm2(tok, size)
    ids = torch.tensor([tok("The cat sleeps.")["input_ids"]])
    assert model(input_ids=ids).logits.shape == (1, ids.shape[1], len(tok))
    assert "conv" in model.config.layer_types and "full_attention" in model.config.layer_types


def test_lfm2_sizes_increase():
    from tiny_world.models import LFM2_SIZES

    hidden = [LFM2_SIZES[s][0] for s in ("350m", "700m", "1.2b")]
    assert hidden == sorted(hidden) and len(set(hidden)) == 3


def test_tiny_cohere2_saves_tied_bf16_and_reloads(tok, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tiny_world.models import save_model, tiny_cohere2

    model = tiny_cohere2(tok)
    assert model.config.hidden_size % 16 == 0 and model.config.tie_word_embeddings
    save_model(model, tok, tmp_path, torch.bfloat16)
    for name in ("config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                 "tokenizer_config.json"):
        assert (tmp_path / name).is_file(), name
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert loaded.dtype == torch.bfloat16 and type(loaded).__name__ == "Cohere2ForCausalLM"
    ids = torch.tensor([tok("The cat sleeps.")["input_ids"]])
    assert loaded(input_ids=ids).logits.shape[-1] == len(tok)
    assert AutoTokenizer.from_pretrained(tmp_path).chat_template == tok.chat_template


# --- datasets -------------------------------------------------------------------------------

def test_opus_has_the_translation_struct_and_counted_noise(tmp_path):
    import json

    opus.write_opus(tmp_path, seed=0, train_rows=400, eval_rows=30)
    struct = pa.struct([("en", pa.string()), ("ar", pa.string())])
    splits = {}
    for split in ("train", "validation", "test"):
        table = pq.read_table(tmp_path / "en-ar" / f"{split}-00000-of-00001.parquet")
        assert table.schema == pa.schema([("translation", struct)])
        splits[split] = [r["translation"] for r in table.to_pylist()]
    report = json.loads((tmp_path / "NOISE.json").read_text())
    assert len(splits["train"]) == 400 and len(splits["test"]) == 30
    assert report["injected_total"] == 60 and all(report["injected"].values())
    assert {k: len(v) for k, v in report["rows_by_kind"].items()} == report["injected"]
    train_keys = {opus.normalise(r["en"]) for r in splits["train"]}
    for split in ("validation", "test"):
        assert not train_keys & {opus.normalise(r["en"]) for r in splits[split]}
    rows = splits["train"]
    assert all(not rows[i]["en"].strip() or not rows[i]["ar"].strip() for i in report["rows_by_kind"]["empty"])
    assert all(rows[i]["en"] == rows[i]["ar"] for i in report["rows_by_kind"]["identical"])
    clean = [r for i, r in enumerate(rows) if not any(i in v for v in report["rows_by_kind"].values())]
    assert len({(r["en"], r["ar"]) for r in clean}) == len(clean)  # duplicates are only the injected ones


def test_instruction_sets_have_the_real_layouts(tmp_path):
    instructions.write_instructions(tmp_path, seed=0, orca=50, orca_instructions=30, hermes=60)
    orca_schema = pa.schema([(c, pa.string()) for c in ("id", "system_prompt", "question", "response")])
    a = pq.read_table(tmp_path / "OpenOrca/1M-GPT4-Augmented.parquet")
    b = pq.read_table(tmp_path / "OpenOrca-instructions/train.parquet")
    assert a.schema == orca_schema and b.schema == orca_schema and a.num_rows == 50
    assert not set(a["id"].to_pylist()) & set(b["id"].to_pylist())
    assert all(i.split(".")[0] in instructions.ORCA_PREFIXES for i in a["id"].to_pylist())
    hermes = pq.read_table(tmp_path / "hermes-3/train.parquet")
    turn = pa.struct([("from", pa.string()), ("value", pa.string())])
    assert hermes.schema == pa.schema([("conversations", pa.list_(turn))])
    convs = hermes["conversations"].to_pylist()
    assert {t["from"] for c in convs for t in c} == {"system", "human", "gpt"}
    assert sum(any("```" in t["value"] for t in c) for c in convs) == 6


@pytest.mark.parametrize("name", benchmarks.BENCHMARKS)
def test_benchmarks_have_lighteval_columns_and_valid_answers(tmp_path, name):
    benchmarks.write_benchmarks(tmp_path, seed=0, n=12)
    table = pq.read_table(tmp_path / name / "test.parquet")
    assert table.schema == benchmarks.schema(name) and table.num_rows == 12
    for row in table.to_pylist():
        if name == "alghafa":
            assert row["label"] in "0123" and row[f"sol{int(row['label']) + 1}"]
        elif name in ("arabic_mmlu", "madinah_qa"):
            assert row["Answer Key"] in "ABCD" and row["Option 5"] is None
        elif name == "exams":
            assert row["answer"] in "ABCD" and row[row["answer"]]
        elif name == "aratrust":
            assert row["Answer"] in "ABC"
        else:
            assert 0 <= row["answer"] < len(row["choices"]) == 4


# --- training helpers -----------------------------------------------------------------------

def test_answer_only_loss_equals_the_models_own_loss(tok):
    import torch

    from tiny_world.models import tiny_cohere2, tiny_lfm2
    from tiny_world.teacher import translation_examples
    from tiny_world.train import _pad, causal_lm_loss

    batch = _pad(translation_examples(tok, ["The cat sleeps.", "Where is the big dog? It is here."]), 0)
    for model in (tiny_cohere2(tok), tiny_lfm2(tok, "350m")):
        ids, mask, labels = batch
        expected = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        assert torch.allclose(causal_lm_loss(model, ids, mask, labels), expected, atol=1e-5)


def test_aligned_embeddings_put_a_word_next_to_its_translation(tok):
    import torch

    from tiny_world.embeddings import align_embeddings
    from tiny_world.models import tiny_lfm2

    model = tiny_lfm2(tok, "350m")
    assert align_embeddings(model, tok, seed=0) > 500
    emb = model.get_input_embeddings().weight

    def vec(text):
        ids = tok(text, add_special_tokens=False)["input_ids"]
        assert len(ids) == 1, text
        return emb[ids[0]]

    cos = torch.nn.functional.cosine_similarity
    assert cos(vec(" cat"), vec(" " + W["cat"]), dim=0) > cos(vec(" cat"), vec(" " + W["dog"]), dim=0) + 0.2
