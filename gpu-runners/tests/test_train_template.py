"""runners/train.py with a base whose chat template TRL cannot train assistant-only (issue 22, finding 5).

TRL 1.16's SFTTrainer with assistant_only_loss=True needs `{% generation %}` markers in the template,
or a template equal byte for byte to one it ships a training version of; else it raises "The chat
template is not training-compatible ... patching is not supported" inside SFTTrainer(...). The tiny
world's template carries the markers, so these tests give the tiny world's base other templates.
"""
from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from train_world import train_config, write_config
from transformers import AutoTokenizer

from hala_runners import contract, progress, store, training_template
from hala_runners.runners import train

# The ChatML template many bases ship: the same text as the tiny world's, without the markers.
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
# A layout neither TRL nor the project ships a training template for.
PLAIN = ("{% for message in messages %}{% if message['role'] == 'user' %}{{ '### User:\n' + message['content'] + '\n' }}"
         "{% else %}{{ '### Assistant:\n' + message['content'] + '<|im_end|>\n' }}{% endif %}{% endfor %}"
         "{% if add_generation_prompt %}{{ '### Assistant:\n' }}{% endif %}")
# Fanar-1-9B-Instruct's layout for system, user and assistant (Gemma 2's turn markers; a user turn opens
# the model's turn), written here without generation markers as the hub ships it.
FANAR = ("{{ '<bos>' }}{% for message in messages %}{% if loop.first and message['role'] == 'system' %}{{ message['content'] }}"
         "{% elif message['role'] == 'user' %}{{ '<start_of_turn>user\n' + message['content'] + '<end_of_turn>\n<start_of_turn>model\n' }}"
         "{% elif message['role'] == 'assistant' %}{{ message['content'] + '<end_of_turn>\n' }}{% endif %}{% endfor %}")
# ChatML that adds a default system message: not the text the project's ChatML template renders.
CHATML_DEFAULT_SYSTEM = ("{% if messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
                         + CHATML)
FIELD = "stages.sft.students[2].base"


def _base(tiny_hub, root, template: str) -> str:
    """The tiny world's 350m student with `template` as its chat template (both places transformers reads)."""
    base = root / "base"
    shutil.copytree(tiny_hub / "hala-tiny" / "lfm2-350m", base)
    (base / "chat_template.jinja").write_text(template)
    config = json.loads((base / "tokenizer_config.json").read_text())
    (base / "tokenizer_config.json").write_text(json.dumps({**config, "chat_template": template}))
    return f"file://{base}"


def _chats(root, turns: int = 1, rows: int = 16) -> dict:
    chats = []
    for k in range(rows):
        messages = []
        for t in range(turns):
            messages += [{"role": "user", "content": f"What colour is item {k + t}?"},
                         {"role": "assistant", "content": f"Item {k + t} is {['red', 'blue'][(k + t) % 2]}."}]
        chats.append({"messages": messages})
    pq.write_table(pa.Table.from_pylist(chats), root / "chat.parquet")
    return store.publish_file(root / "chat.parquet", f"file://{root}/store/chat.parquet", "dataset", rows=rows)


def _config(tmp_path, base: str, dataset: dict, **knobs) -> train.Config:
    cfg = train_config({"dataset": dataset, "base": base}, f"file://{tmp_path}/store/sft",
                       knobs={"save_every_steps": 1000, **knobs})
    cfg.base_field = FIELD
    return cfg


def _trained_and_masked(trainer) -> tuple[str, str]:
    batch = trainer.data_collator([trainer.train_dataset[0]])
    tok = trainer.processing_class
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    return (tok.decode([i for i, l in zip(ids, labels) if l != -100]),
            tok.decode([i for i, l in zip(ids, labels) if l == -100]))


