"""`score` stage: score every earlier -> later pair of a user's articles with the style filter.

    sag score outputs/curate/articles.parquet models/style_filter outputs/score/pairs.parquet metrics/score.json plots/pair_scores.csv

`score` is the calibrated probability from `filter.scorer` (embedding | char_ngram | fused); the
raw cosines (trained and base embedder, character 3-gram and word TF-IDF) are kept beside it so
SQL can compare them. Embeddings are cached: a change of scorer re-embeds nothing.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.outputs import read_table, write_csv, write_metrics, write_table
from pipeline.params import build, use_compute


def main(
    articles_path: Path, model_dir: Path, pairs_path: Path, metrics_path: Path, plot_path: Path, params_path: Path
):
    import numpy as np
    import polars as pl

    from style.filter import Embedders
    from style.features import FEATURES, SIMILARITIES, pair_features
    from style.embedder import FilterTrainParams
    from style.pairs import (
        ScoreParams,
        SelectParams,
        cross_user_pairs,
        pair_indices,
        pairs_table,
        sort_articles,
    )
    from style.scorer import StyleScorer

    params = build(ScoreParams, "filter", params_path, shared_with=(FilterTrainParams, SelectParams))
    use_compute(params_path)
    scorer = StyleScorer.load(model_dir)
    articles = sort_articles(read_table(articles_path, "curate"))
    embedders = Embedders.for_filter(model_dir, scorer.meta, params.precision)
    feats = embedders.features(articles.get_column("text").to_list(), scorer.tfidf, progress=True)
    ref, target, counts = pair_indices(articles, params.max_refs_per_target)
    X = pair_features(feats, target, ref)
    raw = {name: X[:, FEATURES.index(name)] for name in SIMILARITIES}
    pairs = pairs_table(articles, ref, target, scorer.predict(params.scorer, X), **raw)
    a, b = cross_user_pairs(articles.get_column("user_id").to_numpy(), n=max(len(pairs), 1000), seed=13)
    cross = scorer.predict(params.scorer, pair_features(feats, a, b))
    write_table(pairs, pairs_path)

    # Histogram of same-user vs cross-user scores, as a DVC plot.
    bins = np.linspace(0, 1, 21)
    same_hist, _ = np.histogram(pairs.get_column("score").to_numpy(), bins=bins)
    cross_hist, _ = np.histogram(cross, bins=bins)
    write_csv(
        pl.DataFrame({"score": np.round(bins[:-1] + 0.025, 3), "same_user": same_hist, "cross_user": cross_hist}),
        plot_path,
    )
    same = pairs.get_column("score")
    metrics = {
        **counts,
        "scorer": params.scorer,
        "articles": len(articles),
        "users": articles.get_column("user_id").n_unique(),
        "targets": pairs.get_column("target_post_id").n_unique(),
        "embedding": embedders.stats,
        "same_user_mean_score": round(float(same.mean()), 4) if len(same) else None,
        "cross_user_mean_score": round(float(cross.mean()), 4) if len(cross) else None,
    }
    write_metrics(metrics, metrics_path)
    return metrics
