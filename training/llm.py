"""One small LLM interface: a role (prompt builder + strict parser) run over items by a backend,
with every call cached, logged and counted.

Backends (`llm.backend` in params.yaml):
  extractive  deterministic, no model: the role's own baseline (fast; says so in every output)
  openai      any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, llama.cpp
              server): `base_url`, `model`, and the *name* of the environment variable with the key.
              Retries with backoff, honouring Retry-After on 429, are the openai client's own.
  local       a transformers causal LM on CPU (default: SmolLM2-135M-Instruct from its registry
              package, converted once from GGUF to a plain folder). Weak: for checking the pipeline.
"""

from __future__ import annotations

import functools
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from curation.errors import InputError
from training.llm_cache import LLMCache, call_key

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


class SpendLimitReached(Exception):
    pass


def make_backend(params: LLMParams):
    if params.backend == "openai":
        return OpenAIBackend(params)
    if params.backend == "local":
        from training.local_lm import LocalBackend

        return LocalBackend(params)
    return None  # extractive: the role's baseline


class OpenAIBackend:
    def __init__(self, params: LLMParams):
        from openai import OpenAI

        key = os.environ.get(params.api_key_env)
        if not key:
            raise InputError(f"llm.backend=openai reads the API key from ${params.api_key_env}, which is not set")
        self.params = params
        self.client = OpenAI(
            base_url=params.base_url, api_key=key, timeout=params.timeout_s, max_retries=params.max_retries
        )

    def complete(self, messages: list[dict]) -> Completion:
        response = self.client.chat.completions.create(
            model=self.params.model,
            messages=messages,
            temperature=self.params.temperature,
            max_tokens=self.params.max_tokens,
        )
        choice = response.choices[0]
        usage = response.usage
        return Completion(
            text=choice.message.content or "",
            tokens_in=usage.prompt_tokens if usage else 0,
            tokens_out=usage.completion_tokens if usage else 0,
            finish_reason=choice.finish_reason or "stop",
        )


class LLMRunner:
    """Runs a role over items: cache first, then the backend, with bounded concurrency."""

    def __init__(self, params: LLMParams, cache: LLMCache, stage: str):
        self.params, self.cache, self.stage = params, cache, stage
        self.backend = make_backend(params)
        self.run_id = uuid.uuid4().hex[:12]
        self.stats = RunStats()
        self._lock = threading.Lock()

    def run(self, role: Role, items: list[dict], progress: bool = True) -> list[Outcome]:
        workers = 1 if self.params.backend != "openai" else self.params.concurrency
        bar = tqdm(total=len(items), desc=f"{self.stage}: {role.name}", unit="item", disable=not progress)
        with ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(self._one, role, item) for item in items]
            outcomes = []
            for future in futures:
                outcomes.append(future.result())
                bar.update(1)
                bar.set_postfix(calls=self.stats.calls, hits=self.stats.cache_hits, refresh=False)
        bar.close()
        return outcomes

    def outputs(self, role: Role, items: list[dict], failures: list[dict]) -> dict:
        """Parsed outputs by `item["key"]`; each failed item is appended to `failures` with its reason."""
        done = {}
        for item, outcome in zip(items, self.run(role, items), strict=True):
            if outcome.output is None:
                failures.append({"role": role.name, "input_id": item["id"], "reason": outcome.error,
                                 "detail": outcome.detail, "response": outcome.response})  # fmt: skip
            else:
                done[item["key"]] = outcome.output
        return done

    def _one(self, role: Role, item: dict) -> Outcome:
        messages = role.format_input(item)
        response = None
        for _ in range(self.params.parse_retries + 1):
            try:
                response = self._answer(role, item, messages)
            except SpendLimitReached:
                return self._fail(item, "spend_limit", f"llm.max_calls={self.params.max_calls} reached")
            except Exception as exc:  # transport failure after the client's own retries
                return self._fail(item, "call_failed", f"{type(exc).__name__}: {str(exc)[:300]}")
            try:
                return Outcome(item["id"], role.parse_output(response), response=response)
            except ValueError as exc:
                error = str(exc)
                # Ask again, saying what was wrong: a new conversation, so a new cache key.
                messages = [
                    *role.format_input(item),
                    {"role": "assistant", "content": response},
                    {
                        "role": "user",
                        "content": f"That answer was not valid: {error}. Reply with the JSON object only.",
                    },
                ]
        return self._fail(item, "unparseable_answer", error, response)

    def _answer(self, role: Role, item: dict, messages: list[dict]) -> str:
        # The extractive backend's "model" is the role's baseline code: key it by its source, so
        # that changing the baseline never serves stale answers.
        model = self.params.model if self.backend is not None else f"{self.params.model}@{_source_hash(role.baseline)}"
        key = call_key(self.params.backend, model, role.version, self.params.generation(), messages)
        base = dict(
            run=self.run_id, stage=self.stage, key=key, backend=self.params.backend, model=self.params.model,
            template=role.version, input_id=item["id"], prompt=messages[-1]["content"],
        )  # fmt: skip
        hit = self.cache.get(key)
        if hit is not None:
            with self._lock:
                self.stats.cache_hits += 1
            self.cache.log(**base, response=hit[0], cache_hit=1, ok=1, latency_s=0.0, tokens_in=0, tokens_out=0)
            return hit[0]
        with self._lock:
            if self.params.max_calls and self.stats.calls >= self.params.max_calls:
                self.stats.stopped_by_spend_limit = True
                raise SpendLimitReached
            self.stats.calls += 1
        start = time.perf_counter()
        try:
            done = Completion(role.baseline(item)) if self.backend is None else self.backend.complete(messages)
        except Exception as exc:
            self.cache.log(**base, cache_hit=0, ok=0, error=f"{type(exc).__name__}: {str(exc)[:300]}",
                           latency_s=time.perf_counter() - start)  # fmt: skip
            raise
        latency = time.perf_counter() - start
        with self._lock:
            self.stats.tokens_in += done.tokens_in
            self.stats.tokens_out += done.tokens_out
        # A truncated answer is logged but not cached: asking again with more room may succeed.
        ok = done.finish_reason != "length"
        if ok:
            self.cache.put(key, done.text, done.tokens_in, done.tokens_out)
        self.cache.log(**base, response=done.text, cache_hit=0, ok=int(ok), error=None if ok else "truncated",
                       latency_s=latency, tokens_in=done.tokens_in, tokens_out=done.tokens_out)  # fmt: skip
        return done.text

    def _fail(self, item: dict, reason: str, detail: str, response: str | None = None) -> Outcome:
        with self._lock:
            self.stats.failures[reason] += 1
        return Outcome(item["id"], None, reason, detail, response)


@functools.cache  # called for every item: read the module's source once
def _source_hash(fn: Callable) -> str:
    import hashlib
    import inspect

    return hashlib.sha256(inspect.getsource(inspect.getmodule(fn)).encode()).hexdigest()[:8]


def template_version(path: Path) -> str:
    import hashlib

    return f"{path.stem}@{hashlib.sha256(path.read_bytes()).hexdigest()[:8]}"
