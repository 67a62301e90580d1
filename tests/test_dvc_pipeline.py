"""End to end: `dvc repro` of the real dvc.yaml on a tiny corpus, in a fresh git + DVC repository."""

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from llm.loopback_openai import LoopbackOpenAI, every_role

pytestmark = pytest.mark.slow
CROSS_SPLIT_COPIES = (
    "WITH w AS (SELECT post_id, split, string_split(lower(text), ' ') AS ws FROM articles), "
    "s AS (SELECT post_id, split, list_distinct(list_transform(range(1, len(ws) - 3), "
    "lambda i: array_to_string(ws[i:i+4], ' '))) AS sh FROM w) "
    "SELECT count(*) AS n FROM s a JOIN s b ON a.post_id < b.post_id AND a.split <> b.split "
    "WHERE len(list_intersect(a.sh, b.sh)) >= 0.8 * len(list_distinct(list_concat(a.sh, b.sh)))"
)


def sh(cwd: Path, *cmd: str) -> str:
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_dvc_repro_builds_every_stage_and_a_threshold_experiment_reruns_only_select(project, monkeypatch):
    secret = "sk-e2e-SECRET-must-not-leak-0123456789"
    monkeypatch.setenv("SAG_E2E_KEY", secret)
    with LoopbackOpenAI(every_role) as server:
        params = yaml.safe_load((project / "params.yaml").read_text())
        params["llm"] |= {
            "backend": "openai",
            "model": "loopback",
            "base_url": server.base_url,
            "api_key_env": "SAG_E2E_KEY",
        }
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        run_pipeline(project, server)
        assert server.auth_headers and all(h == f"Bearer {secret}" for h in server.auth_headers)
    # The key reached the server, and no file the pipeline wrote: outputs, cache, logs, metrics, dvc.lock.
    leaks = [p for p in project.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert leaks == []
    assert (project / ".cache" / "llm.sqlite").exists() and (project / "dvc.lock").exists()


def run_pipeline(project: Path, server: LoopbackOpenAI) -> None:
    sh(project, "git", "init", "-q")
    sh(project, "dvc", "init", "-q")
    sh(project, "dvc", "repro")
    ingest = json.loads((project / "metrics/ingest.json").read_text())
    assert ingest["read"] == ingest["accepted"] + ingest["quarantined"] == 8 + 81
    assert sh(project, "sag", "sql", "SELECT count(*) AS n FROM articles", "--format", "csv").split() == ["n", "80"]
    copied = "SELECT post_id, detail FROM quarantine WHERE reason = 'near_duplicate'"
    assert (
        sh(project, "sag", "sql", copied, "--format", "csv")
        .split("\n")[1]
        .startswith("copy,near-duplicate (Jaccard 1.0) of u0-0 by ")
    )
    assert json.loads((project / "metrics/curate.json").read_text())["near_duplicates"]["cross_user"] == 1
    # No two articles of different splits share 80% of their 5-word shingles (DuckDB over the output;
    # the same query counts 1 when the copy is put back, tests/curation/test_curate_cleaning.py).
    cross = CROSS_SPLIT_COPIES
    assert sh(project, "sag", "sql", cross, "--format", "csv").split() == ["n", "0"]
    # 20 writers x 4 posts: every earlier->later pair (6 per writer), each strictly earlier and same-user
    out = sh(
        project,
        "sag",
        "sql",
        "SELECT count(*) AS n, bool_and(ref_position < target_position) AS ok FROM pairs",
        "--format",
        "csv",
    )
    assert out.split() == ["n,ok", "120,true"]
    filt = json.loads((project / "metrics/filter.json").read_text())
    assert {"base", "trained", "char3gram", "word", "fused"} <= set(filt) and len(filt["training"]["log"]) == 3
    assert json.loads((project / "metrics/select.json").read_text())["pairs_kept"] == 20 * 3  # best ref per target
    probability = "SELECT min(score) >= 0 AND max(score) <= 1 AS ok, count(char3_cos) = count(*) AS raw FROM pairs"
    assert sh(project, "sag", "sql", probability, "--format", "csv").split() == ["ok,raw", "true,true"]
    leaked = "SELECT count(*) AS n FROM sft JOIN articles a ON a.post_id = sft.target_post_id WHERE a.split = 'test' OR a.split <> sft.split"
    assert sh(project, "sag", "sql", leaked, "--format", "csv").split() == ["n", "0"]
    neutral = json.loads((project / "metrics/neutralize.json").read_text())
    assert neutral["backend"] == "openai" and neutral["neutralized"] == neutral["targets"] > 0 and neutral["calls"] > 0
    # Training: the small model was trained (S-SFT, then DPO on C-DPO and judge pairs from align users only).
    sft = json.loads((project / "metrics/sft.json").read_text())
    assert sft["steps"] == 2 and sft["final_loss"] is not None and (project / "models/sft/README.md").exists()
    assert sft["held_out_examples"] > 0 and sft["held_out_loss_base"] > 0 and sft["held_out_loss"] > 0  # align users
    built = json.loads((project / "metrics/build_dpo.json").read_text())
    assert built["prompts"] == 2 and built["samples"] == 6 and built["cdpo"]["pairs"] == 6 and built["failures"] == {}
    assert built["cdpo"]["length_ratio"] > 1  # the loopback corrector adds a fact
    pairs = "SELECT count(*) AS n, count(DISTINCT a.split) AS splits, min(a.split) AS split FROM dpo JOIN articles a ON a.post_id = dpo.target_post_id"
    assert sh(project, "sag", "sql", pairs, "--format", "csv").split()[1].endswith(",1,align")
    judged = "SELECT count(*) AS n FROM judgements WHERE reasons IS NOT NULL"
    assert sh(project, "sag", "sql", judged, "--format", "csv").split() == ["n", "6"]
    assert json.loads((project / "metrics/dpo.json").read_text())["steps"] == 1
    # Evaluation: every system wrote for the same test-split targets, was scored, judged and compared.
    ev = json.loads((project / "metrics/evaluate.json").read_text())
    systems = ["llm", "base", "sft", "dpo", "sft_noref", "sft_shuffled", "vanilla", "tst"]
    assert set(ev["systems"]) == {*systems, "human"} and ev["targets"] == min(4, ev["test_targets"]) >= 2
    assert all(ev["systems"][s]["faithful_judged"] == ev["targets"] for s in systems)
    assert set(ev["comparisons"]) == {f"{s} - sft" for s in systems if s != "sft"}
    assert ev["reference_ablation"]["targets"] == ev["targets"] and ev["reference_ablation"]["summary"]
    per_system = "SELECT count(DISTINCT system) AS s, count(*) AS n, bool_and(a.split = 'test') AS ok FROM eval_outputs e JOIN articles a ON a.post_id = e.target_post_id"
    assert sh(project, "sag", "sql", per_system, "--format", "csv").split()[1] == f"8,{8 * ev['targets']},true"
    assert (project / "models/sft_vanilla/config.json").exists() and (project / "models/sft_tst/config.json").exists()
    assert "SAG evaluation report" in (project / "reports/report.html").read_text()
    assert sh(project, "dvc", "status").strip() == "Data and pipelines are up to date."
    again = sh(project, "dvc", "repro")
    assert "didn't change, skipping" in again and "Running stage" not in again
    # A threshold experiment re-runs select only: no re-embedding, no retraining.
    sh(project, "git", "add", "-A")
    sh(project, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "baseline")
    exp = sh(project, "dvc", "exp", "run", "-S", "filter.threshold=0.7")
    assert "Running stage 'select'" in exp
    for stage in ("ingest", "curate", "train_filter", "score"):
        assert f"Running stage '{stage}'" not in exp
    assert "Running stage 'neutralize'" in exp  # downstream of select: re-run, but from the cache
    shown = sh(project, "dvc", "exp", "show", "--csv")
    assert "0.7" in shown and "pairs_kept" in shown and "systems.dpo.rougeL" in shown
    neutral = json.loads((project / "metrics/neutralize.json").read_text())
    # every chunk's rewrite (and repair) and every article's one summary answered from the cache
    answers = neutral["chunks"] + neutral["repaired_chunks"] + neutral["neutralized"]
    assert neutral["calls"] == 0 and neutral["cache_hits"] == answers and neutral["neutralized"] == neutral["targets"]
    # Another scorer re-scores the pairs from cached embeddings: the filter is not retrained.
    exp = sh(project, "dvc", "exp", "run", "-S", "filter.scorer=char_ngram")
    assert "Running stage 'score'" in exp and "Running stage 'train_filter'" not in exp
    assert json.loads((project / "metrics/score.json").read_text())["embedding"]["embedded"] == 0
    # A queue of thresholds runs in copies of the project (.dvc/tmp/exps) that share its LLM cache:
    # nothing already asked is sent to the LLM again (the drafts for the same test targets, say).
    sent = len(server.requests)
    # 1.0 keeps no pair: every stage after select still completes and says why.
    for threshold in ("0.3", "1.0"):
        sh(project, "dvc", "exp", "run", "--queue", "-S", f"filter.threshold={threshold}")
    sh(project, "dvc", "queue", "start")
    deadline = time.monotonic() + 600
    while re.search(r"\b(Queued|Running)\b", sh(project, "dvc", "queue", "status")):
        assert time.monotonic() < deadline, sh(project, "dvc", "queue", "status")
        time.sleep(3)
    status = sh(project, "dvc", "queue", "status")
    assert status.count("Success") == 2, status
    rows = list(csv.DictReader(io.StringIO(sh(project, "dvc", "exp", "show", "--csv"))))
    queued = {r.get("filter.threshold"): r for r in rows if r.get("filter.threshold") in ("0.3", "1.0")}
    assert len(queued) == 2 and queued["0.3"]["systems.dpo.rougeL"] not in ("", "-")
    said = [v for k, v in queued["1.0"].items() if k.endswith("not_enough_data") and v not in ("", "-")]
    assert len(said) >= 3, queued["1.0"]  # sft, dpo and evaluate each say why
    asked = {json.dumps(r["messages"]) for r in server.requests[:sent]}
    assert [r for r in server.requests[sent:] if json.dumps(r["messages"]) in asked] == []
