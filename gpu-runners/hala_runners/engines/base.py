"""The interface every translation engine serves, and the prompt it builds.

The translator (and the teacher) is prompted with a single user turn: the recipe's prompt template,
already formatted with the target language, with `{text}` replaced by the source text. Decoding is
greedy, so the same shard always yields the same translations (a retry may mix attempts safely).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

from ..errors import bad_input

PLACEHOLDER = "{text}"


def check_template(template: str) -> None:
    if template.count(PLACEHOLDER) != 1:
        raise bad_input(f"translate_shard.prompt_template must contain {PLACEHOLDER} exactly once "
                        f"(got {template[:80]!r}); format the language in, leave {PLACEHOLDER} for the text")


def render_prompt(template: str, text: str) -> str:
    # str.replace, not str.format: source texts and templates may contain braces of their own.
    return template.replace(PLACEHOLDER, text)


def chat(template: str, text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": render_prompt(template, text)}]


class TranslationEngine(ABC):
    """A loaded model that translates batches of texts greedily."""

    name: str  # 'vllm' or 'transformers', reported in TranslateShardOutput.engine

    @abstractmethod
    def translate(self, texts: list[str], batch_size: int, max_new_tokens: int,
                  prompt_template: str) -> tuple[list[str], int]:
        """(translations in input order, tokens generated in total, stop tokens excluded)."""

    def translate_chunks(self, chunks: list[list[str]], batch_size: int, max_new_tokens: int,
                         prompt_template: str) -> Iterator[tuple[int, list[str], int]]:
        """(position in `chunks`, its translations, its tokens) for each chunk as it finishes, in any order.

        The runner checkpoints each chunk as it comes. By default one chunk after another through
        translate(); an engine that schedules rows itself (vLLM) takes them all at once.
        """
        for k, texts in enumerate(chunks):
            yield (k, *self.translate(texts, batch_size, max_new_tokens, prompt_template))
