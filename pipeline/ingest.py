"""`ingest` stage: raw dump -> posts + quarantine tables (folders of shards) and a metrics file.

sag ingest data outputs/ingest metrics/ingest.json     (what dvc.yaml runs)
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from pipeline.outputs import check_writable, write_metrics
from pipeline.params import build, use_executor


def main(input_path: Path, out_dir: Path, metrics_path: Path, params_path: Path) -> dict:
    from curation.ingest import IngestParams
    from curation.ingest_shards import run_ingest
    from curation.readers import input_files
    from common.parquet import part_name
    from curation.shards import code_version, files_version, work_folder

    check_writable(
        out_dir / "posts.parquet" / part_name(0), out_dir / "quarantine.parquet" / part_name(0), metrics_path
    )
    params = build(IngestParams, "ingest", params_path)
    executor = use_executor(params_path)
    dump = files_version([f for f, _ in input_files(input_path, params.format)])
    work = work_folder("ingest", dataclasses.asdict(params), dump, code_version("curation", "common"))
    metrics = run_ingest(input_path, params, out_dir, work, executor)
    write_metrics(metrics, metrics_path)
    shutil.rmtree(work)  # the tables are linked out of it: only a killed run needs it
    return metrics
