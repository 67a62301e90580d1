"""Three neutral rewrites beside their articles for the report, with the facts each kept or lost:
verified rewrites from `neutral.parquet` and, when there are any, one that failed verification
(from `neutral_failures.parquet`, whose detail lists what it left out or made up)."""

from __future__ import annotations

import json
from pathlib import Path

EXAMPLES = 3


def neutral_examples(neutral_dir: Path, articles_path: Path, n: int = EXAMPLES) -> list[dict]:
    """[{post_id, article, neutral, backend, kept, lost, invented, accepted}], failures last."""
    import polars as pl

    from llm.fact_inventory import inventory, missing

    neutral = pl.read_parquet(Path(neutral_dir) / "neutral.parquet")
    failures_path = Path(neutral_dir) / "neutral_failures.parquet"
    failures = pl.read_parquet(failures_path) if failures_path.exists() else pl.DataFrame()
    if len(failures):  # only rewrites that failed verification hold a neutral text worth showing
        failures = failures.filter(pl.col("reason").is_in(["facts_missing", "facts_invented", "cut_off"]))
    text = dict(pl.read_parquet(articles_path, columns=["post_id", "text"]).iter_rows())
    shown = [
        {"post_id": r["post_id"], "neutral": r["neutral"], "backend": f"{r['backend']}: {r['model']}", "accepted": True}
        for r in neutral.head(n - min(1, len(failures))).iter_rows(named=True)
    ]
    for r in failures.head(n - len(shown)).iter_rows(named=True):
        invented = sorted({f for chunk in json.loads(r["detail"]) for f in chunk.get("invented", [])})
        shown.append({"post_id": r["input_id"], "neutral": r["response"], "accepted": False, "invented": invented})
    out = []
    for ex in shown:
        article = text.get(ex["post_id"], "")
        facts = inventory(article)
        lost = {f.text for f in missing(facts, ex["neutral"] or "")}
        out.append(
            {
                "invented": [],
                "backend": "",
                **ex,
                "article": article,
                "kept": [f.text for f in facts if f.text not in lost],
                "lost": [f.text for f in facts if f.text in lost],
            }
        )
    return out
