"""Translation engines: vLLM on a GPU, Hugging Face transformers elsewhere.

    engine = load_engine(select_engine("auto"), model_dir)
    translations, generated_tokens = engine.translate(texts, batch_size, max_new_tokens, template)

Engines are heavy (a 111B teacher takes minutes to load), so the infer worker keeps one loaded in a
long-lived subprocess per model (service.EngineService) instead of loading one per shard.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import bad_input
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


def load_engine(name: str, model_dir: Path) -> TranslationEngine:
    if name == "vllm":
        from .vllm_engine import VllmEngine

        return VllmEngine(model_dir)
    from .transformers_engine import TransformersEngine

    return TransformersEngine(model_dir)
