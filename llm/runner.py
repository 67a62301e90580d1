"""One small LLM interface: a role (prompt builder + strict parser) run over items by a backend,
with every call cached, logged and counted.

Backends (`llm.backend` in params.yaml, or per role `llm.roles.<role>.backend`):
  extractive  deterministic, no model: the role's own baseline (fast; says so in every output)
  openai      any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, llama.cpp
              server): `base_url`, `model`, and the *name* of the environment variable with the key.
              Retries with backoff, honouring Retry-After on 429, are the openai client's own.
  llamacpp    a llama.cpp server the runner starts on 127.0.0.1 with a GGUF model (default
              packaged:qwen2.5-coder-1.5b-instruct) and stops when the stage ends.
"""

from __future__ import annotations

import functools
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from tqdm import tqdm

from llm.answers import json_body
from llm.cache import LLMCache, call_key
from llm.types import Completion, LLMParams, Outcome, Role, RunStats

# Sampling for the retry of an answer that ran out of tokens (OpenAI's parameter; llama.cpp and vLLM
# take it too): repeated tokens are penalised, which breaks a greedy loop.
LOOP_BREAKER = {"frequency_penalty": 0.5}


class SpendLimitReached(Exception):
    pass


def make_backend(params: LLMParams):
    if params.backend == "openai":
        from llm.openai_backend import OpenAIBackend

        return OpenAIBackend(params)
    if params.backend == "llamacpp":
        from llm.llamacpp_backend import LlamaCppBackend

        return LlamaCppBackend(params)
    return None  # extractive: the role's baseline


