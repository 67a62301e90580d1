"""`evaluate` stage: every system writes for the same test-split targets; outputs and metrics.

    sag evaluate outputs/select/selected_pairs.parquet outputs/neutralize/neutral.parquet outputs/curate/articles.parquet outputs/evaluate metrics/evaluate.json \
        --style-filter models/style_filter --model sft=models/sft --model dpo=models/dpo ...

Each small model a system needs is passed by name (`base` defaults to `sft.model`, untrained).
The work itself is eval/run.py.
out: eval_outputs.parquet  one row per (system, target): the inputs it saw, its output, its scores
     eval_failures.parquet LLM answers that never parsed
     llm_calls.parquet     the stage's LLM calls and cache hits
"""

from __future__ import annotations

import time
from pathlib import Path

from pipeline.filter_params import filter_params
from pipeline.outputs import read_table, require_model, write_llm_tables, write_metrics, write_table
from pipeline.params import build, use_compute

PRODUCERS = {"sft": "sft", "dpo": "dpo", "sft_vanilla": "sft_ablation@vanilla", "sft_tst": "sft_ablation@tst"}


def not_enough_data(why: str, out_dir: Path, metrics_path: Path, **context) -> dict:
    """Empty outputs and metrics that say why: a threshold sweep still gets a row for this point."""
    import polars as pl

    from llm.session import FAILURE_COLUMNS, empty_calls_frame

    columns = ("system", "target_post_id", "user_id", "output", "article")
    write_table(pl.DataFrame(schema=dict.fromkeys(columns, pl.String)), out_dir / "eval_outputs.parquet")
    write_table(pl.DataFrame(schema=dict.fromkeys(FAILURE_COLUMNS, pl.String)), out_dir / "eval_failures.parquet")
    write_table(empty_calls_frame(), out_dir / "llm_calls.parquet")
    metrics = {
        "not_enough_data": why,
        "systems": {},
        "comparisons": {},
        "targets": 0,
        "test_targets": 0,
        "authors": 0,
        "seconds": 0.0,
        **context,
    }
    write_metrics(metrics, metrics_path)
    return metrics


def main(
    pairs_path: Path,
    neutral_path: Path,
    articles_path: Path,
    out_dir: Path,
    metrics_path: Path,
    params_path: Path,
    style_filter: Path,
    models: dict[str, Path],
) -> dict:
    import polars as pl

    from common.errors import InputError, NotEnoughData
    from common.models import plain_model_dir
    from eval.run import evaluate, model_keys
    from eval.systems import EvalParams, evaluation_targets
    from llm.inverse_generation import NeutralizeParams
    from llm.roles.collaborate import draft_role
    from llm.session import LLMSession
    from llm.types import LLMParams
    from style.embeddings import resolve_model
    from style.scorer import require_embedder
    from training.sft import SFTParams
    from training.sft_data import SFTDataParams

    start = time.perf_counter()
    params = build(EvalParams, "evaluate", params_path)
    llm = build(LLMParams, "llm", params_path)
    use_compute(params_path)
    data = build(SFTDataParams, "build_sft", params_path)
    small_model = build(SFTParams, "sft", params_path).model
    context = {
        "backend": llm.backend,
        "llm_model": llm.model,
        "llm_roles": llm.writers(("draft", "write", "factcheck")),
        "small_model": small_model,
        "baseline": params.baseline,
        # what the no-model DRAFT writes: the form of the neutral texts the small models trained on
        "neutral_baseline": build(NeutralizeParams, "neutralize", params_path).baseline,
    }
    needed = model_keys(params.systems)
    missing = [k for k in needed if k != "base" and k not in models]
    if missing:
        raise InputError(f"evaluate.systems need the model(s) {', '.join(missing)}: pass --model NAME=FOLDER")
    folders = {k: require_model(models[k], PRODUCERS[k]) for k in needed if k != "base"}
    folders["base"] = models.get("base") or plain_model_dir(small_model, "sft.model")
    style = require_embedder(style_filter)
    semantic = resolve_model(filter_params(params_path).base_model)
    articles = read_table(articles_path, "curate")
    try:
        frame = evaluation_targets(
            read_table(pairs_path, "select"), read_table(neutral_path, "neutralize"), articles, params
        )
    except NotEnoughData as why:
        return not_enough_data(str(why), out_dir, metrics_path, **context)
    targets = frame.to_dicts()
    authors = articles.filter(pl.col("user_id").is_in(sorted({t["user_id"] for t in targets})))
    with LLMSession(llm, "evaluate") as session:
        draft = draft_role(context["neutral_baseline"])
        rows, metrics = evaluate(targets, authors, folders, style, semantic, params, data, session, draft)
        write_table(pl.DataFrame(rows, infer_schema_length=None), out_dir / "eval_outputs.parquet")
        write_llm_tables(session, out_dir, "eval_failures.parquet")
    test_targets = int(frame["test_targets"][0]) if len(frame) else 0
    metrics |= context | {
        "test_targets": test_targets,
        "why_fewer_targets": (
            f"evaluate.max_targets={params.max_targets}: a seeded sample" if len(targets) < test_targets else None
        ),
        "seconds": round(time.perf_counter() - start, 1),
        **session.stats,
    }
    write_metrics(metrics, metrics_path)
    return metrics
