"""`hala doctor`'s probe on this machine's CPU: what each check of a pool says, and that failures name their fix.

Run: PYTHONPATH=gpu-runners $V/bin/python -m pytest gpu-runners/tests/test_doctor_probe.py -q -p no:cacheprovider
Real components throughout: the gloo all-reduce in two processes, the store on disk, the tiny world's hub mirror.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hala_runners import contract, doctor_gpu
from hala_runners.doctor_io import hub_access, scratch_space, store_round_trip
from hala_runners.doctor_probe import all_reduce_check, gpus_against_class, probe


@pytest.fixture
def tiny_world_hub(tiny_hub, monkeypatch):
    """The tiny world's offline hub mirror, as the local stack's workers read it."""
    monkeypatch.setenv("HALA_HUB_MIRROR", str(tiny_hub))
    return tiny_hub


GPU_H100 = {"index": 0, "name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-1", "memory_gb": 85.5, "free_gb": 84.0}


def test_gpu_only_prints_json_with_the_cpu_pool_and_a_correct_gloo_all_reduce():
    # The interface bench/gpu-check.sh calls on a lent GPU machine; here it finds no GPU.
    out = subprocess.run([sys.executable, "-m", "hala_runners.doctor_probe", "--gpu-only", "--json"],
                         capture_output=True, text=True, timeout=180, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["gpus"] == [] and "nvml" in seen["driver"]
    reduced = seen["all_reduce"]
    assert reduced["ok"] and reduced["backend"] == "gloo" and reduced["world"] == 2
    assert reduced["sums"] == [3.0, 3.0]  # rank 0 gives 1, rank 1 gives 2
    assert seen["versions"]["torch"] and seen["versions"]["transformers"]
    assert gpus_against_class(seen["gpus"], None)["seen"] == "CPU pool (no GPU)"


def test_a_wrong_all_reduce_sum_fails_the_check():
    result = {"ok": False, "backend": "nccl", "world": 2, "expected": 3.0, "sums": [3.0, 2.0], "errors": [], "seconds": 1.0}
    row = all_reduce_check(result)
    assert not row["ok"] and "[3.0, 2.0]" in row["seen"] and "NCCL" in row["fix"]


def test_gpus_against_the_class():
    assert gpus_against_class([], {"gpus": 0, "gpu_type": "any"})["ok"]
    cpu = gpus_against_class([], {"gpus": 8, "gpu_type": "H100-80GB", "gpu_memory_gb": 80})
    assert not cpu["ok"] and "CPU pool (no GPU), but the class declares 8 x H100-80GB 80 GB" in cpu["seen"] and cpu["fix"]
    assert gpus_against_class([GPU_H100] * 8, {"gpus": 8, "gpu_type": "H100-80GB", "gpu_memory_gb": 80})["ok"]
    short = gpus_against_class([GPU_H100] * 4, {"gpus": 8, "gpu_type": "H100-80GB"})
    assert not short["ok"] and "4 GPU(s) visible, the class declares 8" in short["seen"]
    wrong = gpus_against_class([{**GPU_H100, "name": "NVIDIA A100-SXM4-40GB", "memory_gb": 42.4}], {"gpus": 1, "gpu_type": "H100-80GB", "gpu_memory_gb": 80})
    assert not wrong["ok"] and "is not the class's H100-80GB" in wrong["seen"] and "42 GB per GPU" in wrong["seen"]


def test_the_store_round_trip_leaves_nothing(tmp_path):
    root = f"file://{tmp_path}/store"
    row = store_round_trip(root, "train")
    assert row["ok"], row
    assert list((tmp_path / "store" / "doctor").iterdir()) == []


def test_an_unwritable_store_fails_naming_the_store_and_the_fix(tmp_path):
    # Root ignores chmod: a store root below a regular FILE cannot be written by anyone.
    (tmp_path / "not-a-dir").write_text("a file")
    root = f"file://{tmp_path}/not-a-dir/store"
    row = store_round_trip(root, "infer")
    assert not row["ok"]
    assert root in row["seen"] and "write of" in row["seen"]
    assert root in row["fix"] and "writable volume" in row["fix"]


def test_hub_sources_through_the_mirror_and_a_missing_one_names_its_field(tiny_world_hub):
    ok = hub_access([{"field": "inputs.teacher", "id": "hf://hala-tiny/command-a-translate", "revision": "0123abc"},
                     {"field": "inputs.opus", "id": "hf://datasets/hala-tiny/opus-100/en-ar/train-00000-of-00001.parquet"}])
    assert ok["ok"] and "2 hub sources readable" in ok["seen"]
    missing = hub_access([{"field": "stages.sft.students[1].base", "id": "hf://hala-tiny/no-such-model"}])
    assert not missing["ok"]
    assert "stages.sft.students[1].base = hf://hala-tiny/no-such-model" in missing["seen"] and missing["fix"]


def test_scratch_is_checked_against_the_plan(tmp_path, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))  # not created yet: its disk is asked
    assert scratch_space(10**6, "teacher 0.1B x 3 bytes", "quantize")["ok"]
    short = scratch_space(10**18, "teacher 111B x 3 bytes", "quantize")
    assert not short["ok"] and "needs ~1000000000.0 GB (teacher 111B x 3 bytes)" in short["seen"]
    assert "HALA_WORK_DIR" in short["fix"]


def test_a_train_pool_probe_on_cpu_meets_the_contract(tmp_path, monkeypatch, tiny_world_hub):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    request = {"pool": "train", "role": "train", "store_root": f"file://{tmp_path}/store",
               "hub_sources": [{"field": "stages.train_translator.base", "id": "hf://hala-tiny/lfm2-350m"}],
               "scratch_needed_bytes": 1000, "scratch_basis": "tiny"}
    result = contract.validate_output("doctor_probe", probe(contract.validate_input("doctor_probe", request), "eval"))
    by_name = {c["name"]: c for c in result["checks"]}
    assert list(by_name) == ["worker", "gpus", "versions", "all_reduce", "store", "hub", "scratch"]
    # An eval worker answered on a queue the recipe sends train work to: named, with the fix.
    assert not by_name["worker"]["ok"] and "--queue-role train" in by_name["worker"]["fix"]
    assert all(c["ok"] for n, c in by_name.items() if n != "worker")


def test_library_versions_come_from_metadata():
    versions = doctor_gpu.library_versions()
    assert versions["vllm"] is None or isinstance(versions["vllm"], str)
    assert versions["torch"].split(".")[0].isdigit()


def test_the_fp8_check_compresses_a_miniature_of_the_teacher_never_the_teacher(tiny_world_hub, tmp_path, monkeypatch):
    """On a cluster the teacher is 222 GB: the check builds a two-layer model of its architecture from
    its config and tokenizer, compresses that to FP8 and serves it through the pool's engine."""
    from hala_runners import doctor_engine, hub

    def no_weights(uri, field=None):
        raise AssertionError(f"the FP8 check fetched the whole of {uri}")

    monkeypatch.setattr(hub, "resolve", no_weights)
    monkeypatch.setattr(hub, "_mirror", lambda: None)  # as on a cluster: small files come from the hub
    monkeypatch.setattr(hub, "resolve_small_files", lambda uri, field=None: tiny_world_hub / "hala-tiny" / "command-a-translate")
    result = doctor_engine.fp8_check("hf://hala-tiny/command-a-translate", "inputs.teacher", tmp_path)
    assert result["ok"], result
    config = json.loads((tmp_path / "miniature" / "config.json").read_text())
    assert config["model_type"] == "cohere2" and config["num_hidden_layers"] == 2
    assert len(config["layer_types"]) == 2 and config["num_key_value_heads"] == 2
    assert result["detail"]["fp8_tensors"] > 0 and result["detail"]["quant_method"] == "compressed-tensors"
