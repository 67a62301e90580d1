"""The GPU check's CPU dry run: every section runs the project's code on tiny models and reports
numbers, so the script is known to work before a GPU machine's minutes are spent on it."""

import json

from benchmarks.gpu_check import main


def test_gpu_check_dry_run_on_cpu(tmp_path):
    out = tmp_path / "gpu_check.json"
    results = main(["--device", "cpu", "--tiny", "--out", str(out)])
    assert json.loads(out.read_text()) == results and results["device"] == "cpu"
    checks = results["checks"]
    assert set(checks) == {"embed", "generate", "sft", "dpo", "filter"}
    assert checks["embed"]["texts_per_s"] > 0 and checks["generate"]["tokens_per_s"] > 0
    assert checks["sft"]["tokens"] > 0 and checks["dpo"]["steps"] == 1 and checks["filter"]["steps_per_s"] > 0
