"""Generated tokens of the local model's inverse generation: one summary per article (this tree)
against a summary in every chunk's answer (the tree before it, 2839738), on the same targets.

    .venv/bin/python benchmarks/summary_tokens.py [--targets 8 --rev 2839738]

Needs `make repro` (outputs/select, outputs/curate) and `make llm-model` (Qwen2.5-Coder-1.5B).
The targets are the ones `make repro-llm` neutralizes (`neutralize.max_targets` per split, the
same seed); each tree runs `faithful_rewrites` as its `neutralize` stage does (chunks of 80 words,
framed lines, one server slot) with an empty answer cache. Printed per tree: calls, generated
tokens per target, verified targets, facts kept by the neutral text and by the summary; the last
line is the ratio of generated tokens. About 20 minutes on 2 cores: do not time it beside another job.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.curation import baseline_tree  # noqa: E402

# Run inside a tree (its own code on sys.path): rewrite the targets, print the figures as JSON.
CHILD = """
import json, sys
import polars as pl
from llm.faithful_rewrite import faithful_rewrites
from llm.inverse_generation import NeutralizeParams, choose_targets, fact_scores
from llm.session import LLMSession
from llm.types import LLMParams

from pathlib import Path
root, cache, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
targets = pl.read_parquet(f"{root}/outputs/select/selected_pairs.parquet")["target_post_id"].unique()
articles = pl.read_parquet(f"{root}/outputs/curate/articles.parquet")
chosen = choose_targets(articles.filter(pl.col("post_id").is_in(targets.implode())), NeutralizeParams(max_targets=n))
items = [{"id": r["post_id"], "key": r["post_id"], "text": r["text"], "title": r["title"]} for r in chosen.iter_rows(named=True)]
params = LLMParams(roles={"neutralize": {"backend": "llamacpp"}, "draft": {}}, concurrency=1)
with LLMSession(params, "benchmark", cache) as session:
    rows, failures = faithful_rewrites(session, items, 80, True, frame=True)
    stats = session.stats
text = {i["id"]: (i["text"], i["title"]) for i in items}
scores = [fact_scores(text[k][0], r["summary"], r["neutral"], text[k][1]) for k, r in rows.items()]
kept = [s[0] for s in scores if s[0] is not None]
summary = [s[1] for (s, r) in zip(scores, rows.values()) if s[1] is not None and r["summary"]]
print(json.dumps({
    "targets": len(items), "verified": sum(r["accepted"] for r in rows.values()), "calls": stats["calls"],
    "tokens_out": stats["tokens_out"], "tokens_in": stats["tokens_in"],
    "facts_kept": sum(kept) / len(kept), "summary_facts_kept": sum(summary) / len(summary) if summary else None,
}))
"""


def run(tree: Path, n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(ROOT), str(Path(tmp) / "llm.sqlite"), str(n)],
            cwd=tree,
            env=os.environ | {"PYTHONPATH": str(tree), "SAG_CACHE": str(ROOT / ".cache")},
            capture_output=True,
            text=True,
        )
    if done.returncode:
        sys.exit(f"{tree}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=8, help="per split, as neutralize.max_targets")
    parser.add_argument("--rev", default="2839738", help="the tree with a summary in every chunk's answer")
    args = parser.parse_args()
    results = {}
    for name, tree in (("summary per chunk", baseline_tree(args.rev)), ("one summary per article", ROOT)):
        r = results[name] = run(tree, args.targets)
        print(
            f"{name:24} {r['targets']} targets, {r['calls']} calls, {r['tokens_out'] / r['targets']:.0f} generated "
            f"tokens a target, {r['verified']} verified, facts kept {r['facts_kept']:.3f} "
            f"(summary {r['summary_facts_kept'] or 0:.3f})",
            flush=True,
        )
    old, new = results.values()
    print(f"generated tokens, one summary per article vs per chunk: {new['tokens_out'] / old['tokens_out']:.2f}x")


if __name__ == "__main__":
    main()
