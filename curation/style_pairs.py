"""Earlier -> later pairs of the same user's articles, scored by cosine similarity.

With articles sorted by (user, position), the reference `k` posts before a target is simply the row
`k` above it, so scoring the upper triangle of every user's similarity matrix (bounded to the
`max_refs` most recent earlier posts) is `max_refs` row-wise dot products of the embedding matrix
with itself shifted by `k` rows: no per-user loop, no pair list built in Python.

in:  articles  user_id, post_id, position, ... (sorted or not)
out: pairs     user_id, ref_post_id, target_post_id, ref_position, target_position, gap, score
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from curation.errors import InputError

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


def score_pairs(articles: pl.DataFrame, embeddings: np.ndarray, max_refs: int) -> tuple[pl.DataFrame, dict]:
    """All earlier->later same-user pairs within `max_refs` posts of each other, scored.

    `articles` must be sorted by (user_id, position) with `embeddings` row-aligned and L2-normalised.
    Returns the pairs and counts, including how many pairs the bound cut.
    """
    user_col, post_col = articles.get_column("user_id"), articles.get_column("post_id")
    users = user_col.rle_id().to_numpy()  # integer run ids (rows are sorted by user): fast to compare
    positions = articles.get_column("position").to_numpy()
    n = len(articles)
    refs, targets, scores = [], [], []
    for k in range(1, min(max_refs, max(n - 1, 0)) + 1):
        same = users[k:] == users[:-k]  # row i and row i-k belong to the same user
        if not same.any():
            break  # no user has more than k articles
        target = np.flatnonzero(same) + k
        refs.append(target - k)
        targets.append(target)
        if len(target) > (n - k) // 4:  # dense: dot products of two shifted views copy nothing
            scores.append(np.einsum("ij,ij->i", embeddings[k:], embeddings[:-k])[same])
        else:  # sparse (most users have few posts): gather only the rows that pair up
            scores.append(np.einsum("ij,ij->i", embeddings[target], embeddings[target - k]))
    ref = np.concatenate(refs) if refs else np.zeros(0, np.int64)
    target = np.concatenate(targets) if targets else np.zeros(0, np.int64)
    score = np.concatenate(scores) if scores else np.zeros(0, np.float32)
    order = np.lexsort((ref, target))  # rows are in (user, position) order, so this is (user, target, ref)
    ref, target, score = ref[order], target[order], score[order]
    pairs = pl.DataFrame(
        {
            "user_id": user_col.gather(target),
            "ref_post_id": post_col.gather(ref),
            "target_post_id": post_col.gather(target),
            "ref_position": positions[ref],
            "target_position": positions[target],
            "gap": positions[target] - positions[ref],
            "score": score,
        },
        schema=PAIR_SCHEMA,
    )
    # Every target at position p has p earlier posts; the bound keeps the max_refs most recent.
    all_pairs = int(positions.astype(np.int64).sum())
    return pairs, {
        "pairs": len(pairs),
        "pairs_cut_by_max_refs": all_pairs - len(pairs),
        "max_refs_per_target": max_refs,
    }


def cross_user_scores(articles: pl.DataFrame, embeddings: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Scores of `n` random pairs of articles by different users: what "not the same author" looks like."""
    users = articles.get_column("user_id").to_numpy()
    if len(np.unique(users)) < 2:
        return np.zeros(0, np.float32)
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(users), size=4 * n)
    b = rng.integers(0, len(users), size=4 * n)
    keep = users[a] != users[b]
    a, b = a[keep][:n], b[keep][:n]
    return np.einsum("ij,ij->i", embeddings[a], embeddings[b])


def select_pairs(pairs: pl.DataFrame, threshold: float, refs_per_target: int) -> pl.DataFrame:
    """Pairs at or above the threshold; for each target the `refs_per_target` best-scoring references."""
    kept = pairs.filter(pl.col("score") >= threshold)
    if refs_per_target > 0:
        rank = pl.col("score").rank("ordinal", descending=True).over("user_id", "target_post_id")
        kept = kept.filter(rank <= refs_per_target)
    return kept.sort("user_id", "target_position", "ref_position")


@dataclass(frozen=True)
class ScoreParams:
    max_refs_per_target: int = 10
    precision: str = "bf16"  # fp32 | bf16 for embedding the articles

    def __post_init__(self):
        if not isinstance(self.max_refs_per_target, int) or self.max_refs_per_target < 1:
            raise InputError(f"filter.max_refs_per_target={self.max_refs_per_target!r}; must be a positive integer")
        if self.precision not in ("fp32", "bf16"):
            raise InputError(f"filter.precision={self.precision!r}; allowed: fp32, bf16")


@dataclass(frozen=True)
class SelectParams:
    threshold: float = 0.3
    refs_per_target: int = 1  # 0 keeps every reference above the threshold

    def __post_init__(self):
        if not isinstance(self.threshold, (int, float)) or not -1 <= self.threshold <= 1:
            raise InputError(f"filter.threshold={self.threshold!r}; a cosine similarity in [-1, 1]")
        if not isinstance(self.refs_per_target, int) or self.refs_per_target < 0:
            raise InputError(f"filter.refs_per_target={self.refs_per_target!r}; must be >= 0")


def threshold_sweep(pairs: pl.DataFrame, refs_per_target: int, steps: int = 41) -> pl.DataFrame:
    """Kept pairs and targets for thresholds from -1 to 1: the curve behind `filter.threshold`."""
    rows = []
    for threshold in np.linspace(-1, 1, steps):
        kept = select_pairs(pairs, float(threshold), refs_per_target)
        rows.append(
            {
                "threshold": round(float(threshold), 3),
                "pairs": len(kept),
                "targets": kept.get_column("target_post_id").n_unique(),
            }
        )
    return pl.DataFrame(rows)
