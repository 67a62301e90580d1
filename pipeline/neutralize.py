"""`neutralize` stage: a summary and a neutral rewrite of every target article in selected_pairs.

    sag neutralize outputs/select/selected_pairs.parquet outputs/curate/articles.parquet outputs/neutralize metrics/neutralize.json

out: neutral.parquet           post_id, summary, neutral, backend, model, template
     neutral_failures.parquet  post_id, reason, detail, response (answers that never parsed, calls that failed)
     llm_calls.parquet         this run's calls and cache hits (the full history stays in the cache file)

LLM answers are cached in $SAG_CACHE/llm.sqlite (default .cache/), outside DVC's outputs, so a
re-run, a killed run or a threshold experiment pays only for targets never seen before.
"""

from __future__ import annotations

from pathlib import Path

from curation.cache_dir import cache_dir
from pipeline.outputs import read_table, write_metrics, write_table
from pipeline.params import build

CACHE = cache_dir() / "llm.sqlite"


def main(pairs_path: Path, articles_path: Path, out_dir: Path, metrics_path: Path, params_path: Path) -> dict:
    import polars as pl

    from training.llm import LLMParams, LLMRunner
    from training.llm_cache import LLMCache
    from training.neutralize import ROLE

    params = build(LLMParams, "llm", params_path)
    targets = read_table(pairs_path, "select").get_column("target_post_id").unique().sort()
    articles = read_table(articles_path, "curate").filter(pl.col("post_id").is_in(targets.implode()))
    items = [
        {"id": r["post_id"], "text": r["text"], "title": r["title"]}
        for r in articles.sort("post_id").iter_rows(named=True)
    ]
    cache = LLMCache(CACHE)
    runner = LLMRunner(params, cache, stage="neutralize")
    outcomes = runner.run(ROLE, items)
    done = [o for o in outcomes if o.output is not None]
    failed = [o for o in outcomes if o.output is None]
    neutral = pl.DataFrame(
        [{"post_id": o.input_id, **o.output} for o in done],
        schema={"post_id": pl.String, "summary": pl.String, "neutral": pl.String},
    ).with_columns(backend=pl.lit(params.backend), model=pl.lit(params.model), template=pl.lit(ROLE.version))
    failures = pl.DataFrame(
        [{"post_id": o.input_id, "reason": o.error, "detail": o.detail, "response": o.response} for o in failed],
        schema={"post_id": pl.String, "reason": pl.String, "detail": pl.String, "response": pl.String},
    )
    calls = pl.DataFrame(cache.calls(runner.run_id), infer_schema_length=None)
    cache.close()
    write_table(neutral, out_dir / "neutral.parquet")
    write_table(failures, out_dir / "neutral_failures.parquet")
    write_table(calls, out_dir / "llm_calls.parquet")
    metrics = {
        "targets": len(items),
        "neutralized": len(done),
        "failed": len(failed),
        "backend": params.backend,
        "model": params.model,
        "template": ROLE.version,
        **runner.stats.as_dict(),
    }
    write_metrics(metrics, metrics_path)
    return metrics
