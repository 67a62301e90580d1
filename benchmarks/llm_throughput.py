"""LLM-layer throughput against a loopback OpenAI-compatible server with injected latency.

    .venv/bin/python benchmarks/llm_throughput.py [--items 64 --latency 0.2]

Runs the neutralize role over the same items at concurrency 1, 2, 4 and 8 (a fresh cache each),
then once more over a warm cache, which must make 0 calls. Target: speed-up >= 0.8 x N up to N=8.
The last line is the speed-up at concurrency 8.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/curation.py shadows the package

from llm.cache import LLMCache  # noqa: E402
from llm.loopback_openai import LoopbackOpenAI  # noqa: E402
from llm.roles.neutralize import ROLE  # noqa: E402
from llm.runner import LLMRunner  # noqa: E402
from llm.types import LLMParams  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.2)
    args = ap.parse_args()
    os.environ["SAG_BENCH_KEY"] = "sk-loopback"
    items = [
        {"id": f"p{i}", "title": "t", "text": f"Post {i}: the part costs {i} euro. " * 20} for i in range(args.items)
    ]
    rates = {}
    with LoopbackOpenAI(latency_s=args.latency) as server, tempfile.TemporaryDirectory() as tmp:
        for n in (1, 2, 4, 8):
            params = LLMParams(
                backend="openai", model="loopback", base_url=server.base_url, api_key_env="SAG_BENCH_KEY", concurrency=n
            )
            runner = LLMRunner(params, LLMCache(Path(tmp) / f"c{n}.sqlite"), stage="bench")
            start = time.perf_counter()
            outcomes = runner.run(ROLE, items, progress=False)
            seconds = time.perf_counter() - start
            assert all(o.output for o in outcomes) and runner.stats.calls == args.items
            rates[n] = args.items / seconds
            print(f"concurrency {n}: {rates[n]:6.1f} items/s  ({seconds:.2f} s, {runner.stats.calls} calls)")
        before = len(server.requests)
        warm = LLMRunner(params, LLMCache(Path(tmp) / "c8.sqlite"), stage="bench")
        start = time.perf_counter()
        warm.run(ROLE, items, progress=False)
        print(
            f"warm cache: {warm.stats.calls} calls, {warm.stats.cache_hits} cache hits, "
            f"{len(server.requests) - before} requests, {time.perf_counter() - start:.2f} s"
        )
    for n in (2, 4, 8):
        print(f"speed-up at concurrency {n}: {rates[n] / rates[1]:.2f}x (target {0.8 * n:.1f}x)")


if __name__ == "__main__":
    main()
