"""Inverse-generation throughput of the local model: calls/min and generated tokens/s of the
neutralize role through the llama.cpp server, on the same chunks of real default-corpus articles.

    .venv/bin/python benchmarks/neutralize.py [--targets 6 --concurrency 4 --threads 2]

Needs `make repro` (outputs/curate/articles.parquet) and `make llm-model` (Qwen2.5-Coder-1.5B).
Runs, each with a fresh cache: concurrency 1 without and with lookup decoding, then concurrency N
(N server slots, continuous batching) with it. The last line is concurrency N vs 1 (lookup on).
Do not time it while another heavy job runs: the model takes both cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/curation.py shadows the package

from llm.cache import LLMCache  # noqa: E402
from llm.fact_inventory import inventory  # noqa: E402
from llm.faithful_rewrite import chunks  # noqa: E402
from llm.roles.neutralize import ROLE  # noqa: E402
from llm.runner import LLMRunner  # noqa: E402
from llm.types import LLMParams  # noqa: E402


def items(n: int, chunk_words: int) -> list[dict]:
    import polars as pl

    articles = pl.read_parquet("outputs/curate/articles.parquet").filter(pl.col("split") == "train")
    out = []
    for row in articles.sample(n, seed=13).iter_rows(named=True):
        for k, text in enumerate(chunks(row["text"], chunk_words)):
            facts = [f.text for f in inventory(text)]
            out.append(
                {"id": row["post_id"], "key": (row["post_id"], k), "text": text, "title": row["title"], "facts": facts}
            )
    return out


def run(work: list[dict], concurrency: int, lookup: bool, threads: int, tmp: Path) -> tuple[float, float]:
    """(calls per minute, generated tokens per second), the server's start not counted."""
    params = LLMParams(
        roles={"neutralize": {"backend": "llamacpp"}},
        concurrency=concurrency,
        lookup_decoding=lookup,
        threads=threads,
    )
    runner = LLMRunner(params, LLMCache(tmp / f"c{concurrency}{lookup}.sqlite"), stage="bench")
    try:
        runner.backend(params.for_role("neutralize"))  # start the server before the clock
        start = time.perf_counter()
        runner.run(ROLE, work, progress=False)
        seconds = time.perf_counter() - start
    finally:
        runner.close()
    assert runner.stats.calls >= len(work)
    return runner.stats.calls / seconds * 60, runner.stats.tokens_out / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", type=int, default=6)
    ap.add_argument("--chunk-words", type=int, default=120)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    work = items(args.targets, args.chunk_words)
    print(f"{len(work)} chunks of {args.targets} train-split articles, {args.threads} server threads")
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        for concurrency, lookup in ((1, False), (1, True), (args.concurrency, True)):
            rates[concurrency, lookup] = run(work, concurrency, lookup, args.threads, Path(tmp))
            per_min, tok_s = rates[concurrency, lookup]
            print(
                f"concurrency {concurrency}, lookup decoding {'on ' if lookup else 'off'}: "
                f"{per_min:5.2f} calls/min, {tok_s:5.1f} generated tokens/s",
                flush=True,
            )
    print(f"lookup decoding on vs off at concurrency 1: {rates[1, True][0] / rates[1, False][0]:.2f}x calls/min")
    n = args.concurrency
    print(f"concurrency {n} vs 1 (lookup on): {rates[n, True][0] / rates[1, True][0]:.2f}x calls/min")


if __name__ == "__main__":
    main()
