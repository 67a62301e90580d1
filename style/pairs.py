"""Earlier -> later pairs of the same user's articles, and the threshold that selects them.

With articles sorted by (user, position), the reference `k` posts before a target is simply the row
`k` above it, so the upper triangle of every user's pair matrix (bounded to the `max_refs` most
recent earlier posts) is found with `max_refs` shifted comparisons: no per-user loop, no pair list
built in Python. What scores a pair is the stage's choice (the calibrated style scorer in `score`).

in:  articles  user_id, post_id, position, ... (sorted or not)
out: pairs     user_id, ref_post_id, target_post_id, ref_position, target_position, gap, score [+ raw cosines]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from common.errors import InputError

PAIR_SCHEMA = {
    "user_id": pl.String,
    "ref_post_id": pl.String,
    "target_post_id": pl.String,
    "ref_position": pl.Int32,
    "target_position": pl.Int32,
    "gap": pl.Int32,
    "score": pl.Float32,
}


def sort_articles(articles: pl.DataFrame) -> pl.DataFrame:
    return articles.sort("user_id", "position")


def pair_indices(articles: pl.DataFrame, max_refs: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Row numbers (ref, target) of every earlier->later same-user pair within `max_refs` posts (a
    reference posted at the same second as its target is not earlier: dropped and counted).

    `articles` must be sorted by (user_id, position). Returns the pairs in (user, target, ref)
    order and counts, including how many pairs the bound cut."""
    users = articles.get_column("user_id").rle_id().to_numpy()  # integer run ids: fast to compare
    positions = articles.get_column("position").to_numpy()
    n = len(articles)
    targets = []
    for k in range(1, min(max_refs, max(n - 1, 0)) + 1):
        same = users[k:] == users[:-k]  # row i and row i-k belong to the same user
        if not same.any():
            break  # no user has more than k articles
        targets.append((np.flatnonzero(same) + k, k))
    target = np.concatenate([t for t, _ in targets]) if targets else np.zeros(0, np.int64)
    ref = np.concatenate([t - k for t, k in targets]) if targets else np.zeros(0, np.int64)
    order = np.lexsort((ref, target))  # rows are in (user, position) order, so this is (user, target, ref)
    ref, target = ref[order], target[order]
    # Every target at position p has p earlier posts; the bound keeps the max_refs most recent.
    all_pairs = int(positions.astype(np.int64).sum())
    cut = all_pairs - len(ref)
    same_time = 0
    if "created_at" in articles.columns:  # "only previously posted": a reference must be strictly earlier
        created = articles.get_column("created_at").to_physical().to_numpy()
        earlier = created[ref] < created[target]
        same_time = int((~earlier).sum())
        ref, target = ref[earlier], target[earlier]
    counts = {"pairs": len(ref), "pairs_cut_by_max_refs": cut, "pairs_same_time": same_time}
    return ref, target, counts | {"max_refs_per_target": max_refs}


def pairs_table(
    articles: pl.DataFrame, ref: np.ndarray, target: np.ndarray, score: np.ndarray, **extra
) -> pl.DataFrame:
    """The `pairs` table for row-number pairs of `articles`; `extra` adds Float32 columns (raw cosines)."""
    positions = articles.get_column("position").to_numpy()
    post = articles.get_column("post_id")
    frame = pl.DataFrame(
        {
            "user_id": articles.get_column("user_id").gather(target),
            "ref_post_id": post.gather(ref),
            "target_post_id": post.gather(target),
            "ref_position": positions[ref],
            "target_position": positions[target],
            "gap": positions[target] - positions[ref],
            "score": score,
        },
        schema=PAIR_SCHEMA,
    )
    return frame.with_columns(pl.Series(name, values, dtype=pl.Float32) for name, values in extra.items())


def score_pairs(articles: pl.DataFrame, embeddings: np.ndarray, max_refs: int) -> tuple[pl.DataFrame, dict]:
    """All earlier->later same-user pairs within `max_refs`, scored by the cosine of L2-normalised,
    row-aligned `embeddings` (articles sorted by (user_id, position))."""
    ref, target, counts = pair_indices(articles, max_refs)
    return pairs_table(articles, ref, target, np.einsum("ij,ij->i", embeddings[target], embeddings[ref])), counts


