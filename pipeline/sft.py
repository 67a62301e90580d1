"""`sft` stage: S-SFT of the small model on one variant of the `sft` set (default `sag`).

    sag sft outputs/build_sft/sft.parquet models/sft metrics/sft.json plots/sft
    sag sft ... --variant vanilla   (the ablation models: sft.variant for this run only)

out: models/sft   a plain transformers folder (LoRA merged) with a model card (README.md)
     plots/sft  loss and learning-rate curves (DVC plots), written by dvclive
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.outputs import read_table, write_metrics
from pipeline.params import build, use_compute


def main(
    sft_path: Path, model_out: Path, metrics_path: Path, live_dir: Path, params_path: Path, variant: str | None = None
) -> dict:
    import dataclasses

    from common.models import plain_model_dir
    from pipeline.untrained import pass_through
    from training.sft import SFTParams, train
    from training.trainer_setup import file_md5, write_card

    params = build(SFTParams, "sft", params_path)
    use_compute(params_path)
    if variant:
        params = dataclasses.replace(params, variant=variant)
    table = read_table(sft_path, "build_sft")
    examples, held_out = split_examples(table, params)
    if not examples:
        why = f"0 training examples for sft.variant={params.variant!r} at this filter.threshold"
        start = plain_model_dir(params.model, "sft.model")
        return pass_through(
            start, model_out, live_dir, metrics_path, why, variant=params.variant, profile=params.profile
        )
    shutil.rmtree(model_out, ignore_errors=True)
    metrics = {
        "variant": params.variant,
        "profile": params.profile,
        **train(examples, params, model_out, live_dir, held_out=held_out),
    }
    write_card(
        model_out,
        f"S-SFT ({params.variant})",
        params.model,
        {str(sft_path): file_md5(sft_path)},
        params.settings(),
        metrics,
    )
    write_metrics(metrics, metrics_path)
    return metrics


def split_examples(table, params) -> tuple[list[dict], list[dict]]:
    """(train examples, held-out sample) of `params.variant`: train-split rows, and a seeded sample of
    align-split rows (all when sft.held_out_examples is 0 or larger than their number)."""
    import polars as pl

    if "prompt" not in table.columns:  # an empty set (no pair kept at this threshold) has no columns to read
        return [], []
    mine = table.filter(pl.col("variant") == params.variant)
    align = mine.filter(pl.col("split") == "align")
    if params.held_out_examples and len(align) > params.held_out_examples:
        align = align.sample(params.held_out_examples, seed=params.seed)
    train = mine.filter(pl.col("split") == "train")
    return train.select("prompt", "completion").to_dicts(), align.select("prompt", "completion").to_dicts()