def test_a_chatml_base_without_generation_markers_trains_on_the_projects_marked_template(tiny_hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    cfg = _config(tmp_path, _base(tiny_hub, tmp_path, CHATML), _chats(tmp_path))
    result = train._run(cfg)  # TRL alone: ValueError "not training-compatible" in SFTTrainer(...)
    contract.validate_output("train_sft", result)
    assert result["training_template"] == {"template": "hala:chatml", "loss": "assistant_only"}
    model = store.fetch(result["model"])
    card = json.loads((model / "hala_run_config.json").read_text())
    assert card["training_template"] == result["training_template"]
    # The published model keeps the base's own template: the markers were for training only.
    assert AutoTokenizer.from_pretrained(model).chat_template == CHATML

    trained, masked = _trained_and_masked(train.build_trainer(cfg).trainer)
    assert trained.startswith("Item ") and trained.endswith(".<|im_end|>")  # the answer and its stop token
    assert "What colour is item" in masked and "<|im_start|>user" in masked


def test_an_unknown_template_on_single_turn_chats_falls_back_to_completion_only_loss(tiny_hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    cfg = _config(tmp_path, _base(tiny_hub, tmp_path, PLAIN), _chats(tmp_path))
    result = train._run(cfg)
    contract.validate_output("train_sft", result)
    assert result["training_template"] == {"template": "base", "loss": "completion_only"}
    assert result["steps"] == 4

    trained, masked = _trained_and_masked(train.build_trainer(cfg).trainer)
    assert trained.startswith("Item ") and trained.rstrip().endswith(".<|im_end|>")  # the reply, the same span
    assert "### User:\nWhat colour is item" in masked and masked.endswith("### Assistant:\n")


@pytest.mark.parametrize("gpus", [1, 2])
def test_an_unknown_template_on_multi_turn_chats_is_refused_before_any_model_is_loaded(tiny_hub, tmp_path, capsys, monkeypatch, gpus):
    import trl

    from hala_runners.runners import distributed

    def never(*args, **kwargs):
        raise AssertionError("training started: the template should have been refused before")

    monkeypatch.setattr(trl, "SFTTrainer", never)
    monkeypatch.setattr(distributed, "launch", never)
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    base = _base(tiny_hub, tmp_path, PLAIN)
    cfg = _config(tmp_path, base, _chats(tmp_path, turns=2), gpus=gpus)
    assert train.main(["--config", write_config(tmp_path, cfg)]) == 1
    error = progress.parse_line(capsys.readouterr().out.splitlines()[-1])
    assert error["type"] == "BadInput", error
    for words in (f"{FIELD} = {base}", "{% generation %}", "16 of 16 rows", "several assistant turns",
                  "gpu-runners/hala_runners/templates/"):
        assert words in error["message"], (words, error["message"])


def _template_of(template) -> str:
    from trl import chat_template_utils

    return getattr(chat_template_utils, template[len("trl:"):]) if template.startswith("trl:") else template


@pytest.mark.parametrize("template, chosen", [
    ("tiny", ("base", "assistant_only")),  # the tiny world's own, with markers
    ("trl:qwen2_5_chat_template", ("trl", "assistant_only")),  # one TRL ships a training version of
    (CHATML, ("hala:chatml", "assistant_only")),
    (FANAR, ("hala:fanar", "assistant_only")),
    (CHATML_DEFAULT_SYSTEM, ("base", "completion_only")),  # renders otherwise: not replaced
])
def test_the_choice_follows_the_base_template(tiny_hub, tmp_path, template, chosen):
    tok = AutoTokenizer.from_pretrained(tiny_hub / "hala-tiny" / "lfm2-350m")
    if template != "tiny":
        tok.chat_template = _template_of(template)
    _chats(tmp_path)
    choice = training_template.choose(tok, tmp_path / "chat.parquet", f"{FIELD} = hf://org/base")
    assert (choice.template, choice.loss) == chosen
    if choice.chat_template:  # the marked template renders the base's text for a real chat too
        chat = [{"role": "user", "content": "What colour is item 3?"}, {"role": "assistant", "content": "Item 3 is blue."}]
        assert (tok.apply_chat_template(chat, tokenize=False)
                == tok.apply_chat_template(chat, tokenize=False, chat_template=choice.chat_template))
