"""compress_teacher: the tiny Cohere2 teacher to an FP8_DYNAMIC compressed-tensors checkpoint."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from hala_runners import store
from hala_runners.activities import create_activities


@pytest.fixture(scope="module")
def compressed(hub_mirror, tmp_path_factory):
    """Run the compress_teacher activity once; (its result, the published checkpoint dir, the prefix)."""
    from temporalio.testing import ActivityEnvironment
    import asyncio

    root = tmp_path_factory.mktemp("compress")
    payload = {"stage_key": "d" * 64, "output_prefix": f"file://{root}/store/teacher-fp8",
               "model": "hf://hala-tiny/command-a-translate", "scheme": "FP8_DYNAMIC", "ignore": [],
               "supervision": {"stall_s": 600, "runner_failed_attempts": 3}}
    activity = create_activities()["compress_teacher"]
    result = asyncio.run(ActivityEnvironment().run(activity, payload))
    return result, store.fetch(result["model"]), payload


def test_every_linear_but_lm_head_is_fp8_with_per_channel_scales(compressed):
    result, model_dir, _ = compressed
    tensors = {}
    for file in model_dir.glob("*.safetensors"):
        tensors.update(load_file(file))
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


def test_a_retry_after_publishing_returns_the_recorded_result(compressed):
    import asyncio

    from temporalio.testing import ActivityEnvironment

    result, _, payload = compressed
    again = asyncio.run(ActivityEnvironment().run(create_activities()["compress_teacher"], payload))
    # Same digest, same seconds: nothing was compressed twice (only the attempt's own `run` differs).
    assert {k: v for k, v in again.items() if k != "run"} == {k: v for k, v in result.items() if k != "run"}
    assert again["run"]["attempt"] == 1 and again["run"]["gpu_seconds"] == 0  # no GPU here
