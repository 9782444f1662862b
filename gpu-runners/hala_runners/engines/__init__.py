"""Translation engines: vLLM on a GPU, Hugging Face transformers elsewhere.

    engine = load_engine(select_engine("auto"), model_dir)
    translations, generated_tokens = engine.translate(texts, batch_size, max_new_tokens, template)

Engines are heavy (a 111B teacher takes minutes to load), so the infer worker keeps one loaded in a
long-lived subprocess per model (service.EngineService) instead of loading one per shard.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import HalaError, bad_input
from .base import TranslationEngine, chat, check_template, render_prompt

__all__ = ["ENGINE_ENV", "TranslationEngine", "chat", "check_template", "render_prompt", "select_engine", "load_engine",
           "visible_gpus"]

# The environment of every engine process (service.py sets it over the worker's own; so do
# images/infer/Dockerfile for anything started in the image, and bench/gpu_check_runner.py; a test holds
# the image and this together).
ENGINE_ENV = {
    # vLLM starts its EngineCore and workers with fork by default; a forked child cannot use CUDA
    # if anything initialised it in the engine process first. Spawned ones start clean.
    "VLLM_WORKER_MULTIPROC_METHOD": "spawn",
    # torch.cuda.is_available() counts GPUs through NVML instead of initialising CUDA (in
    # transformers, in vLLM's start-up, anywhere in the engine process before vLLM's workers exist).
    "PYTORCH_NVML_BASED_CUDA_CHECK": "1",
    # vLLM logs to stdout by default: that is the runner protocol, and only stderr's last lines
    # reach a failure message. This is where an EngineCore that dies writes the cause.
    "VLLM_LOGGING_STREAM": "ext://sys.stderr",
}


def visible_gpus() -> int:
    """The GPUs this process may use, counted through NVML without initialising CUDA here.

    Not torch.cuda.is_available(): it initialises CUDA's driver in this process (cudaGetDeviceCount)
    while torch.cuda.is_initialized() stays False, so vLLM keeps forking its EngineCore and workers
    (vllm/utils/system_utils.py, _maybe_force_spawn) and they fail with "Cannot re-initialize CUDA in
    forked subprocess". torch.cuda.device_count() asks NVML first and CUDA only where NVML fails;
    the engine process spawns vLLM's workers anyway (ENGINE_ENV), so even that is safe.
    """
    import torch

    return torch.cuda.device_count()


def select_engine(name: str) -> str:
    """'auto' means vLLM when it is importable and a GPU is visible, else transformers."""
    if name == "auto":
        if importlib.util.find_spec("vllm") is None:
            return "transformers"
        return "vllm" if visible_gpus() else "transformers"
    if name not in ("vllm", "transformers"):
        raise bad_input(f"translate_shard.engine must be auto, vllm or transformers (got {name!r})")
    return name


def load_engine(name: str, model_dir: Path, tensor_parallel_size: int = 1) -> TranslationEngine:
    """The engine, spanning `tensor_parallel_size` GPUs; refused where this worker cannot give them."""
    gpus = visible_gpus()
    if gpus and tensor_parallel_size > gpus:
        raise HalaError("BadRecipe", f"tensor_parallel_size is {tensor_parallel_size} but this worker sees {gpus} GPU(s): "
                                     f"route the model to a pool with at least {tensor_parallel_size} (recipe resources)")
    if name == "vllm":
        from .vllm_engine import VllmEngine

        return VllmEngine(model_dir, tensor_parallel_size)
    if gpus and tensor_parallel_size > 1:
        # transformers would put the whole model on one GPU: the big-model path is vLLM's.
        raise HalaError("BadRecipe", f"tensor_parallel_size {tensor_parallel_size} needs the vllm engine (set generation "
                                     f"engine: vllm and serve the queue with the infer image, which holds vLLM)")
    from .transformers_engine import TransformersEngine

    return TransformersEngine(model_dir)  # on CPU a model spans no GPUs: tensor_parallel_size has nothing to split
