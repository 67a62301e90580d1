"""`curate` stage: posts -> articles (time-ordered per user, split by user) + curation rejects.

sag curate outputs/ingest/posts.parquet outputs/curate metrics/curate.json     (what dvc.yaml runs)
"""

from __future__ import annotations

from pathlib import Path

from pipeline.outputs import check_writable, scan_table, write_batches, write_metrics
from pipeline.params import build


def main(posts_path: Path, out_dir: Path, metrics_path: Path, params_path: Path) -> dict:
    from curation.curate import CurateParams, curate

    check_writable(out_dir / "articles.parquet", out_dir / "quarantine.parquet", metrics_path)
    params = build(CurateParams, "curate", params_path)
    result = curate(scan_table(posts_path, "ingest"), params)  # the text is read in batches
    # In batches: gathered whole, each table is another copy of its share of the text.
    rows, group = params.batch_rows, max(params.batch_rows // 5, 1)
    write_batches(result.article_batches(rows), out_dir / "articles.parquet", group)
    # Named like ingest's file so that `sag sql` shows both as one `quarantine` table (column `stage`).
    write_batches(result.reject_batches(rows), out_dir / "quarantine.parquet", group)
    write_metrics(result.metrics, metrics_path)
    return result.metrics
