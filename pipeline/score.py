"""`score` stage: embed every curated article with the trained filter (cached) and score all
earlier -> later pairs of the same user.

    sag score outputs/curate/articles.parquet models/style_filter outputs/score/pairs.parquet metrics/score.json plots/pair_scores.csv
"""

from __future__ import annotations

from pathlib import Path

from pipeline.outputs import read_table, write_csv, write_metrics, write_table
from pipeline.params import build


def main(
    articles_path: Path, model_dir: Path, pairs_path: Path, metrics_path: Path, plot_path: Path, params_path: Path
):
    import numpy as np
    import polars as pl

    from curation.embeddings import embed_cached, fingerprint, load_model, resolve_model
    from curation.style_filter import FilterTrainParams
    from curation.style_pairs import ScoreParams, SelectParams, cross_user_scores, score_pairs, sort_articles

    params = build(ScoreParams, "filter", params_path, shared_with=(FilterTrainParams, SelectParams))
    articles = sort_articles(read_table(articles_path, "curate"))
    model_dir = resolve_model(str(model_dir))
    model = load_model(model_dir, params.precision)
    vectors, cache = embed_cached(
        model, f"{fingerprint(model_dir)}-{params.precision}", articles.get_column("text").to_list(), progress=True
    )
    pairs, counts = score_pairs(articles, vectors, params.max_refs_per_target)
    cross = cross_user_scores(articles, vectors, n=max(len(pairs), 1000), seed=13)
    write_table(pairs, pairs_path)

    # Histogram of same-user vs cross-user scores, as a DVC plot.
    bins = np.linspace(-1, 1, 41)
    same_hist, _ = np.histogram(pairs.get_column("score").to_numpy(), bins=bins)
    cross_hist, _ = np.histogram(cross, bins=bins)
    write_csv(
        pl.DataFrame({"score": np.round(bins[:-1] + 0.025, 3), "same_user": same_hist, "cross_user": cross_hist}),
        plot_path,
    )
    same = pairs.get_column("score")
    metrics = {
        **counts,
        "articles": len(articles),
        "users": articles.get_column("user_id").n_unique(),
        "targets": pairs.get_column("target_post_id").n_unique(),
        "embedding": cache,
        "same_user_mean_score": round(float(same.mean()), 4) if len(same) else None,
        "cross_user_mean_score": round(float(cross.mean()), 4) if len(cross) else None,
    }
    write_metrics(metrics, metrics_path)
    return metrics
