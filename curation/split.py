"""Deterministic user-level split: every article of a user lands in the same split."""

from __future__ import annotations

import hashlib

import polars as pl

SPLITS = ("train", "align", "test")


def assign_splits(users: pl.Series, fractions: dict[str, float], seed: int) -> pl.DataFrame:
    """user_id -> split. Users are ranked by a seeded hash and cut by the fractions, so the sizes
    are exact and a user's split depends only on the seed and the set of users, not on row order.
    Every split with a positive fraction gets at least one user when there are enough users."""
    users = users.unique().sort()
    key = f"split-{seed}".encode()
    ranks = [hashlib.blake2b(u.encode(), key=key, digest_size=8).hexdigest() for u in users]
    ordered = pl.DataFrame({"user_id": users, "_rank": ranks}).sort("_rank").get_column("user_id")
    n = len(ordered)
    wanted = [s for s in SPLITS if fractions.get(s, 0) > 0]
    sizes = {s: int(round(fractions.get(s, 0) * n)) for s in SPLITS}
    if n >= len(wanted):
        for s in wanted:
            sizes[s] = max(sizes[s], 1)
    # the first split takes whatever rounding leaves over
    first = wanted[0] if wanted else "train"
    sizes[first] = n - sum(sizes[s] for s in SPLITS if s != first)
    labels = [s for s in SPLITS for _ in range(max(sizes[s], 0))][:n]
    return pl.DataFrame({"user_id": ordered, "split": labels}, schema={"user_id": pl.String, "split": pl.String})
