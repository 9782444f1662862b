"""A stand-in for vLLM 0.33 in the engine process (tests/test_vllm_engine.py): no GPU here.

It serves the names hala_runners.engines.vllm_engine uses, as vLLM does:
  LLM(...), LLM.chat, LLM.enqueue_chat, LLM.request_counter  (vllm/entrypoints/llm.py, common/offline.py)
  LLM.llm_engine.step / has_unfinished_requests / abort_request (vllm/v1/engine/llm_engine.py)
  SamplingParams, RequestOutput, CompletionOutput             (vllm/sampling_params.py, vllm/outputs.py)
Requests finish shortest prompt first (continuous batching finishes short rows first), each as its
own step. A prompt longer than max_model_len (counted in words) is refused at add_request with
VLLMValidationError (vllm/v1/engine/input_processor.py), and the requests added before it in the
same call are aborted (vllm/entrypoints/common/offline.py _render_and_add_requests). A prompt holding DIES kills the engine as a CUDA fault kills EngineCore: the cause is
logged by vLLM's logger, then EngineDeadError, then every later call raises it again.
Logging is set up as vllm/logger.py does: one handler on the stream VLLM_LOGGING_STREAM names
(ext://sys.stdout unless set).

Each import and each LLM(...) appends a JSON line to $FAKE_VLLM_RECORD: the call, and what a worker
vLLM forked from this process would inherit.
"""
import json
import logging.config
import os

import torch

from .exceptions import VLLMValidationError
from .v1.engine.exceptions import EngineDeadError

DIES = "<the engine dies here>"
ROOT_CAUSE = "torch.AcceleratorError: CUDA error: an illegal memory access was encountered"

logging.config.dictConfig({
    "version": 1, "disable_existing_loggers": False,
    "formatters": {"vllm": {"format": "%(levelname)s [fake vllm] %(message)s"}},
    "handlers": {"vllm": {"class": "logging.StreamHandler", "formatter": "vllm",
                          "stream": os.environ.get("VLLM_LOGGING_STREAM", "ext://sys.stdout")}},
    "loggers": {"vllm": {"handlers": ["vllm"], "level": "INFO", "propagate": False}},
})
logger = logging.getLogger("vllm")


def _fork_poisoned() -> bool:
    """Would CUDA fail in a child forked now (vLLM's default for EngineCore and its workers)?"""
    pid = os.fork()
    if pid == 0:
        os._exit(1 if torch._C._cuda_isInBadFork() else 0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 1


def _record(call: str, **fields) -> None:
    state = {"pid": os.getpid(), "fork_poisoned": _fork_poisoned(), "cuda_initialized": torch.cuda.is_initialized(),
             "multiproc_method": os.environ.get("VLLM_WORKER_MULTIPROC_METHOD"),
             "logging_stream": os.environ.get("VLLM_LOGGING_STREAM")}
    with open(os.environ["FAKE_VLLM_RECORD"], "a") as f:
        f.write(json.dumps({"call": call, **state, **fields}) + "\n")


_record("import vllm")


class SamplingParams:
    def __init__(self, temperature: float = 1.0, max_tokens: int | None = 16):
        self.temperature, self.max_tokens = temperature, max_tokens


class CompletionOutput:
    def __init__(self, text: str, token_ids: list[int], finish_reason: str):
        self.text, self.token_ids, self.finish_reason = text, token_ids, finish_reason


class RequestOutput:
    def __init__(self, request_id: str, prompt: str, outputs: list[CompletionOutput]):
        self.request_id, self.prompt, self.outputs, self.finished = request_id, prompt, outputs, True


class Counter:  # vllm/utils/counter.py
    def __init__(self):
        self.counter = 0

    def __next__(self) -> int:
        self.counter += 1
        return self.counter - 1


class LLMEngine:
    def __init__(self, max_model_len: int | None = None):
        self.waiting: dict[str, tuple[str, str, SamplingParams]] = {}  # internal id -> (request id, prompt, params)
        self.dead = False
        self.max_model_len = max_model_len

    def add_request(self, request_id: str, prompt: str, params: SamplingParams) -> str:
        self._alive()
        length = len(prompt.split())
        if self.max_model_len is not None and length > self.max_model_len:
            raise VLLMValidationError(f"The decoder prompt (length {length}) is longer than the maximum model length "
                                      f"of {self.max_model_len}. Make sure that `max_model_len` is no smaller than "
                                      "the number of text tokens.")
        internal = f"{request_id}-{os.urandom(4).hex()}"  # vLLM 0.33 randomises the id it returns
        self.waiting[internal] = (request_id, prompt, params)
        return internal

    def has_unfinished_requests(self) -> bool:
        return bool(self.waiting)

    def abort_request(self, request_ids: list[str], internal: bool = False) -> None:
        for internal_id in request_ids:
            self.waiting.pop(internal_id, None)

    def step(self) -> list[RequestOutput]:
        self._alive()
        internal = min(self.waiting, key=lambda k: len(self.waiting[k][1]))
        request_id, prompt, params = self.waiting.pop(internal)
        if DIES in prompt:
            self.dead = True
            logger.error("EngineCore encountered a fatal error.\nTraceback (most recent call last):\n"
                         '  File "vllm/v1/engine/core.py", line 1580, in run_engine_core\n%s', ROOT_CAUSE)
            raise EngineDeadError()
        words = prompt.split()[: params.max_tokens]
        eos = [0] if len(words) < params.max_tokens else []
        return [RequestOutput(request_id, prompt, [CompletionOutput(prompt.upper(), list(range(1, len(words) + 1)) + eos,
                                                                    "stop" if eos else "length")])]

    def _alive(self) -> None:
        if self.dead:
            raise EngineDeadError()


class LLM:
    def __init__(self, model: str, **kwargs):
        _record("LLM", model=model, tensor_parallel_size=kwargs.get("tensor_parallel_size"))
        logger.info("Initializing a V1 LLM engine with config: model=%r", model)
        self.request_counter = Counter()
        self.llm_engine = LLMEngine(kwargs.get("max_model_len"))

    def enqueue_chat(self, messages, sampling_params=None, use_tqdm=True, add_generation_prompt=True) -> list[str]:
        _record("enqueue_chat", prompts=len(messages))
        return self._add(messages, sampling_params)

    def chat(self, messages, sampling_params=None, use_tqdm=True, add_generation_prompt=True) -> list[RequestOutput]:
        _record("chat", prompts=len(messages))
        self._add(messages, sampling_params)
        outputs: list[RequestOutput] = []
        while self.llm_engine.has_unfinished_requests():
            outputs += self.llm_engine.step()
        return sorted(outputs, key=lambda o: int(o.request_id))

    def _add(self, messages, params) -> list[str]:
        # One user turn per conversation (engines.base.chat); its content stands for the rendered prompt.
        added: list[str] = []
        try:
            for conversation in messages:
                added.append(self.llm_engine.add_request(str(next(self.request_counter)), conversation[-1]["content"], params))
        except Exception:
            self.llm_engine.abort_request(added, internal=True)
            raise
        return added
