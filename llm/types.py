"""The LLM layer's value types: params, a role (prompt builder + strict parser), a completion,
an outcome per item and the counts of a run. No backend, no I/O."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from common.errors import InputError

BACKENDS = ("extractive", "openai", "llamacpp")
# Every LLM role by name; `llm.roles.<role>` may give one its own backend and model.
ROLE_NAMES = ("neutralize", "correct", "judge", "reflect", "draft", "write", "factcheck")
# What `model` means when a role switches backend without naming one.
DEFAULT_MODELS = {"extractive": "extractive-v1", "llamacpp": "packaged:qwen2.5-coder-1.5b-instruct"}


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


@dataclass(frozen=True)
class LLMParams:
    backend: str = "extractive"
    # The endpoint's model name (openai), a .gguf file or packaged:<name> (llamacpp), extractive-v1.
    model: str = "extractive-v1"
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"  # the variable's *name*; its value is never written anywhere
    temperature: float = 0.0
    max_tokens: int = 768
    concurrency: int = 4
    timeout_s: float = 120.0
    max_retries: int = 5  # transport retries (429, 5xx, timeouts), by the openai client
    parse_retries: int = 1  # a malformed answer is asked again this many times, then recorded as a failure
    max_calls: int = 0  # spend limit: calls (not cache hits) per run; 0 = no limit
    json_schema: bool = True  # ask the server to constrain answers to the role's JSON schema
    mode: str = "sync"  # sync: one request per item; batch: the endpoint's batch API (openai backend)
    batch_poll_s: float = 30.0
    batch_timeout_s: float = 86400.0  # stop waiting (the batch id is kept: the next run resumes it)
    threads: int = 2  # llamacpp: CPU threads of the server
    context: int = 4096  # llamacpp: context window in tokens, per server slot (llm.concurrency slots)
    # role -> {backend, model}: a backend per role. The roles a small local model can do are listed
    # (empty: they follow llm.backend), so `-S llm.roles.neutralize.backend=llamacpp` has a key to set.
    roles: dict = field(default_factory=lambda: {"neutralize": {}, "draft": {}})

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise InputError(f"llm.backend={self.backend!r}; allowed: {', '.join(BACKENDS)}")
        if self.backend == "openai" and not isinstance(self.base_url, str):
            raise InputError("llm.base_url is needed for llm.backend=openai (e.g. http://localhost:8000/v1)")
        for name in ("concurrency", "max_tokens", "threads", "context"):
            if not _positive_int(getattr(self, name)):
                raise InputError(f"llm.{name}={getattr(self, name)!r}; must be a positive integer")
        for name in ("max_retries", "parse_retries", "max_calls"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InputError(f"llm.{name}={value!r}; must be >= 0")
        if self.mode not in ("sync", "batch"):
            raise InputError(f"llm.mode={self.mode!r}; allowed: sync, batch")
        for name in ("batch_poll_s", "batch_timeout_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise InputError(f"llm.{name}={value!r}; must be a number of seconds > 0")
        if not isinstance(self.temperature, int | float) or isinstance(self.temperature, bool) or self.temperature < 0:
            raise InputError(f"llm.temperature={self.temperature!r}; must be a number >= 0")
        if not isinstance(self.timeout_s, int | float) or isinstance(self.timeout_s, bool) or self.timeout_s <= 0:
            raise InputError(f"llm.timeout_s={self.timeout_s!r}; must be a number of seconds > 0")
        if self.base_url is not None and not isinstance(self.base_url, str):
            raise InputError(f"llm.base_url={self.base_url!r}; must be a URL such as http://localhost:8000/v1")
        if not isinstance(self.model, str) or not self.model:
            raise InputError(f"llm.model={self.model!r}; must be a non-empty string")
        if not isinstance(self.roles, dict):
            raise InputError(f"llm.roles={self.roles!r}; must map role names to {{backend, model}}")
        for role, choice in self.roles.items():
            if role not in ROLE_NAMES:
                raise InputError(f"llm.roles.{role}: unknown role; known: {', '.join(ROLE_NAMES)}")
            if not isinstance(choice, dict) or set(choice) - {"backend", "model"}:
                raise InputError(f"llm.roles.{role}={choice!r}; give backend and/or model")
            self.for_role(role)  # validates the role's backend and model

    def for_role(self, role: str) -> LLMParams:
        """The params one role runs with: its own backend and model where llm.roles gives them."""
        choice = self.roles.get(role) or {}
        if not choice:
            return self
        backend = choice.get("backend", self.backend)
        default = self.model if backend == self.backend else DEFAULT_MODELS.get(backend, self.model)
        where = f"llm.roles.{role}"
        try:
            return replace(self, backend=backend, model=choice.get("model", default), roles={})
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None

    def writers(self, roles: tuple[str, ...]) -> dict:
        """Which backend and model answer each of these roles, for metrics and reports."""
        return {role: f"{self.for_role(role).backend}: {self.for_role(role).model}" for role in roles}

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
    schema: dict | None = None  # the answer's JSON schema: servers that can, constrain generation to it


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
    # Answers accepted after stripping what real servers add around the JSON (code fences, prose).
    tolerated: Counter = field(default_factory=Counter)
    stopped_by_spend_limit: bool = False

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "failures": dict(sorted(self.failures.items())),
            "tolerated": dict(sorted(self.tolerated.items())),
        }


def template_version(path: Path) -> str:
    return f"{path.stem}@{hashlib.sha256(path.read_bytes()).hexdigest()[:8]}"
