"""compress_method: how `method: auto` picks oneshot or model_free from weight bytes and worker memory."""
from __future__ import annotations

import pytest

from hala_runners.errors import HalaError
from hala_runners.runners import compress_method
from hala_runners.runners.compress_method import MEMORY_ENV, choose, memory_budget, weights_bytes

GB = 10**9


def test_auto_takes_model_free_only_when_the_weights_exceed_the_budget():
    assert choose("auto", 222 * GB, 512 * GB) == "oneshot"  # Command A in bf16 on 8x80 GB
    assert choose("auto", 222 * GB, 222 * GB) == "oneshot"  # exactly fitting still fits
    assert choose("auto", 222 * GB, 128 * GB) == "model_free"  # 2x80 GB: shard by shard instead


def test_an_explicit_method_is_taken_as_asked_whatever_the_sizes():
    assert choose("oneshot", 222 * GB, 1) == "oneshot"
    assert choose("model_free", 1, 222 * GB) == "model_free"


def test_the_env_var_sets_the_budget_as_is(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "1000")
    assert memory_budget() == (1000, MEMORY_ENV)


@pytest.mark.parametrize("value", ["lots", "-1", "1.5e9"])
def test_a_malformed_budget_is_bad_input_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv(MEMORY_ENV, value)
    with pytest.raises(HalaError) as info:
        memory_budget()
    assert info.value.type == "BadInput" and MEMORY_ENV in info.value.message and value in info.value.message


def test_without_cuda_the_budget_is_headroom_times_available_ram(monkeypatch):
    import psutil
    import torch

    monkeypatch.delenv(MEMORY_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    budget, measured = memory_budget()
    available = psutil.virtual_memory().available
    assert "host RAM" in measured
    # Available RAM moves a little between the two readings (other processes on the box).
    assert abs(budget - compress_method.HEADROOM * available) < 0.05 * available


def test_with_cuda_the_budget_is_headroom_times_the_memory_of_every_visible_gpu(monkeypatch):
    import torch

    class Props:
        total_memory = 80 * GB

    monkeypatch.delenv(MEMORY_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 8)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: Props())
    assert memory_budget() == (int(0.8 * 8 * 80 * GB), "0.8 x memory of 8 CUDA device(s)")


def test_weights_are_the_safetensors_file_sizes(hub_mirror):
    teacher = hub_mirror / "hala-tiny" / "command-a-translate"
    assert weights_bytes(teacher) == (teacher / "model.safetensors").stat().st_size > 0
