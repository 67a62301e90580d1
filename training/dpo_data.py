"""Preference pairs for C-DPO, the principle-guided judge, and DDPO weights (SAG step 5 + related work).

For align-split targets (users never in SFT or test), the S-SFT model samples K articles per
prompt. Then:
  cdpo   chosen = the LLM's correction of a sample, rejected = the sample (one pair per sample);
  judge  chosen = the best sample under the judge, rejected = the worst (after an optional
         reflection that may swap them, with its reason); no pair when they tie.
Each pair's weight is 1 + deviation(chosen) among the prompt's chosen texts (training/deviation.py).

out: dpo         prompt, chosen, rejected (TRL conversational), source, weight, deviation, user_id,
                 target_post_id, ref_post_id, sample, chosen_words, rejected_words, notes
     judgements  target_post_id, sample, candidate, total, scores, reasons (JSON), reflection
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import polars as pl

from common.errors import InputError
from training.sft_data import SFTDataParams, render_prompt


@dataclass(frozen=True)
class DPODataParams:
    max_prompts: int = 12  # align-split targets to sample for; 0 = all
    samples: int = 3  # K candidates per prompt (DDPO needs >= 3 for deviations to differ)
    max_new_tokens: int = 160
    temperature: float = 0.8
    top_p: float = 0.95
    judge: bool = True  # also build best-vs-worst pairs with the principle-guided judge
    reflect: bool = True  # a reflection pass may overturn the judge's verdict, with a reason
    seed: int = 13

    def __post_init__(self):
        if not isinstance(self.max_prompts, int) or self.max_prompts < 0:
            raise InputError(f"build_dpo.max_prompts={self.max_prompts!r}; must be >= 0 (0 = all)")
        if not isinstance(self.samples, int) or self.samples < 2:
            raise InputError(f"build_dpo.samples={self.samples!r}; must be an integer >= 2")


def align_prompts(
    pairs: pl.DataFrame, neutral: pl.DataFrame, articles: pl.DataFrame, sft: SFTDataParams, params: DPODataParams
) -> list[dict]:
    """The S-SFT (`sag`) prompt of each align-split target, a seeded sample of `max_prompts` of them."""
    text = articles.select("post_id", "text", "split")
    rows = (
        pairs.select("user_id", "ref_post_id", "target_post_id")
        .join(text.rename({"post_id": "target_post_id", "text": "article"}), on="target_post_id")
        .filter(pl.col("split") == "align")
        .join(text.select(ref_post_id="post_id", reference="text"), on="ref_post_id")
        .join(neutral.select("summary", "neutral", target_post_id="post_id"), on="target_post_id")
        .sort("target_post_id", "ref_post_id")
        .unique("target_post_id", keep="first", maintain_order=True)
    )
    if params.max_prompts and len(rows) > params.max_prompts:
        rows = rows.sample(params.max_prompts, seed=params.seed).sort("target_post_id")
    out = []
    for row in rows.iter_rows(named=True):
        prompt, _, _ = render_prompt(row, "sag", sft)
        out.append(row | {"prompt": [{"role": "user", "content": prompt}]})
    return out


def _message(text: str) -> list[dict]:
    return [{"role": "assistant", "content": text}]


def _pair(prompt: dict, source: str, sample: int, chosen: str, rejected: str, notes: str) -> dict:
    return {
        "prompt": prompt["prompt"],
        "chosen": _message(chosen),
        "rejected": _message(rejected),
        "source": source,
        "user_id": prompt["user_id"],
        "target_post_id": prompt["target_post_id"],
        "ref_post_id": prompt["ref_post_id"],
        "sample": sample,
        "chosen_words": len(chosen.split()),
        "rejected_words": len(rejected.split()),
        "notes": notes,
    }


def cdpo_pairs(prompts: list[dict], candidates: list[list[str]], corrections: dict) -> list[dict]:
    """One pair per corrected sample; `corrections[(target, k)]` is the role's output (or missing if it failed)."""
    pairs = []
    for prompt, samples in zip(prompts, candidates, strict=True):
        for k, sample in enumerate(samples):
            fixed = corrections.get((prompt["target_post_id"], k))
            # A correction that changes nothing but spacing is no preference: skip it.
            if fixed is not None and fixed["corrected"].split() != sample.split():
                pairs.append(_pair(prompt, "cdpo", k, fixed["corrected"], sample, "; ".join(fixed["fixes"])))
    return pairs


