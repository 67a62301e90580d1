"""`report` stage: the evaluation report, one self-contained HTML page.

sag report metrics/evaluate.json outputs/evaluate/eval_outputs.parquet reports/report.html \
    --neutral outputs/neutralize --articles outputs/curate/articles.parquet

With --neutral and --articles it also shows three neutral rewrites beside their articles, with the
facts each kept or lost.
"""

from __future__ import annotations

from pathlib import Path


def main(
    metrics_path: Path,
    outputs_path: Path,
    out_path: Path,
    neutral_dir: Path | None = None,
    articles: Path | None = None,
) -> None:
    from common.errors import InputError
    from eval.neutral_examples import neutral_examples
    from eval.report import write_report

    if (neutral_dir is None) != (articles is None):
        raise InputError("--neutral and --articles go together (the rewrites and the articles they rewrite)")
    for path in (neutral_dir and neutral_dir / "neutral.parquet", articles):
        if path is not None and not path.exists():
            raise InputError(f"{path} does not exist; run the neutralize and curate stages first")
    examples = neutral_examples(neutral_dir, articles) if neutral_dir else None
    write_report(metrics_path, outputs_path, out_path, root=Path.cwd(), neutral=examples)
