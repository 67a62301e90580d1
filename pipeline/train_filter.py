"""`train_filter` stage: build the style filter on train-split users, measure it on test users.

    sag train-filter outputs/curate/articles.parquet models/style_filter metrics/filter.json plots/filter plots/filter_reliability.csv

Writes `models/style_filter/` (the trained embedder in `embedder/`, the calibrated scorers in
`scorer.joblib`), the loss curve (dvclive, under `plots/filter`), the reliability curve of the
fused scorer, and metrics/filter.json: AUC and retrieval for base, trained, char 3-gram, word and
fused scorers on test users, with paired bootstrap differences and a k-fold-by-user estimate.
It does not read `filter.scorer` or `filter.threshold`: changing those never retrains anything.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.filter_params import filter_params
from pipeline.outputs import read_table, write_csv, write_metrics
from pipeline.params import use_compute


def main(articles_path: Path, model_out: Path, metrics_path: Path, live_dir: Path, curve_path: Path, params_path: Path):
    import polars as pl

    from style.filter import build_filter

    params = filter_params(params_path)
    use_compute(params_path)
    articles = read_table(articles_path, "curate")
    for stale in (model_out, live_dir):  # a rerun must not keep files of an earlier layout or run
        shutil.rmtree(stale, ignore_errors=True)
    model_out.mkdir(parents=True)
    metrics, curve = build_filter(articles, params, model_out, live_dir)
    write_csv(pl.DataFrame(curve), curve_path)
    write_metrics(metrics, metrics_path)
    return metrics
