"""`curate` stage: posts -> articles (time-ordered per user, split by user) + curation rejects,
shard by shard (folders of shards in and out).

sag curate outputs/ingest/posts.parquet outputs/curate metrics/curate.json     (what dvc.yaml runs)
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from pipeline.outputs import check_writable, require_shards, write_metrics
from pipeline.params import build, use_executor


def main(posts_path: Path, out_dir: Path, metrics_path: Path, params_path: Path) -> dict:
    from curation.curate import CurateParams
    from curation.curate_shards import run_curate
    from common.parquet import part_name
    from curation.shards import code_version, files_version, work_folder

    check_writable(
        out_dir / "articles.parquet" / part_name(0), out_dir / "quarantine.parquet" / part_name(0), metrics_path
    )
    params = build(CurateParams, "curate", params_path)
    executor = use_executor(params_path)
    shards = require_shards(posts_path, "ingest")
    work = work_folder("curate", dataclasses.asdict(params), files_version(shards), code_version("curation", "common"))
    metrics = run_curate(shards, params, out_dir, work, executor)
    write_metrics(metrics, metrics_path)
    shutil.rmtree(work)  # the tables are linked out of it: only a killed run needs it
    return metrics
