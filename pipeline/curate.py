"""`curate` stage: posts -> articles (time-ordered per user, split by user) + curation rejects.

sag curate outputs/ingest/posts.parquet outputs/curate metrics/curate.json     (what dvc.yaml runs)
"""

from __future__ import annotations

from pathlib import Path

from pipeline.outputs import check_writable, read_table, write_metrics, write_table
from pipeline.params import build


def main(posts_path: Path, out_dir: Path, metrics_path: Path, params_path: Path) -> dict:
    from curation.curate import CurateParams, curate

    check_writable(out_dir / "articles.parquet", out_dir / "quarantine.parquet", metrics_path)
    params = build(CurateParams, "curate", params_path)
    result = curate(read_table(posts_path, "ingest"), params)
    write_table(result.articles, out_dir / "articles.parquet")
    # Named like ingest's file so that `sag sql` shows both as one `quarantine` table (column `stage`).
    write_table(result.rejects, out_dir / "quarantine.parquet")
    write_metrics(result.metrics, metrics_path)
    return result.metrics
