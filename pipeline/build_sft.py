"""`build_sft` stage: S-SFT examples and the ablation sets (vanilla, tst, noref) for train-split users.

sag build-sft outputs/select/selected_pairs.parquet outputs/neutralize/neutral.parquet outputs/curate/articles.parquet outputs/build_sft/sft.parquet metrics/build_sft.json
"""

from __future__ import annotations

from pathlib import Path

from pipeline.outputs import read_table, write_metrics, write_table
from pipeline.params import build


def main(
    pairs_path: Path, neutral_path: Path, articles_path: Path, out_path: Path, metrics_path: Path, params_path: Path
):
    from training.sft_data import SFTDataParams, build_examples

    params = build(SFTDataParams, "build_sft", params_path)
    frame, metrics = build_examples(
        read_table(pairs_path, "select"),
        read_table(neutral_path, "neutralize"),
        read_table(articles_path, "curate"),
        params,
    )
    write_table(frame, out_path)
    write_metrics(metrics, metrics_path)
    return metrics
