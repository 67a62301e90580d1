"""`select` stage: keep the pairs the style filter gives at least `filter.threshold`.

    sag select outputs/score/pairs.parquet outputs/select/selected_pairs.parquet outputs/select/dropped_pairs.parquet metrics/select.json plots/kept_vs_threshold.csv

`score` is a calibrated probability, so `filter.threshold=0.7` keeps the pairs the filter gives a
70% or better chance of one author's style. Every dropped pair is kept in `dropped_pairs` with its
reason, counted in metrics/select.json. The stage reads only `filter.threshold` and
`filter.refs_per_target`, so `dvc exp run -S filter.threshold=0.7` re-runs this stage and what
follows it, never the embedding or the training.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.outputs import read_table, write_csv, write_metrics, write_table
from pipeline.params import build


def main(pairs_path: Path, out_path: Path, dropped_path: Path, metrics_path: Path, plot_path: Path, params_path: Path):
    from style.embedder import FilterTrainParams
    from style.pairs import ScoreParams, SelectParams, select_pairs, threshold_sweep

    params = build(SelectParams, "filter", params_path, shared_with=(FilterTrainParams, ScoreParams))
    pairs = read_table(pairs_path, "score")
    selected, dropped = select_pairs(pairs, params.threshold, params.refs_per_target)
    write_table(selected, out_path)
    write_table(dropped, dropped_path)
    write_csv(threshold_sweep(pairs, params.refs_per_target), plot_path)
    targets = pairs.get_column("target_post_id").n_unique()
    metrics = {
        "threshold": params.threshold,
        "refs_per_target": params.refs_per_target,
        "pairs_in": len(pairs),
        "pairs_kept": len(selected),
        "pairs_dropped": dict(sorted(dropped.group_by("reason").len().iter_rows())),
        "targets_in": targets,
        "targets_kept": selected.get_column("target_post_id").n_unique(),
        "users_kept": selected.get_column("user_id").n_unique(),
    }
    write_metrics(metrics, metrics_path)
    return metrics
