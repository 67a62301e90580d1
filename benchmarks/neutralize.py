"""Inverse-generation throughput of the local model: calls/min and generated tokens/s of the
neutralize role through the llama.cpp server, on the same chunks of real default-corpus articles.

    .venv/bin/python benchmarks/neutralize.py [--targets 6 --concurrency 4 --threads 2]

Needs `make repro` (outputs/curate/articles.parquet) and `make llm-model` (Qwen2.5-Coder-1.5B).
Runs the same chunks (with their fact checklists) at concurrency 1 (one server slot) and at N (N
slots, continuous batching, N requests in flight), each with a fresh cache and the server started
before the clock. The profile line says where time goes: per-call latency and the server's
aggregate decode rate. The last line is concurrency N vs 1. Do not time it beside another heavy job.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/curation.py shadows the package

from llm.cache import LLMCache  # noqa: E402
from llm.faithful_rewrite import chunk_items  # noqa: E402
from llm.roles.neutralize import ROLE  # noqa: E402
from llm.runner import LLMRunner  # noqa: E402
from llm.types import LLMParams  # noqa: E402


def items(n: int, chunk_words: int) -> list[dict]:
    import polars as pl

    articles = pl.read_parquet("outputs/curate/articles.parquet").filter(pl.col("split") == "train")
    picked = [
        {"id": r["post_id"], "text": r["text"], "title": r["title"]}
        for r in articles.sample(n, seed=13).iter_rows(named=True)
    ]
    return chunk_items(picked, chunk_words)


def run(work: list[dict], concurrency: int, threads: int, tmp: Path) -> dict:
    params = LLMParams(roles={"neutralize": {"backend": "llamacpp"}}, concurrency=concurrency, threads=threads)
    cache = LLMCache(tmp / f"c{concurrency}.sqlite")
    runner = LLMRunner(params, cache, stage="bench")
    try:
        runner.backend(params.for_role("neutralize"))  # the server's start is not timed
        start = time.perf_counter()
        runner.run(ROLE, work, progress=False)
        seconds = time.perf_counter() - start
        latency = [row["latency_s"] for row in cache.calls(runner.run_id) if not row["cache_hit"]]
    finally:
        runner.close()
        cache.close()
    return {
        "calls_per_min": runner.stats.calls / seconds * 60,
        "tokens_per_s": runner.stats.tokens_out / seconds,
        "prompt_tokens": runner.stats.tokens_in / runner.stats.calls,
        "latency": statistics.median(latency),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", type=int, default=6)
    ap.add_argument("--chunk-words", type=int, default=80)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    work = items(args.targets, args.chunk_words)
    print(f"{len(work)} chunks of {args.targets} train-split articles, {args.threads} server threads")
    n = args.concurrency
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for concurrency in (1, n):
            r = results[concurrency] = run(work, concurrency, args.threads, Path(tmp))
            print(
                f"concurrency {concurrency}: {r['calls_per_min']:5.2f} calls/min, {r['tokens_per_s']:5.1f} generated "
                f"tokens/s, median call {r['latency']:.1f} s, {r['prompt_tokens']:.0f} prompt tokens a call",
                flush=True,
            )
    one, many = results[1], results[n]
    print(
        f"profile: with {n} in flight a call takes {many['latency'] / one['latency']:.1f}x as long and the server "
        f"decodes {many['tokens_per_s'] / one['tokens_per_s']:.2f}x the tokens/s of one: "
        + (
            "decoding is compute-bound on these cores"
            if many["tokens_per_s"] < 1.3 * one["tokens_per_s"]
            else "batching pays"
        )
    )
    print(f"concurrency {n} vs 1: {many['calls_per_min'] / one['calls_per_min']:.2f}x calls/min")


if __name__ == "__main__":
    main()
