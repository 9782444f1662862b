"""Tiny, randomly initialised models in the real architectures of the Hala campaign.

    tok = build_tokenizer()
    student = tiny_lfm2(tok, "1.2b")       # transformers Lfm2ForCausalLM (conv + attention layers)
    teacher = tiny_cohere2(tok)            # transformers Cohere2ForCausalLM, tied embeddings
    save_model(student, tok, path)         # safetensors + config.json + generation_config + tokenizer

The three LFM2 sizes keep the real names' ordering (350m < 700m < 1.2b) and layer mix (mostly
short-convolution layers with some attention); dimensions are multiples of 16 so FP8 kernels and
llm-compressor accept every linear layer.
"""
from __future__ import annotations

import json
from pathlib import Path

# name -> (hidden, layers, attention layer indexes, heads, kv heads); head_dim 16 throughout:
# many small heads learn alignment (which source word comes next) far faster than a few wide ones.
LFM2_SIZES = {
    "350m": (64, 2, [1], 4, 2),
    "700m": (96, 3, [1], 6, 2),
    "1.2b": (128, 4, [1, 3], 8, 4),
}
MAX_POSITIONS = 1024


def _special_ids(tokenizer) -> dict:
    from .tokenizer import EOT

    return {"pad_token_id": tokenizer.pad_token_id, "eos_token_id": tokenizer.eos_token_id,
            "bos_token_id": tokenizer.convert_tokens_to_ids(EOT)}


def _generation_config(tokenizer):
    from transformers import GenerationConfig

    # Greedy, stopping at <|im_end|> (end of an assistant turn) or <|endoftext|> (end of a document).
    ids = _special_ids(tokenizer)
    return GenerationConfig(do_sample=False, eos_token_id=[ids["eos_token_id"], ids["bos_token_id"]],
                            pad_token_id=ids["pad_token_id"], bos_token_id=ids["bos_token_id"])


def tiny_lfm2(tokenizer, size: str = "1.2b", seed: int = 0):
    """A random Lfm2ForCausalLM of one of LFM2_SIZES, tied embeddings like the released LFM2."""
    import torch
    from transformers import Lfm2Config, Lfm2ForCausalLM

    if size not in LFM2_SIZES:
        raise ValueError(f"tiny_lfm2 size must be one of {sorted(LFM2_SIZES)} (got {size!r})")
    hidden, layers, attn, heads, kv = LFM2_SIZES[size]
    config = Lfm2Config(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=4 * hidden,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv,
        full_attn_idxs=attn, max_position_embeddings=MAX_POSITIONS, conv_L_cache=3,
        block_multiple_of=16, block_auto_adjust_ff_dim=True, tie_word_embeddings=True,
        **_special_ids(tokenizer))
    torch.manual_seed(seed)
    model = Lfm2ForCausalLM(config)
    model.generation_config = _generation_config(tokenizer)
    return model


def tiny_cohere2(tokenizer, seed: int = 0, hidden: int = 128, layers: int = 2):
    """A random Cohere2ForCausalLM shaped like Command A: tied embeddings, grouped-query attention,
    sliding-window layers with RoPE interleaved with global layers without positions. Command A
    interleaves 3:1; two layers (1:1) keep the build inside its time budget. Heads of 8 dims: with
    16 of them the alignment circuit forms reliably within the build's 1000 steps (chrF++ 85-93
    over seeds 0-2, where 8 heads of 16 dims ended anywhere between 59 and 84)."""
    import torch
    from transformers import Cohere2Config, Cohere2ForCausalLM

    if hidden % 16:
        raise ValueError(f"tiny_cohere2 hidden must be a multiple of 16 for FP8 (got {hidden})")
    config = Cohere2Config(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=3 * hidden,
        num_hidden_layers=layers, num_attention_heads=hidden // 8, num_key_value_heads=hidden // 16,
        max_position_embeddings=MAX_POSITIONS, sliding_window=512, sliding_window_pattern=2,
        # logit_scale 1 (Command A's is below 1): tiny tied embeddings would start with flat logits.
        logit_scale=1.0, tie_word_embeddings=True, **_special_ids(tokenizer))
    torch.manual_seed(seed)
    model = Cohere2ForCausalLM(config)
    model.generation_config = _generation_config(tokenizer)
    return model


def parameter_count(model) -> int:
    # Tied weights are shared tensors, so counting unique parameters counts them once.
    return sum(p.numel() for p in model.parameters())


def save_model(model, tokenizer, out_dir: str | Path, dtype=None) -> Path:
    """save_pretrained the model (optionally cast, e.g. torch.bfloat16) and its tokenizer together."""
    out = Path(out_dir)
    if dtype is not None:
        model = model.to(dtype)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    # Readers on older transformers (a vLLM image) know the class by its v4 name and look for the
    # chat template inside tokenizer_config.json; transformers 5 reads both forms.
    config_path = out / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config.update(tokenizer_class="PreTrainedTokenizerFast", chat_template=tokenizer.chat_template)
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    return out
