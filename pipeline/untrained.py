"""What a training stage writes when it gets no examples (say, at an extreme `filter.threshold`).

The model it starts from is copied unchanged, with a model card and metrics that say so, and an
empty loss curve: downstream stages still run, and `dvc exp show` gets a row that explains itself
instead of a failed experiment.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.outputs import write_metrics


def pass_through(start_model: Path, model_out: Path, live_dir: Path, metrics_path: Path, why: str, **metrics) -> dict:
    shutil.rmtree(model_out, ignore_errors=True)
    shutil.copytree(start_model, model_out)
    (model_out / "README.md").write_text(f"# Not trained\n\n{why}\n\nThis folder is a copy of `{start_model}`.\n")
    curves = live_dir / "plots" / "metrics"
    shutil.rmtree(live_dir, ignore_errors=True)
    curves.mkdir(parents=True)
    (curves / "loss.tsv").write_text("step\tloss\n")
    metrics = metrics | {
        "not_enough_data": why,
        "steps": 0,
        "examples": 0,
        "pairs": 0,
        "first_loss": None,
        "final_loss": None,
    }
    write_metrics(metrics, metrics_path)
    return metrics
