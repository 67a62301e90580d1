"""The `llamacpp` backend: a llama.cpp server started for the stage with a GGUF model (default
packaged:qwen2.5-coder-1.5b-instruct, assembled once from its registry parts), reached through the
openai backend's client. Stopped by `close()`, which the stage's session calls on every exit."""

from __future__ import annotations

from common.models import gguf_file
from llm.llamacpp_server import LlamaCppServer
from llm.openai_backend import OpenAIBackend
from llm.types import Completion, LLMParams


class LlamaCppBackend:
    def __init__(self, params: LLMParams):
        self.server = LlamaCppServer(
            gguf_file(params.model), params.threads, params.context, parallel=params.concurrency
        ).start()
        try:
            # The runner keeps llm.concurrency requests in flight, one per server slot.
            self.client = OpenAIBackend(params, base_url=f"{self.server.base_url}/v1", api_key="local")
        except Exception:
            self.server.stop()
            raise

    def complete(self, messages: list[dict], schema: dict | None = None, **sampling) -> Completion:
        return self.client.complete(messages, schema, **sampling)

    def close(self) -> None:
        self.server.stop()
