"""Batch translation with vLLM: the production path on the infer queue (a GPU node, the vLLM image).

The FP8 teacher is a compressed-tensors checkpoint that vLLM loads as is (FP8 weights, dynamic
per-token activation scales) on Hopper/Ada GPUs. The tensor-parallel size is the model's own
(generation.<model>.tensor_parallel_size in the recipe): a 1.2B translator on one GPU, the 111B
teacher across a node. Knobs of the worker's machine come from the environment:
  HALA_VLLM_GPU_MEMORY    fraction of GPU memory vLLM may take (default 0.90)
  HALA_VLLM_MAX_MODEL_LEN context length cap, tokens (default: the model's own)
The engine process sets how vLLM starts its workers and where it logs (engines.ENGINE_ENV).
Exercised only on a GPU; CPU tests use the transformers engine, and tests/fake_vllm stands in for
vLLM to check how this file drives it.
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
        [(_, out, generated)] = self.translate_chunks([texts], batch_size, max_new_tokens, prompt_template)
        return out, generated

    def translate_chunks(self, chunks, batch_size, max_new_tokens, prompt_template):
        """Every row of every chunk goes to vLLM at once and its scheduler batches them (continuous
        batching): a GPU slot freed by a short row takes the next one, where a call per chunk would
        wait for the chunk's longest row. `batch_size` is unused: vLLM's max_num_seqs and KV cache
        bound how many rows run together. A chunk is handed back as soon as its last row finishes."""
        from vllm import SamplingParams

        yield from ((k, [], 0) for k, texts in enumerate(chunks) if not texts)  # nothing to generate
        where = [(k, i) for k, texts in enumerate(chunks) for i in range(len(texts))]  # request -> (chunk, row)
        if not where:
            return
        out = [[""] * len(texts) for texts in chunks]
        generated = [0] * len(chunks)
        left = [len(texts) for texts in chunks]
        finished = [False] * len(where)
        engine = self.llm.llm_engine
        # LLM numbers its requests from this counter, one after another, and a RequestOutput carries
        # that number (vllm/entrypoints/common/offline.py, _add_request); enqueue_chat returns
        # internal ids (the number plus a random suffix), good for abort_request only.
        first = self.llm.request_counter.counter
        # Greedy; vLLM stops at the model's EOS / end-of-turn from its generation config.
        ids = self.llm.enqueue_chat([chat(prompt_template, t) for texts in chunks for t in texts],
                                    SamplingParams(temperature=0, max_tokens=max_new_tokens),
                                    use_tqdm=False, add_generation_prompt=True)
        try:
            while engine.has_unfinished_requests():  # as LLM._run_engine drives it
                for result in engine.step():
                    if not result.finished:
                        continue
                    n = int(result.request_id) - first
                    if not 0 <= n < len(where):
                        raise RuntimeError(f"vLLM answered request {result.request_id}, not one of {first}..{first + len(where) - 1} "
                                           f"it was given: its request numbering changed; update {__name__}")
                    k, i = where[n]
                    finished[n] = True
                    completion = result.outputs[0]
                    out[k][i] = completion.text.strip()
                    # token_ids ends with the EOS that stopped it: not a generated word, as in transformers.
                    generated[k] += len(completion.token_ids) - (completion.finish_reason == "stop")
                    left[k] -= 1
                    if left[k] == 0:
                        yield k, out[k], generated[k]
        except GeneratorExit:  # the runner stopped early (a chunk it could not save): drop the rest
            engine.abort_request([rid for rid, done in zip(ids, finished) if not done], internal=True)
            raise
