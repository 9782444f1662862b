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

__all__ = ["TranslationEngine", "chat", "check_template", "render_prompt", "select_engine", "load_engine"]


def select_engine(name: str) -> str:
    """'auto' means vLLM when it is importable and a CUDA device is visible, else transformers."""
    if name == "auto":
        if importlib.util.find_spec("vllm") is None:
            return "transformers"
        import torch

        return "vllm" if torch.cuda.is_available() else "transformers"
    if name not in ("vllm", "transformers"):
        raise bad_input(f"translate_shard.engine must be auto, vllm or transformers (got {name!r})")
    return name


def load_engine(name: str, model_dir: Path, tensor_parallel_size: int = 1) -> TranslationEngine:
    """The engine, spanning `tensor_parallel_size` GPUs; refused where this worker cannot give them."""
    import torch

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
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
