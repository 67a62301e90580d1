"""The `openai` backend: any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama,
llama.cpp server). Retries with backoff, honouring Retry-After on 429, are the openai client's own."""

from __future__ import annotations

import os

from common.errors import InputError
from llm.types import Completion, LLMParams


class OpenAIBackend:
    def __init__(self, params: LLMParams, base_url: str | None = None, api_key: str | None = None):
        from openai import OpenAI

        key = api_key or os.environ.get(params.api_key_env)
        if not key:
            raise InputError(f"llm.backend=openai reads the API key from ${params.api_key_env}, which is not set")
        self.params = params
        self.client = OpenAI(
            base_url=base_url or params.base_url, api_key=key, timeout=params.timeout_s, max_retries=params.max_retries
        )

    def complete(self, messages: list[dict], schema: dict | None = None, **sampling) -> Completion:
        """One chat completion; `sampling`: extra settings such as frequency_penalty."""
        extra = dict(sampling)
        if schema:  # grammar-constrained on llama.cpp and vLLM; structured outputs on OpenAI
            extra["response_format"] = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
        response = self.client.chat.completions.create(
            model=self.params.model,
            messages=messages,
            temperature=self.params.temperature,
            max_tokens=self.params.max_tokens,
            **extra,
        )
        choice = response.choices[0]
        usage = response.usage
        return Completion(
            text=choice.message.content or "",
            tokens_in=usage.prompt_tokens if usage else 0,
            tokens_out=usage.completion_tokens if usage else 0,
            finish_reason=choice.finish_reason or "stop",
        )
