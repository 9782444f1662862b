"""Makes a Python process started with tests/fake_vllm on PYTHONPATH believe it is on a one-GPU node.

NVML sees one GPU, so torch.cuda.device_count() answers 1 without touching CUDA, as on a real node.
CUDA's runtime count answers 1 too, after the real call has run: that call (what
torch.cuda.is_available() makes) initialises the driver and registers torch's fork handler, so a
forked child then refuses CUDA ("Cannot re-initialize CUDA in forked subprocess"), which is the
state the fake vllm package checks for.
"""
import torch

_runtime_device_count = torch._C._cuda_getDeviceCount
torch.cuda._device_count_nvml = lambda: 1
torch._C._cuda_getDeviceCount = lambda: (_runtime_device_count(), 1)[1]
