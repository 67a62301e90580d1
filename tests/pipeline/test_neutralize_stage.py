"""`sag neutralize` as a process: killed with SIGKILL mid-run, it resumes without paying twice."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
import yaml

from llm.loopback_openai import LoopbackOpenAI
from tests.conftest import REPO

pytestmark = pytest.mark.slow
N = 12


def stage_inputs(tmp_path: Path, base_url: str) -> list[str]:
    ids = [f"p{i:02d}" for i in range(N)]
    pl.DataFrame({"target_post_id": ids, "ref_post_id": ids}).write_parquet(tmp_path / "selected.parquet")
    pl.DataFrame(
        {"post_id": ids, "title": "t", "text": [f"Post {i} says {i} things." for i in range(N)]}
    ).write_parquet(tmp_path / "articles.parquet")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["llm"] |= {
        "backend": "openai",
        "model": "loopback",
        "base_url": base_url,
        "api_key_env": "SAG_TEST_KEY",
        "concurrency": 1,
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return [sys.executable, "-m", "pipeline.cli", "neutralize", "selected.parquet", "articles.parquet", "out", "m.json"]


def test_kill_and_resume_never_repeats_a_completed_call(tmp_path):
    env = os.environ | {"SAG_CACHE": str(tmp_path / "cache"), "SAG_TEST_KEY": "sk-loopback", "PYTHONPATH": str(REPO)}
    with LoopbackOpenAI(latency_s=0.25) as server:
        cmd = stage_inputs(tmp_path, server.base_url)
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while len(server.requests) < 5 and time.time() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        before = len(server.requests)
        assert 5 <= before < N and not (tmp_path / "out" / "neutral.parquet").exists()
        done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    prompts = [r["messages"][-1]["content"] for r in server.requests]
    # Every post asked once, except at most the one whose answer was in flight at the kill.
    assert len(set(prompts)) == N and len(prompts) <= N + 1
    assert pl.read_parquet(tmp_path / "out" / "neutral.parquet").height == N
    calls = pl.read_parquet(tmp_path / "out" / "llm_calls.parquet")
    assert calls.get_column("cache_hit").sum() >= before - 1 and len(calls) == N
