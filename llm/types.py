"""The LLM layer's value types: params, a role (prompt builder + strict parser), a completion,
an outcome per item and the counts of a run. No backend, no I/O."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.errors import InputError

BACKENDS = ("extractive", "openai", "local")


@dataclass(frozen=True)
class LLMParams:
    backend: str = "extractive"
    model: str = "extractive-v1"  # the endpoint's model name, or a local folder / packaged:SmolLM2-135M-Instruct
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"  # the variable's *name*; its value is never written anywhere
    temperature: float = 0.0
    max_tokens: int = 768
    concurrency: int = 4
    timeout_s: float = 120.0
    max_retries: int = 5  # transport retries (429, 5xx, timeouts), by the openai client
    parse_retries: int = 1  # a malformed answer is asked again this many times, then recorded as a failure
    max_calls: int = 0  # spend limit: calls (not cache hits) per run; 0 = no limit

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise InputError(f"llm.backend={self.backend!r}; allowed: {', '.join(BACKENDS)}")
        if self.backend == "openai" and not self.base_url:
            raise InputError("llm.base_url is needed for llm.backend=openai (e.g. http://localhost:8000/v1)")
        for name in ("concurrency", "max_tokens"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise InputError(f"llm.{name}={getattr(self, name)!r}; must be a positive integer")
        for name in ("max_retries", "parse_retries", "max_calls"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise InputError(f"llm.{name}={getattr(self, name)!r}; must be >= 0")

    def generation(self) -> dict:
        """What, besides the messages, decides an answer (part of the cache key)."""
        return {"temperature": self.temperature, "max_tokens": self.max_tokens}


@dataclass(frozen=True)
class Role:
    """A prompt template and what to do with its answers. Pure functions: testable without a model."""

    name: str
    version: str  # template name + a hash of its text: editing the template invalidates the cache
    format_input: Callable[[dict], list[dict]]
    parse_output: Callable[[str], dict]  # raises ValueError with a reason on a malformed answer
    baseline: Callable[[dict], str]  # the extractive backend's answer, in the same format


@dataclass
class Completion:
    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    finish_reason: str = "stop"


@dataclass
class Outcome:
    input_id: str
    output: dict | None
    error: str | None = None
    detail: str | None = None
    response: str | None = None


@dataclass
class RunStats:
    calls: int = 0
    cache_hits: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    failures: Counter = field(default_factory=Counter)
    stopped_by_spend_limit: bool = False

    def as_dict(self) -> dict:
        return {**asdict(self), "failures": dict(sorted(self.failures.items()))}


def template_version(path: Path) -> str:
    return f"{path.stem}@{hashlib.sha256(path.read_bytes()).hexdigest()[:8]}"
