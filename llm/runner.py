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
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from tqdm import tqdm

from llm.cache import LLMCache, call_key
from llm.types import Completion, LLMParams, Outcome, Role, RunStats


class SpendLimitReached(Exception):
    pass


def make_backend(params: LLMParams):
    if params.backend == "openai":
        from llm.openai_backend import OpenAIBackend

        return OpenAIBackend(params)
    if params.backend == "local":
        from llm.local_backend import LocalBackend

        return LocalBackend(params)
    return None  # extractive: the role's baseline


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
                failures.append(
                    {
                        "role": role.name,
                        "input_id": item["id"],
                        "reason": outcome.error,
                        "detail": outcome.detail,
                        "response": outcome.response,
                    }
                )
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
            run=self.run_id,
            stage=self.stage,
            key=key,
            backend=self.params.backend,
            model=self.params.model,
            template=role.version,
            input_id=item["id"],
            prompt=messages[-1]["content"],
        )
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
            self.cache.log(
                **base,
                cache_hit=0,
                ok=0,
                error=f"{type(exc).__name__}: {str(exc)[:300]}",
                latency_s=time.perf_counter() - start,
            )
            raise
        latency = time.perf_counter() - start
        with self._lock:
            self.stats.tokens_in += done.tokens_in
            self.stats.tokens_out += done.tokens_out
        # A truncated answer is logged but not cached: asking again with more room may succeed.
        ok = done.finish_reason != "length"
        if ok:
            self.cache.put(key, done.text, done.tokens_in, done.tokens_out)
        self.cache.log(
            **base,
            response=done.text,
            cache_hit=0,
            ok=int(ok),
            error=None if ok else "truncated",
            latency_s=latency,
            tokens_in=done.tokens_in,
            tokens_out=done.tokens_out,
        )
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
