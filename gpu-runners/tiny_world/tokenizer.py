"""A byte-level BPE tokenizer for both scripts of the tiny world, in the transformers format.

    from tiny_world.tokenizer import build_tokenizer
    tok = build_tokenizer()                # a few seconds, deterministic for a given seed
    tok.save_pretrained(path)              # tokenizer.json + tokenizer_config.json (+ chat template)

ChatML like the real students: `<|im_start|>role\\n...<|im_end|>\\n`, eos = `<|im_end|>`. The
assistant turn sits inside {% generation %} so TRL's assistant_only_loss finds its tokens.
"""
from __future__ import annotations

import random

PAD, EOT, IM_START, IM_END = "<|pad|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = [PAD, EOT, IM_START, IM_END]  # ids 0..3 in this order
VOCAB_SIZE = 2048  # a multiple of 64 so embedding shapes stay friendly to FP8/tensor-core kernels
PROMPT_TEMPLATE = "Translate everything that follows into {target}:\n\n{text}"

CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\n' -}}"
    "{%- if message['role'] == 'assistant' -%}"
    "{%- generation -%}{{- message['content'] + '<|im_end|>' -}}{%- endgeneration -%}"
    "{{- '\n' -}}"
    "{%- else -%}"
    "{{- message['content'] + '<|im_end|>\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%}"
)


def training_text(seed: int = 0, sentences: int = 4000) -> list[str]:
    """What the BPE merges are learnt from: every lexicon form with its target forms (so each word
    of both sides becomes one or two tokens), random sentences with translations, and prompts."""
    from . import grammar, lexicon as lx
    from .language import TARGET_NAME, translate
    from .profiles import PROFILE
    from .prompts import SYSTEM_PROMPTS

    lines = []
    for form, (lemma, _, _) in sorted(lx.lexicon().items()):
        word = lx.target_words().get(lemma, "")
        lines.append(PROFILE.lexicon_line(form, word))
    rng = random.Random(f"tokenizer:{seed}")
    for _ in range(sentences):
        text = grammar.paragraph(rng, (1, 3))  # several sentences: capitals after a space occur too
        lines += [text, translate(text)]
    lines += [PROMPT_TEMPLATE.format(target=TARGET_NAME, text="")] * 50
    lines += ["user\nassistant\nsystem\n"] * 50  # ChatML role names: one token each
    lines += [p for p in SYSTEM_PROMPTS if p] * 20
    return lines


def build_tokenizer(seed: int = 0, vocab_size: int = VOCAB_SIZE, texts: list[str] | None = None):
    """Train the BPE and wrap it as a PreTrainedTokenizerFast with ChatML specials and template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    bpe.train_from_iterator(texts if texts is not None else training_text(seed), trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token=IM_END, pad_token=PAD, unk_token=None, bos_token=None,
        chat_template=CHAT_TEMPLATE, model_max_length=1024, padding_side="right",
        clean_up_tokenization_spaces=False)


def translation_messages(text: str, target: str | None = None) -> list[dict[str, str]]:
    """The single user turn the translator and teacher are prompted with."""
    from .language import TARGET_NAME

    return [{"role": "user", "content": PROMPT_TEMPLATE.format(target=target or TARGET_NAME, text=text)}]
