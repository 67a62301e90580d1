"""A llama.cpp server (xllamacpp, in-process) on 127.0.0.1 for one stage: started with a GGUF model,
ready once its health endpoint answers, stopped when the stage ends, on error and on Ctrl-C.

It has `parallel` slots (llm.concurrency) with continuous batching. It speaks the OpenAI
chat-completions protocol, so the `openai` backend's client talks to it, and its `json_schema`
response format constrains the answer with a grammar.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

from common.device import device_class
from common.errors import InputError


class LlamaCppServer:
    def __init__(self, gguf: Path, threads: int, context: int, parallel: int = 1, ready_timeout_s: float = 120.0):
        self.gguf, self.threads, self.context, self.ready_timeout_s = gguf, threads, context, ready_timeout_s
        self.parallel = parallel
        self._server = None
        self.base_url: str | None = None
        self.load_seconds: float | None = None

    def start(self) -> LlamaCppServer:
        try:
            import xllamacpp
        except ImportError:
            raise InputError("llm.backend=llamacpp needs the xllamacpp package (make setup installs it)") from None
        params = xllamacpp.CommonParams()
        params.model.path = str(self.gguf)
        params.hostnames = ["127.0.0.1"]  # never reachable from another machine
        params.port = 0  # a free port, chosen by the server
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        # `parallel` slots decode together (continuous batching: one pass over the weights serves
        # every slot, which pays where decoding is memory-bound: a GPU, many cores; on 2 cores it is
        # compute-bound and N slots give ~1x, benchmarks/neutralize.py). Each slot has its own
        # `context` tokens and prompt cache, so the fixed system prefix is computed once per slot.
        params.n_parallel = self.parallel
        params.n_ctx = self.context * self.parallel
        params.cont_batching = True
        params.cache_prompt = True
        if device_class() == "cuda":  # every layer on the GPU (a CPU-only build ignores it)
            params.n_gpu_layers = 999
        params.verbosity = 0
        params.warmup = False
        start = time.perf_counter()
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:  # the native server reports a bad file or too little memory this way
            raise InputError(f"llama.cpp could not load {self.gguf}: {exc}") from None
        self.base_url = self._server.listening_address
        self._wait_ready()
        self.load_seconds = round(time.perf_counter() - start, 2)
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=5) as response:
                    if json.loads(response.read()).get("status") == "ok":
                        return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise InputError(f"the llama.cpp server for {self.gguf} was not ready in {self.ready_timeout_s} s")
            time.sleep(0.2)

    def stop(self) -> None:
        server, self._server = self._server, None
        del server  # its destructor ends the server's loop and frees the model

    def __enter__(self) -> LlamaCppServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
