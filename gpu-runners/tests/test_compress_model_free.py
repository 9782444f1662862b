"""compress_model_free, the parts the tiny teacher's end-to-end runs (test_compress.py) cannot show:
progress while model_free_ptq works through many shards, and a checkpoint it cannot read safely."""
from __future__ import annotations

import json
import shutil
import time

import pytest
import torch
from safetensors.torch import save_file

from hala_runners.errors import HalaError
from hala_runners.runners import compress_model_free


def test_a_progress_event_goes_out_as_each_output_shard_appears(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(compress_model_free, "SHARD_POLL_S", 0.01)
    with compress_model_free._report_shards(tmp_path, 3):
        for k in (1, 2):
            (tmp_path / f"model-0000{k}-of-00003.safetensors").write_bytes(b"")
            time.sleep(0.2)
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["phase"], e["done"], e["total"]) for e in events] == [("quantize", 1, 3), ("quantize", 2, 3)]


def test_a_checkpoint_whose_tensors_name_no_module_is_refused_before_quantizing(hub_mirror, tmp_path):
    # Another naming than the architecture's modules: Linear weights could not be told from embeddings.
    shutil.copy(hub_mirror / "hala-tiny" / "command-a-translate" / "config.json", tmp_path / "config.json")
    save_file({"transformer.wte.weight": torch.zeros(4, 4, dtype=torch.bfloat16)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(HalaError) as info:
        compress_model_free.not_linear(tmp_path)
    assert info.value.type == "BadInput"
    assert "transformer.wte" in info.value.message and "method: oneshot" in info.value.message


def test_the_tiny_teachers_only_2d_weight_outside_a_linear_is_its_embedding(hub_mirror):
    assert compress_model_free.not_linear(hub_mirror / "hala-tiny" / "command-a-translate") == ["model.embed_tokens"]
