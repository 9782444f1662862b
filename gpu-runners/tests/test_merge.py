"""runners/merge.py: streaming slerp of two tiny LFM2 checkpoints into a loadable model."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hala_runners import contract, progress, store
from hala_runners.runners import merge
from hala_runners.slerp import slerp, t_for_tensor
from torch_slerp_reference import agrees_with_torch, storage_bytes, torch_slerp

NUM_LAYERS = 4  # tiny_lfm2 "1.2b"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A base LFM2 (one safetensors file) and a 'fine-tuned' one (sharded, with an index):
    half of its matrices moved a lot (slerp), the rest barely (colinear -> linear fallback)."""
    from tiny_world.models import save_model, tiny_lfm2
    from tiny_world.tokenizer import build_tokenizer

    root = tmp_path_factory.mktemp("merge-models")
    tok = build_tokenizer()
    base = tiny_lfm2(tok, "1.2b", seed=0)
    save_model(base, tok, root / "base")
    tuned = tiny_lfm2(tok, "1.2b", seed=0)
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for i, (name, p) in enumerate(sorted(tuned.named_parameters())):
            scale = 0.5 if i % 2 else 1e-4
            p.add_(scale * p.abs().mean() * torch.randn(p.shape, generator=g))
    tuned.save_pretrained(root / "tuned", max_shard_size="200KB")
    tok.save_pretrained(root / "tuned")
    assert (root / "tuned" / merge.INDEX).exists()
    return root


def _events(capsys):
    return [e for e in map(progress.parse_line, capsys.readouterr().out.splitlines()) if e]


def _merge(tmp_path, models, capsys, tuned=None, **overrides):
    tuned_ref = store.publish_dir(tuned or models / "tuned", store.join(f"file://{tmp_path}/store", "tuned"), "model")
    cfg = {"stage_key": "b" * 64, "output_prefix": f"file://{tmp_path}/store/merge",
           "base": f"file://{models}/base", "tuned": tuned_ref, "t": 0.5, "colinear_threshold": 0.9995,
           **overrides}
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    code = merge.main(["--config", str(tmp_path / "cfg.json")])
    return code, _events(capsys)


def _tensors(directory):
    w = merge.Weights(directory, "test")
    return {name: w.tensor(name) for name in w.file_of}


def test_merge_streams_a_loadable_model_equal_to_slerp_of_its_inputs(tmp_path, models, capsys, monkeypatch):
    from transformers import AutoModelForCausalLM

    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    code, events = _merge(tmp_path, models, capsys, max_shard_bytes=150_000)
    assert code == 0, events[-1]
    result = events[-1]["result"]
    contract.validate_output("merge_slerp", result)
    out = store.fetch(result["model"])  # digest verified

    base, tuned, merged = _tensors(models / "base"), _tensors(models / "tuned"), _tensors(out)
    assert set(merged) == set(base) and result["tensors"] == len(base)
    fallbacks = 0
    for name in base:
        expected, linear = slerp(base[name], tuned[name], 0.5)
        fallbacks += linear
        assert np.array_equal(merged[name], expected), name
    assert result["linear_fallbacks"] == fallbacks > 0
    assert fallbacks < len(base)  # the strongly moved half really went through slerp

    assert (out / merge.INDEX).exists() and len(list(out.glob("model-*.safetensors"))) > 1
    assert (out / "tokenizer.json").exists() and json.loads((out / "hala_merge.json").read_text())["tensors"] == len(base)
    model = AutoModelForCausalLM.from_pretrained(out)
    logits = model(input_ids=torch.tensor([[5, 6, 7]])).logits
    assert torch.isfinite(logits).all()
    per_tensor = [e for e in events if e.get("phase") == "merge"]
    assert [e["done"] for e in per_tensor] == list(range(1, len(base) + 1))


