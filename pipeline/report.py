"""`report` stage: the evaluation report, one self-contained HTML page.

sag report metrics/evaluate.json outputs/evaluate/eval_outputs.parquet reports/report.html
"""

from __future__ import annotations

from pathlib import Path


def main(metrics_path: Path, outputs_path: Path, out_path: Path) -> None:
    from eval.report import write_report

    write_report(metrics_path, outputs_path, out_path, root=Path.cwd())
