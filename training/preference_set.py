"""The `build_dpo` job: sample the S-SFT model on align-split prompts, have the LLM correct and judge
the samples, and turn them into DDPO-weighted preference pairs (the pair rules live in dpo_data)."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl

from common.generate import Generator, SamplingParams
from common.device import batch_size
from style.embeddings import encode, load_model
from llm.roles import correct, judge
from llm.session import LLMSession
from training import dpo_data
from training.dpo_data import DPODataParams


def _reviews(prompts: list[dict], candidates: list[list[str]], verdicts: dict) -> list[dict]:
    """Each prompt's best and worst judged sample, for the reflection pass (none when they tie)."""
    reviews = []
    for p, samples in zip(prompts, candidates, strict=True):
        target = p["target_post_id"]
        scored = sorted((verdicts[(target, k)]["total"], k) for k in range(len(samples)) if (target, k) in verdicts)
        if len(scored) >= 2 and scored[0][0] != scored[-1][0]:
            best, worst = ({"candidate": samples[k], **verdicts[(target, k)]} for k in (scored[-1][1], scored[0][1]))
            reviews.append(p | {"id": target, "key": target, "best": best, "worst": worst})
    return reviews


def build_preference_set(
    prompts: list[dict],
    sft_model: Path,
    style_embedder: Path,
    semantic_embedder: Path,
    params: DPODataParams,
    session: LLMSession,
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """(dpo pairs, judgements, metrics) for the align prompts of `dpo_data.align_prompts`."""
    sampling = SamplingParams(
        params.samples, params.max_new_tokens, params.temperature, params.top_p, batch_size("generate"), params.seed
    )
    start = time.perf_counter()
    candidates = Generator(sft_model)([p["prompt"] for p in prompts], sampling, desc="build_dpo: sample")
    generate_seconds = time.perf_counter() - start

    items = [
        p | {"id": f"{p['target_post_id']}#{k}", "key": (p["target_post_id"], k), "generated": s, "candidate": s}
        for p, samples in zip(prompts, candidates, strict=True)
        for k, s in enumerate(samples)
    ]
    corrections = session.outputs(correct.ROLE, items)
    verdicts, reflections, pairs = {}, {}, dpo_data.cdpo_pairs(prompts, candidates, corrections)
    if params.judge:
        verdicts = session.outputs(judge.JUDGE, items)
        if params.reflect:
            reflections = session.outputs(judge.REFLECT, _reviews(prompts, candidates, verdicts))
        pairs += dpo_data.judge_pairs(prompts, candidates, verdicts, reflections)

    style, semantic = load_model(style_embedder, "fp32"), load_model(semantic_embedder, "fp32")

    def embed(texts: list[str]) -> list:  # DDPO's two spaces: the trained style filter and the base model
        return [encode(style, texts), encode(semantic, texts)]

    deviation = dpo_data.pair_deviations(pairs, prompts, candidates, embed)
    frame = dpo_data.with_weights(pairs, deviation) if pairs else pl.DataFrame()
    metrics = {
        "prompts": len(prompts),
        "samples": sum(map(len, candidates)),
        "generate_seconds": round(generate_seconds, 1),
        "overturned": sum(r["overturn"] for r in reflections.values()),
    }
    for source in ("cdpo", "judge"):
        part = frame.filter(pl.col("source") == source) if len(frame) else frame
        metrics[source] = {"pairs": len(part)}
        if len(part):  # the paper's warning: DPO can learn "shorter is better" if chosen is shorter
            metrics[source] |= {
                "length_ratio": round(part["chosen_words"].sum() / max(part["rejected_words"].sum(), 1), 3),
                "chosen_shorter_share": round((part["chosen_words"] < part["rejected_words"]).mean(), 3),
                "mean_weight": round(part["weight"].mean(), 3),
            }
    return frame, dpo_data.judgements_frame(prompts, candidates, verdicts, reflections), metrics
