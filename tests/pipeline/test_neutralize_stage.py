"""`sag neutralize` as a process: killed with SIGKILL mid-run, it resumes without paying twice; and
end to end through a real llama.cpp server."""

import json
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
from llm.roles.neutralize import BASELINES
from tests.conftest import REPO, committed_params

pytestmark = pytest.mark.slow
N = 12


def stage_inputs(tmp_path: Path, base_url: str | None, llm: dict | None = None, **neutralize) -> list[str]:
    ids = [f"p{i:02d}" for i in range(N)]
    pl.DataFrame({"target_post_id": ids, "ref_post_id": ids[1:] + ids[:1], "score": 0.9}).write_parquet(
        tmp_path / "selected.parquet"
    )
    pl.DataFrame(
        {
            "post_id": ids,
            "user_id": [f"u{i}" for i in range(N)],
            "title": "t",
            "split": ["train", "align", "test"] * (N // 3),
            "text": [f"Bob sold {i} bikes in Dublin on Monday!! :) cheers" for i in range(N)],
        }
    ).write_parquet(tmp_path / "articles.parquet")
    params = committed_params()
    params["llm"] |= llm or {
        "backend": "openai",
        "model": "loopback",
        "base_url": base_url,
        "api_key_env": "SAG_TEST_KEY",
        "concurrency": 1,
    }
    params["neutralize"] |= neutralize
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
    # Every post asked once for its rewrite and once for its summary, except at most the request in
    # flight at the kill.
    assert len(set(prompts)) == 2 * N and len(prompts) <= 2 * N + 1
    assert pl.read_parquet(tmp_path / "out" / "neutral.parquet").height == N
    calls = pl.read_parquet(tmp_path / "out" / "llm_calls.parquet")
    assert calls.get_column("cache_hit").sum() >= before - 1 and len(calls) == 2 * N


def test_neutralize_end_to_end_through_a_real_llama_cpp_server(tmp_path):
    """The smallest packaged GGUF, schema-constrained: every answer parses, and the outputs say which
    backend and model wrote them. One target per split (neutralize.max_targets=1)."""
    env = os.environ | {"SAG_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    llm = {
        "roles": {"neutralize": {"backend": "llamacpp", "model": "packaged:smollm2-135m-instruct"}},
        "max_tokens": 160,
        "threads": 2,
        "context": 2048,
    }
    cmd = stage_inputs(tmp_path, None, llm, max_targets=1)
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    neutral = pl.read_parquet(tmp_path / "out" / "neutral.parquet")
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["targets"] == 3 and metrics["calls"] >= 1
    assert metrics["failures"].get("unparseable_answer", 0) == 0  # the grammar keeps the JSON valid
    # every target is a verified rewrite or a failure with its reason (a 135M model fails most checks)
    # (a summary_* row is a summary call that failed for an article that is still used)
    failures = pl.read_parquet(tmp_path / "out" / "neutral_failures.parquet")
    rejected = failures.filter(~pl.col("reason").str.starts_with("summary_"))
    assert neutral.height + rejected["input_id"].n_unique() == 3 == neutral.height + metrics["failed"]
    assert sum(n for r, n in metrics["failure_reasons"].items() if not r.startswith("summary_")) == metrics["failed"]
    assert set(neutral["backend"]) <= {"llamacpp"} and set(neutral["model"]) <= {"packaged:smollm2-135m-instruct"}
    assert all(row["summary"] and row["neutral"] for row in neutral.iter_rows(named=True))
    assert metrics["quality"]["accepted_rate"] == round(neutral.height / 3, 4)
    assert metrics["quality"]["valid_json_rate"] >= metrics["quality"]["accepted_rate"]
    assert {b: q["targets"] for b, q in metrics["baselines"].items()} == dict.fromkeys(
        BASELINES, metrics["quality"]["targets"]
    )
    calls = pl.read_parquet(tmp_path / "out" / "llm_calls.parquet")
    assert set(calls["backend"]) == {"llamacpp"}
