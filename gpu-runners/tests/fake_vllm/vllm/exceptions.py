"""vllm/exceptions.py of vLLM 0.33: errors of a request (client) apart from errors of the engine (server)."""


class VLLMError(Exception):
    pass


class VLLMClientError(VLLMError):
    pass


class VLLMServerError(VLLMError):
    pass


class VLLMValidationError(VLLMClientError):
    pass