def judge_pairs(prompts: list[dict], candidates: list[list[str]], verdicts: dict, reflections: dict) -> list[dict]:
    """Best vs worst per prompt by the judge's mean score; a reflection's overturn swaps them."""
    pairs = []
    for prompt, samples in zip(prompts, candidates, strict=True):
        scored = [
            (verdicts[(prompt["target_post_id"], k)]["total"], k)
            for k in range(len(samples))
            if (prompt["target_post_id"], k) in verdicts
        ]
        if len(scored) < 2:
            continue
        (top, best), (bottom, worst) = max(scored), min(scored)
        if top == bottom:
            continue
        note = f"judge {top:.2f} vs {bottom:.2f}"
        review = reflections.get(prompt["target_post_id"])
        if review is not None and review["overturn"]:
            best, worst, note = worst, best, f"{note}; overturned on reflection: {review['reason']}"
        pairs.append(_pair(prompt, "judge", best, samples[best], samples[worst], note))
    return pairs


def pair_deviations(pairs: list[dict], prompts: list[dict], candidates: list[list[str]], embed) -> np.ndarray:
    """Deviation of each pair's chosen text among its prompt's alternatives: a judge pair's chosen among
    the K samples, a C-DPO pair's chosen among the prompt's corrected samples. `embed(texts)` returns
    one (n, d) array per embedding space."""
    from training.deviation import deviations

    keys = [
        (p["target_post_id"], k) for p, samples in zip(prompts, candidates, strict=True) for k in range(len(samples))
    ]
    texts = [s for samples in candidates for s in samples]
    sampled = dict(zip(keys, deviations(np.array([t for t, _ in keys]), *embed(texts)), strict=True)) if keys else {}
    cdpo = [i for i, p in enumerate(pairs) if p["source"] == "cdpo"]
    out = np.array([sampled.get((p["target_post_id"], p["sample"]), 0.0) for p in pairs])
    if cdpo:
        chosen = [pairs[i]["chosen"][0]["content"] for i in cdpo]
        out[cdpo] = deviations(np.array([pairs[i]["target_post_id"] for i in cdpo]), *embed(chosen))
    return out


def with_weights(pairs: list[dict], deviation: np.ndarray) -> pl.DataFrame:
    """The `dpo` table: DDPO weight = 1 + deviation(chosen)."""
    return pl.DataFrame(pairs, infer_schema_length=None).with_columns(
        deviation=pl.Series(deviation.round(4)), weight=pl.Series((1 + deviation).round(4))
    )


def judgements_frame(prompts: list[dict], candidates: list[list[str]], verdicts: dict, reflections: dict):
    rows = []
    for prompt, samples in zip(prompts, candidates, strict=True):
        review = reflections.get(prompt["target_post_id"])
        for k, sample in enumerate(samples):
            verdict = verdicts.get((prompt["target_post_id"], k))
            rows.append(
                {
                    "target_post_id": prompt["target_post_id"],
                    "sample": k,
                    "candidate": sample,
                    "total": verdict["total"] if verdict else None,
                    "scores": json.dumps(verdict["scores"]) if verdict else None,
                    "reasons": json.dumps(verdict["reasons"]) if verdict else None,
                    "reflection": json.dumps(review) if review else None,
                }
            )
    schema = {
        "target_post_id": pl.String,
        "sample": pl.Int64,
        "candidate": pl.String,
        "total": pl.Float64,
        "scores": pl.String,
        "reasons": pl.String,
        "reflection": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)
