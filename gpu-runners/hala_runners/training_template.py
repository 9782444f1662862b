"""Which chat template and which loss a supervised fine-tuning run trains with, settled before any
model is loaded (runners/train.py).

The train runner asks TRL for assistant-only loss. TRL 1.16's SFTTrainer then needs a template with
`{% generation %}` markers, or one equal byte for byte to a template it ships a training version of
(trl/chat_template_utils.py, get_training_chat_template); any other raises "The chat template is not
training-compatible ... patching is not supported" inside SFTTrainer(...), after the model is loaded,
as an untyped error that is retried. So the run decides first, in this order:

1. "base": the base's own template has the markers;
2. "trl": TRL ships a training version of it (SFTTrainer swaps it in itself);
3. "hala:<name>": a marked template of templates/ renders exactly the text the base's own template
   renders for every probe conversation: trained with it, the same tokens, only the mask is new (the
   published model keeps the base's own template);
4. completion-only loss on the base's own template, when every chat ends on its only assistant reply
   and the prompt with the generation prompt is a prefix of the whole chat: the loss then falls on
   the same tokens assistant-only loss would pick;
5. else BadInput naming the recipe field of the base and the fix.
What was chosen goes into the run's result and the model card.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import bad_input

TEMPLATES = Path(__file__).parent / "templates"

# Conversations both templates must render alike: plain, with a system message, several turns; and
# the prompts before a reply, with the generation prompt.
_S = {"role": "system", "content": "S0 system."}
_U1, _A1 = {"role": "user", "content": "U1 question?"}, {"role": "assistant", "content": "A1 answer."}
_U2, _A2 = {"role": "user", "content": "U2 again?"}, {"role": "assistant", "content": "A2 reply."}
_CHATS = [[_U1, _A1], [_S, _U1, _A1], [_U1, _A1, _U2, _A2], [_S, _U1, _A1, _U2, _A2]]
_PROMPTS = [[_U1], [_S, _U1], [_U1, _A1, _U2]]


@dataclass(frozen=True)
class Choice:
    template: str  # "base", "trl" or "hala:<name>": which template the loss mask comes from
    loss: str  # "assistant_only" or "completion_only"
    chat_template: str | None = None  # a template of templates/ to train with; None: as TRL does

    def record(self) -> dict:
        """What the run reports (contracts TrainSftOutput.training_template) and the model card keeps."""
        return {"template": self.template, "loss": self.loss}


def choose(tokenizer: Any, dataset: Path, source: str) -> Choice:
    """The template and loss for training `tokenizer`'s model on the chats of `dataset` (parquet,
    column `messages`). `source` names the base in errors: "<recipe field> = <uri>"."""
    import trl
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    own = tokenizer.chat_template
    if not own:
        raise bad_input(f"{source} has no chat template (tokenizer_config.json chat_template or chat_template.jinja): "
                        "supervised fine-tuning on chats needs one; pick a chat model or give the base a template")
    if has_generation_markers(own):
        return Choice("base", "assistant_only")
    try:
        if get_training_chat_template(tokenizer) is not None:
            return Choice("trl", "assistant_only")
    except Exception:  # noqa: BLE001 - TRL's "not training-compatible" ValueError, or the template failing its probes
        pass
    for path in sorted(TEMPLATES.glob("*.jinja")):
        ours = path.read_text()
        if _renders_alike(tokenizer, ours):
            return Choice(f"hala:{path.stem}", "assistant_only", ours)
    why = _completion_only_problem(tokenizer, dataset)
    if why is None:
        return Choice("base", "completion_only")
    names = ", ".join(p.stem for p in sorted(TEMPLATES.glob("*.jinja")))
    raise bad_input(
        f"{source}: its chat template cannot mark the assistant's tokens for assistant-only loss: it has no "
        f"{{% generation %}} markers, TRL {trl.__version__} ships no training version of it, and it renders unlike "
        f"the project's marked templates ({names}); completion-only loss cannot stand in, since {why}. Fix: give the "
        "base a chat template with {% generation %}...{% endgeneration %} around each assistant reply (its "
        "tokenizer_config.json chat_template), add a marked template that renders like it under "
        "gpu-runners/hala_runners/templates/, or pick another base")


def as_prompt_completion(dataset: Any) -> Any:
    """Chats that end on their only reply as TRL's conversational prompt-completion rows, the layout
    its completion-only loss masks (everything before the reply is prompt)."""
    return dataset.map(lambda row: {"prompt": row["messages"][:-1], "completion": row["messages"][-1:]},
                       remove_columns=["messages"])


def _render(tokenizer: Any, template: str | None, messages: list[dict], prompt: bool) -> str:
    """The text of `messages`, or the error it raises: two templates that refuse the same chat agree."""
    try:
        return tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False, add_generation_prompt=prompt)
    except Exception as e:  # noqa: BLE001 - jinja's TemplateError, raise_exception, a missing key
        return f"<error {type(e).__name__}>"


def _renders_alike(tokenizer: Any, ours: str) -> bool:
    return all(_render(tokenizer, None, m, prompt) == _render(tokenizer, ours, m, prompt)
               for m, prompt in [*((c, False) for c in _CHATS), *((p, True) for p in _PROMPTS)])


def _completion_only_problem(tokenizer: Any, dataset: Path) -> str | None:
    """Why completion-only loss would not train the same tokens as assistant-only loss; None if it would."""
    rows, bad = _rows_not_ending_on_their_only_reply(dataset)
    if bad:
        return (f"{bad} of {rows} rows have several assistant turns or do not end on one "
                "(completion-only loss trains the last reply alone)")
    for chat in ([_U1, _A1], [_S, _U1, _A1]):
        prompt, whole = _render(tokenizer, None, chat[:-1], True), _render(tokenizer, None, chat, False)
        if prompt.startswith("<error") or whole.startswith("<error"):
            continue  # a shape the template refuses (a system message): training data cannot hold it either
        if not whole.startswith(prompt):
            return ("its prompt with the generation prompt is not the start of the whole chat "
                    f"({prompt[-40:]!r} vs {whole[len(prompt) - 40:len(prompt)]!r}), so the reply's tokens cannot be told apart")
    return None


def _rows_not_ending_on_their_only_reply(dataset: Path) -> tuple[int, int]:
    """(rows, rows whose chat does not end on its one assistant message), from the roles alone."""
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    chats = pq.read_table(dataset, columns=["messages"]).column("messages").combine_chunks()
    rows = len(chats)
    lengths = pc.fill_null(pc.list_value_length(chats), 0).to_numpy(zero_copy_only=False)
    is_reply = pc.fill_null(pc.equal(pc.struct_field(chats.flatten(), "role"), "assistant"), False).to_numpy(zero_copy_only=False)
    replies = np.bincount(pc.list_parent_indices(chats).to_numpy(), weights=is_reply, minlength=rows)
    if len(is_reply) == 0:
        return rows, rows
    last = np.clip(np.cumsum(lengths) - 1, 0, None)  # each row's last message in the flattened list
    ends_on_reply = (lengths > 0) & is_reply[last]
    return rows, int(np.sum(~(ends_on_reply & (replies == 1))))
