"""`train_filter` stage: fine-tune the style embedder on train-split users, measure it on test users.

    sag train-filter outputs/curate/articles.parquet models/style_filter metrics/filter.json plots/filter_loss.csv

Measures (metrics/filter.json) for the base model, the trained one, a character 3-gram TF-IDF
baseline and the mean of trained + 3-gram: same-author verification ROC-AUC and retrieval accuracy
with bootstrap intervals over test users.
"""

from __future__ import annotations

import time
from pathlib import Path

from pipeline.outputs import read_table, write_csv, write_metrics
from pipeline.params import build


def main(articles_path: Path, model_out: Path, metrics_path: Path, loss_path: Path, params_path: Path) -> dict:
    import polars as pl

    from curation import authorship
    from curation.embeddings import embed_cached, fingerprint, load_model, resolve_model
    from curation.errors import InputError
    from curation.style_filter import FilterTrainParams, train, training_triplets
    from curation.style_pairs import ScoreParams, SelectParams

    params = build(FilterTrainParams, "filter", params_path, shared_with=(ScoreParams, SelectParams))
    articles = read_table(articles_path, "curate").sort("user_id", "position")
    train_set = articles.filter(pl.col("split") == "train")
    test_set = articles.filter(pl.col("split") == "test")
    if train_set.is_empty() or test_set.get_column("user_id").n_unique() < 2:
        raise InputError("the style filter needs train users and at least 2 test users (see curate.split)")

    base_dir = resolve_model(params.base_model)
    base_key = f"{fingerprint(base_dir)}-bf16"
    base = load_model(base_dir, "bf16")
    train_vectors, _ = embed_cached(base, base_key, train_set.get_column("text").to_list(), progress=True)
    triplets = training_triplets(train_set, train_vectors, params)
    start = time.perf_counter()
    log = train(base_dir, triplets, params, model_out)
    seconds = time.perf_counter() - start
    write_csv(pl.DataFrame(log).select("step", "loss"), loss_path)

    users = test_set.get_column("user_id").to_numpy()
    positions = test_set.get_column("position").to_numpy()
    texts = test_set.get_column("text").to_list()

    def cosine(model, key: str):
        vectors, _ = embed_cached(model, key, texts)
        return vectors @ vectors.T

    trained = load_model(model_out, "bf16")
    similarities = {"base": cosine(base, base_key), "trained": cosine(trained, f"{fingerprint(model_out)}-bf16")}
    similarities["char3gram"] = authorship.char_ngram_similarity(train_set.get_column("text").to_list(), texts)
    similarities["trained+char3gram"] = authorship.combine(similarities["trained"], similarities["char3gram"])
    measures = {
        name: authorship.evaluate(sim, users, positions, params.bootstrap, params.seed)
        for name, sim in similarities.items()
    }
    best = max(measures, key=lambda name: measures[name]["auc"])
    metrics = {
        **measures,
        "best_by_auc": best,
        "trained_minus_base_auc": round(measures["trained"]["auc"] - measures["base"]["auc"], 4),
        "training": {
            "examples": len(triplets),
            "hard_negatives": "negative" in triplets.columns,
            "steps": int(log[-1]["step"]) if log else 0,
            "seconds": round(seconds, 1),
            "first_loss": round(log[0]["loss"], 4) if log else None,
            "last_loss": round(log[-1]["loss"], 4) if log else None,
        },
    }
    write_metrics(metrics, metrics_path)
    return metrics
