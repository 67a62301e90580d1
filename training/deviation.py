"""Deviation of each sample from the other samples of the same prompt (DDPO, "Modifying LLM
Post-Training for Diverse Creative Writing"): mean cosine distance to the others, averaged over
embedding spaces (here the trained style filter and the base semantic model), then min-max scaled
within the prompt to [0, 1]. A pair's DPO weight is 1 + deviation(chosen): rare good outputs teach more.
"""

from __future__ import annotations

import numpy as np


def mean_distance(vectors: np.ndarray) -> np.ndarray:
    """Per row: mean cosine distance to the other rows (0 for a lone row)."""
    n = len(vectors)
    if n < 2:
        return np.zeros(n)
    unit = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    distance = 1.0 - unit @ unit.T
    return (distance.sum(axis=1) - np.diag(distance)) / (n - 1)


def deviations(groups: np.ndarray, *spaces: np.ndarray) -> np.ndarray:
    """`groups[i]` is row i's prompt; each space is an (n, d) embedding of the same rows."""
    out = np.zeros(len(groups))
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        raw = np.mean([mean_distance(space[rows]) for space in spaces], axis=0)
        span = raw.max() - raw.min()
        out[rows] = (raw - raw.min()) / span if span > 1e-9 else 0.0
    return out