class LLMRunner:
    """Runs a role over items: cache first, then the backend, with bounded concurrency."""

    def __init__(self, params: LLMParams, cache: LLMCache, stage: str):
        self.params, self.cache, self.stage = params, cache, stage
        self.run_id = uuid.uuid4().hex[:12]
        self.stats = RunStats()
        self._lock = threading.Lock()
        self._backends: dict[tuple[str, str], object] = {}  # started on a role's first call, once
        self._prefetched: dict[str, tuple[Completion, float]] = {}  # llm.mode=batch answers by key

    def backend(self, params: LLMParams):
        key = (params.backend, params.model)
        with self._lock:
            if key not in self._backends:
                self._backends[key] = make_backend(params)
            return self._backends[key]

    def close(self) -> None:
        """Stop what the runner started (a llama.cpp server); safe to call twice."""
        backends, self._backends = self._backends, {}
        for backend in backends.values():
            if hasattr(backend, "close"):
                backend.close()

    def run(self, role: Role, items: list[dict], progress: bool = True) -> list[Outcome]:
        params = self.params.for_role(role.name)
        # A remote endpoint or the llama.cpp server's slots take llm.concurrency requests at once.
        workers = 1 if params.backend == "extractive" else self.params.concurrency
        if params.backend != "extractive" and items:
            self.backend(params)  # a backend that cannot start is one clear error, not a failure per item
        if params.mode == "batch" and params.backend == "openai" and items:
            self._prefetch(role, params, items)
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
        response, overrides = None, {}
        for _ in range(self.params.parse_retries + 1):
            try:
                response, finish = self._answer(role, item, messages, overrides)
            except SpendLimitReached:
                return self._fail(item, "spend_limit", f"llm.max_calls={self.params.max_calls} reached")
            except Exception as exc:  # transport failure after the client's own retries
                return self._fail(item, "call_failed", self._redact(f"{type(exc).__name__}: {str(exc)[:300]}"))
            if finish == "length":  # cut off: even if it parses, it is not the whole answer; ask again
                reason, error = "truncated_answer", f"the answer reached llm.max_tokens={self.params.max_tokens}"
                # A small model at temperature 0 that ran out of tokens was mostly looping: the same
                # request would loop again, so the retry penalises repeated tokens.
                overrides = LOOP_BREAKER
                continue
            try:
                output = role.parse_output(response)
            except ValueError as exc:
                reason, error = "unparseable_answer", str(exc)
                # Ask again, saying what was wrong: a new conversation, so a new cache key.
                messages = [
                    *role.format_input(item),
                    {"role": "assistant", "content": response},
                    {
                        "role": "user",
                        "content": f"That answer was not valid: {error}. Reply with the JSON object only.",
                    },
                ]
                continue
            stripped = json_body(response)[1]
            if stripped:
                with self._lock:
                    self.stats.tolerated[stripped] += 1
            return Outcome(item["id"], output, response=response)
        return self._fail(item, reason, error, response)

    def _request(
        self, role: Role, messages: list[dict], overrides: dict | None = None
    ) -> tuple[LLMParams, str, dict | None]:
        """(the role's params, the call's cache key, the JSON schema sent with it)."""
        params = self.params.for_role(role.name)
        extractive = params.backend == "extractive"
        # The extractive backend's "model" is the role's baseline code: key it by its source, so
        # that changing the baseline never serves stale answers.
        model = f"{params.model}@{_source_hash(role.baseline)}" if extractive else params.model
        schema = role.schema if params.json_schema and not extractive else None
        generation = params.generation() | (overrides or {}) | ({"json_schema": schema} if schema else {})
        return params, call_key(params.backend, model, role.version, generation, messages), schema

    def _prefetch(self, role: Role, params: LLMParams, items: list[dict]) -> None:
        """llm.mode=batch: every first-try call not in the cache goes to the endpoint as one batch;
        `_answer` then takes its answers as calls (retries after a bad answer go one by one)."""
        from llm.batch import request_body, run_batch

        requests = {}
        for item in items:
            messages = role.format_input(item)
            _, key, schema = self._request(role, messages)
            if key not in requests and self.cache.get(key) is None:
                requests[key] = request_body(params, messages, schema)
        if self.params.max_calls:  # the spend limit holds for batches too
            requests = dict(list(requests.items())[: max(self.params.max_calls - self.stats.calls, 0)])
        if requests:
            start = time.perf_counter()
            answers = run_batch(self.backend(params).client, params, requests, self.cache)
            latency = (time.perf_counter() - start) / len(requests)
            self._prefetched |= {key: (done, latency) for key, done in answers.items()}

    def _answer(self, role: Role, item: dict, messages: list[dict], overrides: dict | None = None) -> tuple[str, str]:
        """(answer, finish reason): from the cache, else from the role's backend (`overrides`:
        sampling settings beside params.generation(), part of the cache key)."""
        params, key, schema = self._request(role, messages, overrides)
        extractive = params.backend == "extractive"
        base = dict(
            run=self.run_id,
            stage=self.stage,
            key=key,
            backend=params.backend,
            model=params.model,
            template=role.version,
            input_id=item["id"],
            prompt=messages[-1]["content"],
        )
        hit = self.cache.get(key)
        if hit is not None:
            with self._lock:
                self.stats.cache_hits += 1
            self.cache.log(**base, response=hit[0], cache_hit=1, ok=1, latency_s=0.0, tokens_in=0, tokens_out=0)
            return hit[0], "stop"
        with self._lock:
            if self.params.max_calls and self.stats.calls >= self.params.max_calls:
                self.stats.stopped_by_spend_limit = True
                raise SpendLimitReached
            self.stats.calls += 1
        start = time.perf_counter()
        prefetched = self._prefetched.pop(key, None)
        try:
            if prefetched:
                done = prefetched[0]
            elif extractive:
                done = Completion(role.baseline(item))
            else:
                done = self.backend(params).complete(messages, schema, **(overrides or {}))
        except Exception as exc:
            self.cache.log(
                **base,
                cache_hit=0,
                ok=0,
                error=self._redact(f"{type(exc).__name__}: {str(exc)[:300]}"),
                latency_s=time.perf_counter() - start,
            )
            raise
        latency = prefetched[1] if prefetched else time.perf_counter() - start
        done.text = self._redact(done.text)  # a server that echoes the key must not get it stored
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
        return done.text, done.finish_reason

    def _redact(self, text: str) -> str:
        """The API key's value never reaches the cache, the call log or a failure table."""
        secret = os.environ.get(self.params.api_key_env) or ""
        return text.replace(secret, "[redacted]") if len(secret) >= 8 and text else text

    def _fail(self, item: dict, reason: str, detail: str, response: str | None = None) -> Outcome:
        with self._lock:
            self.stats.failures[reason] += 1
        return Outcome(item["id"], None, reason, detail, response)


_PROJECT_PACKAGES = ("common", "curation", "style", "llm")


@functools.cache  # called for every item: read the sources once
def _source_hash(fn: Callable) -> str:
    """The source of the function's module and of every project module it uses, directly or not
    (the skeleton baseline's answers change with llm/skeleton.py and llm/fact_inventory.py)."""
    import hashlib
    import inspect

    sources: dict[str, str] = {}
    todo = [inspect.getmodule(fn)]
    while todo:
        module = todo.pop()
        if module is None or module.__name__ in sources:
            continue
        sources[module.__name__] = inspect.getsource(module)
        for value in vars(module).values():
            used = value if inspect.ismodule(value) else inspect.getmodule(value) if callable(value) else None
            if used is not None and used.__name__.split(".")[0] in _PROJECT_PACKAGES:
                todo.append(used)
    code = fn.__qualname__ + "".join(sources[name] for name in sorted(sources))  # two baselines, one module
    return hashlib.sha256(code.encode()).hexdigest()[:8]