def cross_user_pairs(users: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` random pairs of rows by different users: what "not the same author" looks like."""
    if len(np.unique(users)) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(users), size=4 * n)
    b = rng.integers(0, len(users), size=4 * n)
    keep = users[a] != users[b]
    return a[keep][:n], b[keep][:n]


def select_pairs(pairs: pl.DataFrame, threshold: float, refs_per_target: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(kept, dropped): pairs at or above the threshold, the `refs_per_target` best per target;
    every other pair is in `dropped` with its `reason` (below_threshold | not_best_reference)."""
    above = pl.col("score") >= threshold
    # rank among the pairs above the threshold only: a target keeps its best references that qualify
    scored = pairs.with_columns(
        _rank=pl.when(above).then(pl.col("score")).rank("ordinal", descending=True).over("user_id", "target_post_id")
    )
    over_limit = pl.col("_rank") > refs_per_target if refs_per_target > 0 else pl.lit(False)
    reason = (
        pl.when(~above)
        .then(pl.lit("below_threshold"))
        .when(over_limit)
        .then(pl.lit("not_best_reference"))
        .otherwise(pl.lit(None, pl.String))
    )
    scored = scored.with_columns(reason=reason).drop("_rank")
    kept = scored.filter(pl.col("reason").is_null()).drop("reason").sort("user_id", "target_position", "ref_position")
    dropped = scored.filter(pl.col("reason").is_not_null())
    detail = pl.format("score {} < filter.threshold {}", pl.col("score").round(4), pl.lit(threshold))
    dropped = dropped.with_columns(
        detail=pl.when(pl.col("reason") == "below_threshold")
        .then(detail)
        .otherwise(pl.lit(f"the target keeps its {refs_per_target} best reference(s) (filter.refs_per_target)"))
    )
    return kept, dropped


SCORERS = ("embedding", "char_ngram", "fused")


@dataclass(frozen=True)
class ScoreParams:
    scorer: str = "fused"  # which calibrated scorer writes `score` (metrics/filter.json compares them)
    max_refs_per_target: int = 10
    precision: str = "bf16"  # fp32 | bf16 for embedding the articles

    def __post_init__(self):
        if self.scorer not in SCORERS:
            raise InputError(f"filter.scorer={self.scorer!r}; allowed: {', '.join(SCORERS)}")
        if not isinstance(self.max_refs_per_target, int) or self.max_refs_per_target < 1:
            raise InputError(f"filter.max_refs_per_target={self.max_refs_per_target!r}; must be a positive integer")
        if self.precision not in ("fp32", "bf16"):
            raise InputError(f"filter.precision={self.precision!r}; allowed: fp32, bf16")


@dataclass(frozen=True)
class SelectParams:
    threshold: float = 0.5  # a calibrated probability of one author's style (see style/scorer.py)
    refs_per_target: int = 1  # 0 keeps every reference above the threshold

    def __post_init__(self):
        if (
            not isinstance(self.threshold, (int, float))
            or isinstance(self.threshold, bool)
            or not 0 <= self.threshold <= 1
        ):
            raise InputError(f"filter.threshold={self.threshold!r}; a probability in [0, 1]")
        if not isinstance(self.refs_per_target, int) or self.refs_per_target < 0:
            raise InputError(f"filter.refs_per_target={self.refs_per_target!r}; must be >= 0")


def threshold_sweep(pairs: pl.DataFrame, refs_per_target: int, steps: int = 21) -> pl.DataFrame:
    """Kept pairs and targets for thresholds from 0 to 1: the curve behind `filter.threshold`."""
    rows = []
    for threshold in np.linspace(0, 1, steps):
        kept, _ = select_pairs(pairs, float(threshold), refs_per_target)
        rows.append(
            {
                "threshold": round(float(threshold), 3),
                "pairs": len(kept),
                "targets": kept.get_column("target_post_id").n_unique(),
            }
        )
    return pl.DataFrame(rows)
