"""Paired bootstrap confidence intervals for the difference between two systems on the same examples.

Resampling the examples (not each system separately) keeps the pairing: an example that is hard
for both systems moves both scores together, so the interval is about the difference itself.
"""

from __future__ import annotations

import numpy as np


def paired_difference(a, b, resamples: int, seed: int) -> dict:
    """`paired_bootstrap` with its figures rounded to 4 decimals, as metrics files store them."""
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in paired_bootstrap(a, b, resamples, seed).items()}


def paired_bootstrap(a, b, resamples: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """mean(b) - mean(a) over paired per-example scores, with a percentile interval.

    `significant` is true when the interval excludes 0."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise ValueError(f"paired scores must be two equal, non-empty 1-d arrays, got {a.shape} and {b.shape}")
    rows = np.random.default_rng(seed).integers(0, len(a), size=(resamples, len(a)))
    diffs = (b - a)[rows].mean(axis=1)
    low, high = np.percentile(diffs, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return {
        "diff": float(b.mean() - a.mean()),
        "low": float(low),
        "high": float(high),
        "significant": bool(low > 0 or high < 0),
        "n": len(a),
    }
