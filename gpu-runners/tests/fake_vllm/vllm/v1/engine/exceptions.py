"""vllm/v1/engine/exceptions.py of vLLM 0.33: how the offline LLM reports a dead EngineCore."""
from ...exceptions import VLLMServerError


class EngineDeadError(VLLMServerError):
    def __init__(self, *args):
        super().__init__("EngineCore encountered an issue. See stack trace (above) for the root cause.", *args)
