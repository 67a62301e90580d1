"""The sharded stages on a real Ray cluster and after a `kill -9`: the same tables either way.

A local Ray cluster (2 CPUs, its files under the test's tmp folder) runs the ingest and curate
tasks that a process pool runs otherwise; a curate killed with SIGKILL after some shards resumes
with the unfinished ones only."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
import yaml

from pipeline import curate as curate_stage
from pipeline import ingest as ingest_stage
from tests.conftest import committed_params
from tests.curation.test_same_decisions import write_forum

pytestmark = pytest.mark.slow
TABLES = ("ingest/posts.parquet", "ingest/quarantine.parquet", "curate/articles.parquet", "curate/quarantine.parquet")


def params_file(folder: Path, shards: int, **compute) -> Path:
    params = committed_params()
    params["ingest"] |= {"shards": shards, "chunk_bytes": 1 << 16}
    params["compute"] |= compute
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "params.yaml").write_text(yaml.safe_dump(params))
    return folder / "params.yaml"


def run_both(dump: Path, out: Path, params: Path) -> None:
    ingest_stage.main(dump, out / "ingest", out / "ingest.json", params)
    curate_stage.main(out / "ingest" / "posts.parquet", out / "curate", out / "curate.json", params)


def shard_bytes(out: Path, table: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / table).glob("part-*.parquet"))}


@pytest.fixture(scope="module")
def forum(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("forum") / "forum.jsonl"
    write_forum(path)
    return path


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, forum) -> Path:
    out = tmp_path_factory.mktemp("local")
    run_both(forum, out, params_file(out, 7))
    return out


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir=str(tmp_path_factory.mktemp("ray")))
    yield ray
    ray.shutdown()


def test_ray_gives_the_tables_the_process_pool_gives(tmp_path, forum, local_run, ray_cluster):
    run_both(forum, tmp_path, params_file(tmp_path, 7, executor="ray"))
    for table in TABLES:
        assert len(shard_bytes(tmp_path, table)) == 7
        assert shard_bytes(tmp_path, table) == shard_bytes(local_run, table), table
    assert (tmp_path / "curate.json").read_text() == (local_run / "curate.json").read_text()
    assert (tmp_path / "ingest.json").read_text() == (local_run / "ingest.json").read_text()


def test_a_killed_curate_resumes_with_the_unfinished_shards_only(tmp_path, forum, caplog, monkeypatch):
    shards = 64
    params = params_file(tmp_path, shards, workers=1)  # tasks in turn, in the stage's process
    ingest_stage.main(forum, tmp_path / "ingest", tmp_path / "ingest.json", params)
    posts, out = tmp_path / "ingest" / "posts.parquet", tmp_path / "curate"
    cache = tmp_path / "cache"
    sag = Path(sys.executable).parent / "sag"
    command = [str(sag), "curate", str(posts), str(out), str(tmp_path / "curate.json"), "--params", str(params)]
    proc = subprocess.Popen(command, env=os.environ | {"SAG_CACHE": str(cache)}, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(done := list(cache.glob("shards/curate/*/done/rules/*.done"))) < 3:
        assert proc.poll() is None and time.monotonic() < deadline, "curate ended before it could be killed"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    (work,) = cache.glob("shards/curate/*")
    done = {p: p.stat().st_mtime_ns for p in work.glob("done/rules/*.done")}
    # what the finished tasks wrote (a task killed between its output and its marker runs again)
    made = {p: p.stat().st_mtime_ns for p in (work / "stage" / f"part-{d.stem}.parquet" for d in done)}
    assert 3 <= len(done) < shards and not out.exists()  # killed half-way: no table looks complete

    monkeypatch.setenv("SAG_CACHE", str(cache))
    monkeypatch.setattr(curate_stage.shutil, "rmtree", lambda *a, **k: None)  # keep the work to look at
    with caplog.at_level("WARNING", logger="common.executor"):
        curate_stage.main(posts, out, tmp_path / "curate.json", params)
    assert f"curate: lines: {shards} of {shards} already done (resumed), running 0" in caplog.text
    assert f"curate: rules: {len(done)} of {shards} already done (resumed), running {shards - len(done)}" in caplog.text
    # the finished shards were not done again: their markers and outputs are the killed run's
    assert {p: p.stat().st_mtime_ns for p in done} == done
    assert {p: p.stat().st_mtime_ns for p in made} == made
    assert len(list(work.glob("done/rules/*.done"))) == shards

    monkeypatch.setenv("SAG_CACHE", str(tmp_path / "fresh-cache"))
    curate_stage.main(posts, tmp_path / "clean", tmp_path / "clean.json", params)
    for table in ("articles.parquet", "quarantine.parquet"):
        assert shard_bytes(out, table) == shard_bytes(tmp_path / "clean", table)
        assert len(shard_bytes(out, table)) == shards
    assert (tmp_path / "curate.json").read_text() == (tmp_path / "clean.json").read_text()
    assert pl.read_parquet(out / "articles.parquet").height > 1000
