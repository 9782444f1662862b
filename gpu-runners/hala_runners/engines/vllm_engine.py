"""Batch translation with vLLM: the production path on the infer queue (a GPU node, the vLLM image).

The FP8 teacher is a compressed-tensors checkpoint that vLLM loads as is (FP8 weights, dynamic
per-token activation scales) on Hopper/Ada GPUs. The tensor-parallel size is the model's own
(generation.<model>.tensor_parallel_size in the recipe): a 1.2B translator on one GPU, the 111B
teacher across a node. Knobs of the worker's machine come from the environment:
  HALA_VLLM_GPU_MEMORY    fraction of GPU memory vLLM may take (default 0.90)
  HALA_VLLM_MAX_MODEL_LEN context length cap, tokens (default: the model's own)
Exercised only on a GPU; CPU tests use the transformers engine.
"""
from __future__ import annotations

import os
from pathlib import Path

from .base import TranslationEngine, chat


class VllmEngine(TranslationEngine):
    name = "vllm"

    def __init__(self, model_dir: Path, tensor_parallel_size: int = 1):
        from vllm import LLM

        max_len = os.environ.get("HALA_VLLM_MAX_MODEL_LEN")
        self.llm = LLM(
            model=str(model_dir),
            tokenizer=str(model_dir),
            dtype="auto",
            tensor_parallel_size=tensor_parallel_size,
            gpu_memory_utilization=float(os.environ.get("HALA_VLLM_GPU_MEMORY", "0.90")),
            max_model_len=int(max_len) if max_len else None,
            seed=0,
        )

    def translate(self, texts, batch_size, max_new_tokens, prompt_template):
        from vllm import SamplingParams

        # Greedy; vLLM stops at the model's EOS / end-of-turn from its generation config.
        params = SamplingParams(temperature=0, max_tokens=max_new_tokens)
        out: list[str] = []
        generated = 0
        # vLLM batches internally (continuous batching); batch_size only bounds how many prompts we
        # hand it per call, i.e. how much work a crash can lose between resume points.
        for start in range(0, len(texts), batch_size):
            conversations = [chat(prompt_template, t) for t in texts[start:start + batch_size]]
            results = self.llm.chat(conversations, params, use_tqdm=False, add_generation_prompt=True)
            for r in results:
                completion = r.outputs[0]
                out.append(completion.text.strip())
                # token_ids ends with the EOS that stopped it: not a generated word, as in transformers.
                generated += len(completion.token_ids) - (completion.finish_reason == "stop")
        return out, generated