def test_per_layer_t_list_is_applied_by_depth(tmp_path, models, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    anchors = [0.0, 1.0]
    code, events = _merge(tmp_path, models, capsys, t=anchors)
    assert code == 0, events[-1]
    out = store.fetch(events[-1]["result"]["model"])
    base, tuned, merged = _tensors(models / "base"), _tensors(models / "tuned"), _tensors(out)
    assert (out / "model.safetensors").exists()  # small enough for one shard: no index
    for name in base:
        t = t_for_tensor(name, anchors, NUM_LAYERS)
        assert np.array_equal(merged[name], slerp(base[name], tuned[name], t)[0]), name
    assert np.array_equal(merged["model.embed_tokens.weight"], base["model.embed_tokens.weight"])  # t = 0
    layer3 = next(n for n in base if n.startswith("model.layers.3."))
    assert np.allclose(merged[layer3], tuned[layer3], atol=1e-6)  # top layer: t = 1


def test_a_tensor_whose_shape_differs_is_bad_input_naming_it(tmp_path, models, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    odd = _resaved(models / "base", tmp_path / "odd", torch.float32, {"model.layers.2.feed_forward.w1.weight": torch.zeros(3, 3)})
    code, events = _merge(tmp_path, models, capsys, base=f"file://{odd}")
    assert code == 1
    assert events[-1]["type"] == "BadInput"
    assert "model.layers.2.feed_forward.w1.weight" in events[-1]["message"]


def test_a_retry_adopts_finished_shards_and_writes_the_same_bytes(tmp_path, models, capsys, monkeypatch):
    """A merge killed after some output shards resumes from them (they are not merged again) and
    publishes a model byte-identical to an undisturbed merge."""
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    calls = {"n": 0}
    real_slerp = merge.slerp

    def dies_midway(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 20:
            raise RuntimeError("worker lost")
        return real_slerp(*args, **kwargs)

    monkeypatch.setattr(merge, "slerp", dies_midway)
    code, events = _merge(tmp_path, models, capsys, max_shard_bytes=150_000)
    assert code == 1 and events[-1]["type"] == "RunnerFailed"
    finished = len(list((tmp_path / "store" / "merge" / "partial").glob("*.json")))
    assert finished >= 1

    monkeypatch.setattr(merge, "slerp", real_slerp)
    calls["n"] = 0
    code, events = _merge(tmp_path, models, capsys, max_shard_bytes=150_000)
    resumed = events[-1]["result"]
    assert code == 0 and 0 < resumed["resumed_tensors"] < resumed["tensors"]

    shutil.rmtree(tmp_path / "store" / "merge")  # the same merge, undisturbed, at the same place
    code, events = _merge(tmp_path, models, capsys, max_shard_bytes=150_000)
    straight = events[-1]["result"]
    assert straight["resumed_tensors"] == 0
    assert resumed["model"]["sha256"] == straight["model"]["sha256"]
    assert resumed["linear_fallbacks"] == straight["linear_fallbacks"]


def _resaved(src: Path, dst: Path, dtype: torch.dtype, replace: dict | None = None) -> Path:
    """The checkpoint in src re-saved to dst as one safetensors file of `dtype` floats, with
    `replace` (name -> tensor) swapped in."""
    from safetensors.torch import load_file, save_file

    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.safetensors", merge.INDEX))
    tensors = {}
    for file in sorted(src.glob("*.safetensors")):
        tensors.update(load_file(str(file)))
    tensors = {name: t.to(dtype) for name, t in tensors.items()} | (replace or {})
    save_file(tensors, str(dst / merge.SINGLE), metadata={"format": "pt"})
    return dst


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_merged_weights_are_the_torch_implementations(tmp_path, models, capsys, monkeypatch, dtype):
    """fp32, bf16 and fp16 checkpoints merge to the weights the torch slerp wrote, in the same
    dtype, to one step of it (torch_slerp_reference says why), and an int tensor equal in both is
    copied through."""
    from safetensors.torch import load_file

    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    steps = {"model.step_counts": torch.arange(6, dtype=torch.int64)}
    base = _resaved(models / "base", tmp_path / "base", dtype, steps)
    tuned = _resaved(models / "tuned", tmp_path / "tuned", dtype, steps)
    code, events = _merge(tmp_path, models, capsys, tuned=tuned, base=f"file://{base}")
    assert code == 0, events[-1]
    merged = load_file(str(store.fetch(events[-1]["result"]["model"]) / merge.SINGLE))
    base_t, tuned_t = load_file(str(base / merge.SINGLE)), load_file(str(tuned / merge.SINGLE))
    for name, v1 in tuned_t.items():
        assert merged[name].dtype == v1.dtype, name
        if name in steps:
            assert storage_bytes(merged[name]) == storage_bytes(v1), name
        else:
            assert agrees_with_torch(merged[name], torch_slerp(base_t[name], v1, 0.5)[0].to(v1.dtype), base_t[name], v1), name


def test_a_non_float_tensor_that_differs_is_bad_input_naming_it(tmp_path, models, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    base = _resaved(models / "base", tmp_path / "base", torch.float32, {"model.step_counts": torch.zeros(4, dtype=torch.int32)})
    tuned = _resaved(models / "tuned", tmp_path / "tuned", torch.float32, {"model.step_counts": torch.ones(4, dtype=torch.int32)})
    code, events = _merge(tmp_path, models, capsys, tuned=tuned, base=f"file://{base}")
    assert code == 1 and events[-1]["type"] == "BadInput"
    assert "model.step_counts (I32) differs" in events[-1]["message"]


def test_the_merge_runner_process_never_imports_torch(tmp_path, models):
    """The merge pod's memory has no room for torch (~640 MiB RSS on import): run the runner as the
    activity does and look at its modules when it is done."""
    tuned_ref = store.publish_dir(models / "tuned", store.join(f"file://{tmp_path}/store", "tuned"), "model")
    cfg = {"stage_key": "c" * 64, "output_prefix": f"file://{tmp_path}/store/merge", "base": f"file://{models}/base",
           "tuned": tuned_ref, "t": [0.2, 0.8], "colinear_threshold": 0.9995}
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    wrapper = ("import runpy, sys\n"
               "try:\n    runpy.run_module('hala_runners.runners.merge', run_name='__main__')\n"
               "finally:\n    print('torch imported:', sorted(m for m in sys.modules if m.split('.')[0] == 'torch')[:3], file=sys.stderr)")
    env = {**os.environ, "HALA_WORK_DIR": str(tmp_path / "work"), "PYTHONPATH": str(Path(merge.__file__).parents[2])}
    proc = subprocess.run([sys.executable, "-c", wrapper, "--config", str(tmp_path / "cfg.json")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '"result"' in proc.stdout
    assert "torch imported: []" in proc.stderr
