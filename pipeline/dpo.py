"""`dpo` stage: C-DPO (and DDPO when `dpo.weighted`) from the S-SFT model on the `dpo` set.

sag dpo outputs/build_dpo/dpo.parquet models/sft models/dpo metrics/dpo.json plots/dpo
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.outputs import read_table, require_model, write_metrics
from pipeline.params import build, use_compute


def main(
    dpo_path: Path, sft_model: Path, model_out: Path, metrics_path: Path, live_dir: Path, params_path: Path
) -> dict:
    import polars as pl

    from pipeline.untrained import pass_through
    from training.dpo import DPOParams, train
    from training.trainer_setup import file_md5, write_card

    params = build(DPOParams, "dpo", params_path)
    use_compute(params_path)
    require_model(sft_model, "sft")
    table = read_table(dpo_path, "build_dpo")
    pairs = table.filter(pl.col("source").is_in(params.sources)).to_dicts() if "source" in table.columns else []
    if not pairs:
        why = f"0 preference pairs from dpo.sources={params.sources!r} at this filter.threshold"
        return pass_through(
            sft_model,
            model_out,
            live_dir,
            metrics_path,
            why,
            profile=params.profile,
            weighted=params.weighted,
            sources=params.sources,
        )
    shutil.rmtree(model_out, ignore_errors=True)
    metrics = {
        "profile": params.profile,
        "weighted": params.weighted,
        "sources": params.sources,
        **train(pairs, params, sft_model, model_out, live_dir),
    }
    write_card(
        model_out,
        "S-SFT + C-DPO" + (" (deviation-weighted)" if params.weighted else ""),
        str(sft_model),
        {str(dpo_path): file_md5(dpo_path)},
        params.settings(),
        metrics,
    )
    write_metrics(metrics, metrics_path)
    return metrics
