"""`build_dpo` stage: C-DPO pairs (LLM corrections of S-SFT samples) and judge pairs, DDPO-weighted.

    sag build-dpo outputs/select/selected_pairs.parquet outputs/neutralize/neutral.parquet outputs/curate/articles.parquet models/sft models/style_filter outputs/build_dpo metrics/build_dpo.json

out: dpo.parquet, judgements.parquet, dpo_failures.parquet (LLM answers that never parsed), llm_calls.parquet
Every LLM answer is cached in $SAG_CACHE/llm.sqlite, so a re-run pays only for new samples.
The work itself is training/preference_set.py.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.filter_params import filter_params
from pipeline.outputs import read_table, require_model, write_llm_tables, write_metrics, write_table
from pipeline.params import build, use_compute


def main(
    pairs_path: Path,
    neutral_path: Path,
    articles_path: Path,
    sft_model: Path,
    filter_model: Path,
    out_dir: Path,
    metrics_path: Path,
    params_path: Path,
) -> dict:
    from style.embeddings import resolve_model
    from style.scorer import require_embedder
    from llm.session import LLMSession
    from llm.types import LLMParams
    from training import dpo_data
    from training.dpo_data import DPODataParams
    from training.preference_set import build_preference_set
    from training.sft_data import SFTDataParams

    params = build(DPODataParams, "build_dpo", params_path)
    llm = build(LLMParams, "llm", params_path)
    use_compute(params_path)
    style_embedder = require_embedder(filter_model)
    semantic_embedder = resolve_model(filter_params(params_path).base_model)
    prompts = dpo_data.align_prompts(
        read_table(pairs_path, "select"),
        read_table(neutral_path, "neutralize"),
        read_table(articles_path, "curate"),
        build(SFTDataParams, "build_sft", params_path),
        params,
    )
    with LLMSession(llm, "build_dpo") as session:
        frame, judgements, metrics = build_preference_set(
            prompts, require_model(sft_model, "sft"), style_embedder, semantic_embedder, params, session
        )
        write_table(frame, out_dir / "dpo.parquet")
        write_table(judgements, out_dir / "judgements.parquet")
        write_llm_tables(session, out_dir, "dpo_failures.parquet")
    metrics |= {
        "backend": llm.backend,
        "model": llm.model,
        "llm_roles": llm.writers(("correct", "judge", "reflect")),
        **session.stats,
    }
    write_metrics(metrics, metrics_path)
    return metrics
