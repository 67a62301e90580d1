"""`ingest` stage: raw dump -> posts + quarantine tables and a metrics file.

sag ingest data outputs/ingest metrics/ingest.json     (what dvc.yaml runs)
"""

from __future__ import annotations

from pathlib import Path

from pipeline.outputs import check_writable, write_metrics, write_table
from pipeline.params import build


def main(input_path: Path, out_dir: Path, metrics_path: Path, params_path: Path) -> dict:
    from curation.ingest import IngestParams, ingest

    check_writable(out_dir / "posts.parquet", out_dir / "quarantine.parquet", metrics_path)
    params = build(IngestParams, "ingest", params_path)
    result = ingest(input_path, params)
    write_table(result.posts, out_dir / "posts.parquet")
    write_table(result.quarantine, out_dir / "quarantine.parquet")
    write_metrics(result.metrics, metrics_path)
    return result.metrics
