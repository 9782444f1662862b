"""compress_teacher: the tiny Cohere2 teacher to an FP8_DYNAMIC compressed-tensors checkpoint, by
oneshot (the default here) and by model_free_ptq (forced, or `auto` under a small memory budget)."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from hala_runners import store
from hala_runners.activities import create_activities
from hala_runners.runners.compress_method import MEMORY_ENV


def _compress(root, method: str, stage_key: str, **env: str) -> tuple[dict, object, dict]:
    """Run the compress_teacher activity on the tiny teacher; (its result, the published checkpoint
    dir, the payload). Scratch space under `root`; HALA_COMPRESS_MEMORY_BYTES only if `env` sets it."""
    import asyncio

    from temporalio.testing import ActivityEnvironment

    payload = {"stage_key": stage_key, "output_prefix": f"file://{root}/store/teacher-fp8",
               "model": "hf://hala-tiny/command-a-translate", "scheme": "FP8_DYNAMIC", "ignore": [],
               "method": method, "supervision": {"stall_s": 600, "runner_failed_attempts": 3}}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HALA_WORK_DIR", str(root / "work"))
        patch.delenv(MEMORY_ENV, raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        result = asyncio.run(ActivityEnvironment().run(create_activities()["compress_teacher"], payload))
    return result, store.fetch(result["model"]), payload


@pytest.fixture(scope="module")
def compressed(hub_mirror, tmp_path_factory):
    """The default: `auto` on this machine, no memory override."""
    return _compress(tmp_path_factory.mktemp("compress"), "auto", "d" * 64)


@pytest.fixture(scope="module")
def model_free(hub_mirror, tmp_path_factory):
    """The same teacher forced through model_free_ptq."""
    return _compress(tmp_path_factory.mktemp("model-free"), "model_free", "e" * 64)


def _tensors(model_dir) -> dict[str, torch.Tensor]:
    tensors = {}
    for file in model_dir.glob("*.safetensors"):
        tensors.update(load_file(file))
    return tensors


def test_every_linear_but_lm_head_is_fp8_with_per_channel_scales(compressed):
    result, model_dir, _ = compressed
    tensors = _tensors(model_dir)
    scaled = [name[: -len("_scale")] for name in tensors if name.endswith(".weight_scale")]

    layers = json.loads((model_dir / "config.json").read_text())["num_hidden_layers"]
    assert result["quantized_linear_layers"] == len(scaled) == 7 * layers  # q,k,v,o,gate,up,down
    assert result["ignored"] == ["lm_head"]
    for weight in scaled:
        assert tensors[weight].dtype == torch.float8_e4m3fn, weight
        assert tuple(tensors[weight + "_scale"].shape) == (tensors[weight].shape[0], 1), weight
    assert tensors["model.embed_tokens.weight"].dtype == torch.bfloat16
    assert tensors.get("lm_head.weight", tensors["model.embed_tokens.weight"]).dtype == torch.bfloat16
    config = json.loads((model_dir / "config.json").read_text())
    assert config["quantization_config"]["quant_method"] == "compressed-tensors"


def test_the_checkpoint_reloads_with_transformers_and_translates_as_well_as_bf16(compressed, hub_mirror):
    from test_translate import _held_out, _template

    from hala_runners.engines.transformers_engine import TransformersEngine
    from tiny_world.teacher import chrf_pp

    _, model_dir, _ = compressed
    fp8 = TransformersEngine(model_dir)
    assert fp8.model.lm_head.weight.dtype != torch.float8_e4m3fn
    assert fp8.model.model.embed_tokens.weight.dtype != torch.float8_e4m3fn

    texts, refs = _held_out(8)
    scores = {}
    for name, engine in (("fp8", fp8), ("bf16", TransformersEngine(hub_mirror / "hala-tiny" / "command-a-translate"))):
        hyps, tokens = engine.translate(texts, batch_size=8, max_new_tokens=96, prompt_template=_template())
        assert tokens > 0
        scores[name] = chrf_pp(hyps, refs)
    # The recipe's claim to check: FP8 costs (almost) no translation quality.
    assert scores["fp8"] >= scores["bf16"] - 5, scores


def test_auto_runs_oneshot_for_a_teacher_that_fits_without_any_override(compressed):
    assert compressed[0]["method"] == "oneshot"


@pytest.mark.parametrize("path", ["compressed", "model_free"])
def test_a_retry_after_publishing_returns_the_recorded_result(path, request):
    import asyncio

    from temporalio.testing import ActivityEnvironment

    result, _, payload = request.getfixturevalue(path)
    again = asyncio.run(ActivityEnvironment().run(create_activities()["compress_teacher"], payload))
    # Same digest, same seconds: nothing was compressed twice (only the attempt's own `run` differs).
    assert {k: v for k, v in again.items() if k != "run"} == {k: v for k, v in result.items() if k != "run"}
    assert again["run"]["attempt"] == 1 and again["run"]["gpu_seconds"] == 0  # no GPU here


def _bits(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous().reshape(-1).view(torch.uint8)  # float8 has no exact ==; bytes do


def _without_observer(group: dict) -> dict:
    return {**group, "weights": {**group["weights"], "observer": None}}


def test_model_free_writes_the_same_tensors_as_oneshot_bit_for_bit(compressed, model_free, hub_mirror):
    (ref, ref_dir, _), (mf, mf_dir, _) = compressed, model_free
    print(f"\ncompress_teacher on the tiny teacher: oneshot {ref['seconds']} s, model_free {mf['seconds']} s")
    assert mf["method"] == "model_free"
    assert (mf["quantized_linear_layers"], mf["ignored"]) == (ref["quantized_linear_layers"], ref["ignored"])
    a, b = _tensors(ref_dir), _tensors(mf_dir)
    assert sorted(a) == sorted(b)
    differ = [n for n in a if a[n].dtype != b[n].dtype or a[n].shape != b[n].shape or not torch.equal(_bits(a[n]), _bits(b[n]))]
    assert differ == []

    # The quantization_config vLLM reads: the same scheme; only its group's name, the observer it
    # records, and the ignore list (model_free names the embeddings it must skip) differ.
    qa, qb = (json.loads((d / "config.json").read_text())["quantization_config"] for d in (ref_dir, mf_dir))
    (ga,), (gb,) = qa["config_groups"].values(), qb["config_groups"].values()
    assert _without_observer(gb) == _without_observer(ga) and gb["targets"] == ["Linear"] and gb["weights"]["strategy"] == "channel"
    assert (qb["quant_method"], qb["format"], qb["quantization_status"]) == (qa["quant_method"], qa["format"], "compressed")
    assert qb["ignore"] == ["lm_head", "model.embed_tokens"]
    teacher = hub_mirror / "hala-tiny" / "command-a-translate"
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json"):
        assert (mf_dir / name).read_bytes() == (teacher / name).read_bytes(), name  # copied as they are


@pytest.mark.parametrize("path", ["compressed", "model_free"])
def test_the_fp8_audit_passes_on_both_paths(path, request):
    from tools.inspect_fp8 import inspect

    _, model_dir, _ = request.getfixturevalue(path)
    report = inspect(model_dir)
    layers = json.loads((model_dir / "config.json").read_text())["num_hidden_layers"]
    assert report["float8_linear_weights"] == report["per_channel_scales"] == 7 * layers
    assert report["unquantized_dtypes"] == {"model.embed_tokens.weight": "torch.bfloat16"}  # lm_head is tied
    assert report["reloads"]


def test_the_model_free_checkpoint_loads_and_translates_exactly_like_oneshot(compressed, model_free):
    from test_translate import _held_out, _template
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from hala_runners.engines.transformers_engine import TransformersEngine

    texts, _ = _held_out(8)
    dirs = {"oneshot": compressed[1], "model_free": model_free[1]}
    # Logits of both as transformers loads compressed-tensors (FP8 weights kept, no dequantize flag).
    tokenizer = AutoTokenizer.from_pretrained(dirs["oneshot"])
    models = {name: AutoModelForCausalLM.from_pretrained(d) for name, d in dirs.items()}
    with torch.no_grad():
        for text in texts[:4]:
            ids = tokenizer(text, return_tensors="pt")["input_ids"]
            a, b = (models[name](ids).logits for name in ("oneshot", "model_free"))
            assert torch.equal(a, b), f"max |logit difference| {(a - b).abs().max().item()} on {text!r}"
    # Greedy translations through the engine the pipeline uses on CPU.
    hyps = {name: TransformersEngine(d).translate(texts, batch_size=8, max_new_tokens=96, prompt_template=_template())[0]
            for name, d in dirs.items()}
    assert hyps["model_free"] == hyps["oneshot"] and all(hyps["oneshot"])


def test_auto_takes_model_free_when_the_weights_exceed_the_worker_budget(model_free, tmp_path):
    # 1 MB < the tiny teacher's 1.3 MB of safetensors: it "does not fit" this worker.
    result, _, _ = _compress(tmp_path, "auto", "f" * 64, **{MEMORY_ENV: str(10**6)})
    assert result["method"] == "model_free"
    assert result["model"]["sha256"] == model_free[0]["model"]["sha256"]  # the same bytes as the forced run


def test_a_model_free_retry_after_a_kill_redoes_the_whole_job_from_an_emptied_scratch_dir(model_free, tmp_path):
    # What a kill -9 during quantization leaves: a half-written shard in scratch, nothing published.
    key = "a" * 64
    scratch = tmp_path / "work" / key / "model"
    scratch.mkdir(parents=True)
    (scratch / "model.safetensors").write_bytes(b"\0" * 4096)
    (scratch / "left-by-attempt-1.json").write_text("{}")
    result, model_dir, _ = _compress(tmp_path, "model_free", key)
    assert result["model"]["sha256"] == model_free[0]["model"]["sha256"]
    assert not (model_dir / "left-by-attempt-1.json").exists()
