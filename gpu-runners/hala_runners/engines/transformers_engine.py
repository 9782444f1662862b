"""Greedy batched translation with Hugging Face transformers: the CPU path and the vLLM-less fallback.

Left padding (decoder-only models continue from the right edge), the tokenizer's own chat template
with add_generation_prompt, and stopping at EOS or the end-of-turn token of the chat format.
Rows are sorted by prompt length before batching so a batch pads little.
"""
from __future__ import annotations

import warnings
from pathlib import Path

from .base import TranslationEngine, chat

# End-of-turn markers of the chat formats we serve (ChatML, Cohere); the ones in the vocab stop decoding.
END_OF_TURN = ("<|im_end|>", "<|END_OF_TURN_TOKEN|>", "<|endoftext|>")


class TransformersEngine(TranslationEngine):
    name = "transformers"

    def __init__(self, model_dir: Path, device: str | None = None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.tokenizer.padding_side = "left"
        # dtype="auto" keeps the checkpoint's dtype (bf16 for the teacher).
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype="auto", **self._quantized_kwargs(model_dir))
        self.model = self.model.to(self.device).eval()
        self.stop_ids = self._stop_ids()
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.stop_ids[0]

    def _quantized_kwargs(self, model_dir: Path) -> dict:
        """Dequantize an FP8 compressed-tensors checkpoint once at load when not on CUDA: CPUs have
        no FP8 matmul, and emulating it per forward pass measured ~16x slower than BF16 here."""
        import json

        config = json.loads((Path(model_dir) / "config.json").read_text())
        if self.device == "cuda" or config.get("quantization_config", {}).get("quant_method") != "compressed-tensors":
            return {}
        from transformers import CompressedTensorsConfig

        # transformers warns that our config overrides the checkpoint's: overriding is the point.
        warnings.filterwarnings("ignore", message="You passed `quantization_config`")
        return {"quantization_config": CompressedTensorsConfig(dequantize=True)}

    def _stop_ids(self) -> list[int]:
        ids: list[int] = []
        for candidate in (self.tokenizer.eos_token_id, getattr(self.model.generation_config, "eos_token_id", None)):
            ids += candidate if isinstance(candidate, list) else [candidate] if candidate is not None else []
        vocab = self.tokenizer.get_vocab()
        ids += [vocab[t] for t in END_OF_TURN if t in vocab]
        if not ids:
            raise ValueError("the tokenizer has no EOS or end-of-turn token: generation could not stop")
        return list(dict.fromkeys(ids))

    def translate(self, texts, batch_size, max_new_tokens, prompt_template):
        prompts = [self.tokenizer.apply_chat_template(chat(prompt_template, t), tokenize=False,
                                                      add_generation_prompt=True) for t in texts]
        lengths = [len(self.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
        order = sorted(range(len(prompts)), key=lengths.__getitem__)
        out: list[str] = [""] * len(prompts)
        generated = 0
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            texts_out, tokens = self._generate([prompts[i] for i in idx], max_new_tokens)
            for i, text in zip(idx, texts_out):
                out[i] = text
            generated += tokens
        return out, generated

    def _generate(self, prompts: list[str], max_new_tokens: int) -> tuple[list[str], int]:
        # The chat template already holds the BOS token: don't let the tokenizer add a second one.
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        with self.torch.inference_mode():
            seqs = self.model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                       eos_token_id=self.stop_ids, pad_token_id=self.pad_id)
        new = seqs[:, batch["input_ids"].shape[1]:].tolist()
        stops = set(self.stop_ids) | {self.pad_id}
        texts, total = [], 0
        for row in new:
            n = next((k for k, tok in enumerate(row) if tok in stops), len(row))
            total += n
            texts.append(self.tokenizer.decode(row[:n], skip_special_tokens=True).strip())
        return texts, total
