"""The systems the evaluation compares, and the test-split targets they write for.

Every system gets the same instruction: the summary the inverse generation wrote for the author's
real article (the NoteBench setting: an instruction derived from a real note). The neutral content a
small model sees is the LLM's *draft* from that instruction (inference as in the paper), never the
inverse-generated neutral text, which would hand the article to the model.

  llm           the LLM alone: instruction + reference (the WRITE role)
  base          the base small model, prompted like S-SFT (instruction + draft + reference)
  sft, dpo      S-SFT, and S-SFT + (deviation-weighted) C-DPO
  sft_noref     S-SFT without the reference (Tab. 7)
  sft_shuffled  S-SFT with a reference by another user (Tab. 7)
  vanilla, tst  small models trained on S+R and N+R (Tab. 5/6), prompted the same way
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from common.errors import InputError, NotEnoughData
from training.sft_data import SFTDataParams, render_prompt

# system -> (model key in the stage's model folders, prompt variant, which reference)
SMALL = {
    "base": ("base", "sag", "own"),
    "sft": ("sft", "sag", "own"),
    "dpo": ("dpo", "sag", "own"),
    "sft_noref": ("sft", "noref", None),
    "sft_shuffled": ("sft", "sag", "shuffled"),
    "vanilla": ("sft_vanilla", "vanilla", "own"),
    "tst": ("sft_tst", "tst", "own"),
}
SYSTEMS = ("llm", *SMALL)


@dataclass(frozen=True)
class EvalParams:
    systems: list = field(default_factory=lambda: list(SYSTEMS))
    baseline: str = "sft"  # differences (with paired bootstrap intervals) are taken against this system
    max_targets: int = 0  # test-split targets to evaluate: 0 = all, else a seeded sample
    max_new_tokens: int = 128
    judge: bool = True  # the hallucination judge (LLM layer); the deterministic check always runs
    bootstrap: int = 2000  # resamples for the paired bootstrap
    seed: int = 13

    def __post_init__(self):
        unknown = [s for s in self.systems if s not in SYSTEMS]
        if unknown or not self.systems:
            raise InputError(f"evaluate.systems={self.systems!r}; allowed: {', '.join(SYSTEMS)}")
        if self.baseline not in self.systems:
            raise InputError(f"evaluate.baseline={self.baseline!r} must be one of evaluate.systems")
        for name in ("max_targets", "max_new_tokens", "bootstrap"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (0 if name == "max_targets" else 1):
                raise InputError(
                    f"evaluate.{name}={value!r}; must be a {'non-negative' if name == 'max_targets' else 'positive'} integer"
                )


def evaluation_targets(
    pairs: pl.DataFrame, neutral: pl.DataFrame, articles: pl.DataFrame, params: EvalParams
) -> pl.DataFrame:
    """One row per test-split target: its best-scoring selected reference, the instruction (summary),
    the real article, and a reference by another user for the shuffled ablation. Also the count of
    test targets before sampling, so a subset is never passed off as the whole."""
    text = articles.select("post_id", "text", "split")
    rows = (
        pairs.select("user_id", "ref_post_id", "target_post_id", "score")
        .join(text.select(target_post_id="post_id", article="text", split="split"), on="target_post_id")
        .filter(pl.col("split") == "test")
        .join(text.select(ref_post_id="post_id", reference="text"), on="ref_post_id")
        .join(neutral.select(target_post_id="post_id", instruction="summary"), on="target_post_id")
        .sort(["target_post_id", "score", "ref_post_id"], descending=[False, True, False])
        .unique("target_post_id", keep="first", maintain_order=True)
        .drop("split", "score")
    )
    total = len(rows)
    if params.max_targets and total > params.max_targets:
        rows = rows.sample(params.max_targets, seed=params.seed).sort("target_post_id")
    if rows["user_id"].n_unique() < 2:
        raise NotEnoughData(
            f"{rows['user_id'].n_unique()} test-split user(s) with a selected reference and a neutral text;"
            " the evaluation needs 2 (for shuffled references)"
        )
    # Shuffled reference: the next target's reference in a seeded order that belongs to another user.
    order = rows.sample(fraction=1.0, seed=params.seed + 1, shuffle=True)
    users, refs = order["user_id"].to_list(), order["reference"].to_list()
    shuffled = {}
    for i, target in enumerate(order["target_post_id"]):
        j = next(k % len(users) for k in range(i + 1, i + len(users)) if users[k % len(users)] != users[i])
        shuffled[target] = refs[j]
    rows = rows.with_columns(shuffled_reference=pl.col("target_post_id").replace_strict(shuffled))
    return rows.with_columns(pl.lit(total).alias("test_targets"))


def small_prompt(row: dict, system: str, neutral: str, data: SFTDataParams) -> list[dict]:
    """The chat prompt a small-model system gets for one target."""
    _, variant, ref = SMALL[system]
    fields = {
        "summary": row["instruction"],
        "neutral": neutral,
        "reference": row["shuffled_reference" if ref == "shuffled" else "reference"] if ref else "",
    }
    text, _, _ = render_prompt(fields, variant, data)
    return [{"role": "user", "content": text}]
