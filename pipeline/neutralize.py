"""`neutralize` stage: a summary and a neutral rewrite of every target article in selected_pairs.

    sag neutralize outputs/select/selected_pairs.parquet outputs/curate/articles.parquet outputs/neutralize metrics/neutralize.json

out: neutral.parquet           post_id, summary, neutral, backend, model, template
     neutral_failures.parquet  role, input_id, reason, detail, response (answers that never parsed, calls that failed)
     llm_calls.parquet         this run's calls and cache hits (the full history stays in the cache file)

LLM answers are cached in $SAG_CACHE/llm.sqlite (default .cache/), outside DVC's outputs, so a
re-run, a killed run or a threshold experiment pays only for targets never seen before.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.outputs import read_table, write_llm_tables, write_metrics, write_table
from pipeline.params import build


def main(pairs_path: Path, articles_path: Path, out_dir: Path, metrics_path: Path, params_path: Path) -> dict:
    import polars as pl

    from llm.roles.neutralize import ROLE
    from llm.session import LLMSession
    from llm.types import LLMParams

    params = build(LLMParams, "llm", params_path)
    targets = read_table(pairs_path, "select").get_column("target_post_id").unique().sort()
    articles = read_table(articles_path, "curate").filter(pl.col("post_id").is_in(targets.implode()))
    items = [
        {"id": r["post_id"], "key": r["post_id"], "text": r["text"], "title": r["title"]}
        for r in articles.sort("post_id").iter_rows(named=True)
    ]
    with LLMSession(params, "neutralize") as session:
        done = session.outputs(ROLE, items)
        neutral = pl.DataFrame(
            [{"post_id": k, **v} for k, v in done.items()],
            schema={"post_id": pl.String, "summary": pl.String, "neutral": pl.String},
        ).with_columns(backend=pl.lit(params.backend), model=pl.lit(params.model), template=pl.lit(ROLE.version))
        write_table(neutral.sort("post_id"), out_dir / "neutral.parquet")
        write_llm_tables(session, out_dir, "neutral_failures.parquet")
    metrics = {
        "targets": len(targets),
        # A target whose article is not in `articles` (curated away since select ran) cannot be neutralized.
        "missing_articles": len(targets) - len(items),
        "neutralized": len(done),
        "failed": len(session.failures),
        "backend": params.backend,
        "model": params.model,
        "template": ROLE.version,
        **session.stats,
    }
    write_metrics(metrics, metrics_path)
    return metrics
