"""Scoring every within-user earlier -> later pair at the SAG paper's scale, from cached embeddings.

    .venv/bin/python benchmarks/pair_scoring.py [--posts N --users N --max-refs K]

943,685 posts from 429,791 users (Zipf-distributed activity, as in benchmarks/curation.py), random
unit 384-d embeddings (what MiniLM gives). Three ways, same pairs, same scores:

  project    style.pairs.score_pairs: the pairs found by one shifted comparison of the
             user column per offset k = 1..K, then one gathered row-wise dot product
  loop       a straightforward Python loop over pairs, one dot product each
Each builds the same pairs table (asserted equal). A third obvious way, each user's full (n x n)
similarity matrix by a matrix product, cannot run here: the most active synthetic user has
130,647 posts, and that one matrix would need 63.6 GiB.

The last line is the project's speed-up over the faster alternative.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

# The repository root first: benchmarks/curation.py would otherwise shadow the curation package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from style.pairs import PAIR_SCHEMA, score_pairs, sort_articles

PAPER_POSTS, PAPER_USERS = 943_685, 429_791


def corpus(n_posts: int, n_users: int, dim: int = 384, seed: int = 0) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    extra = rng.zipf(1.3, size=n_posts - n_users) % n_users
    users = np.concatenate([np.arange(n_users), extra])
    frame = pl.DataFrame({"user_id": users.astype(str), "post_id": np.arange(n_posts).astype(str)})
    frame = frame.with_columns(position=pl.int_range(pl.len()).over("user_id").cast(pl.Int32))
    frame = sort_articles(frame)
    vectors = rng.standard_normal((n_posts, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return frame, vectors


def python_loop(frame: pl.DataFrame, vectors: np.ndarray, max_refs: int) -> pl.DataFrame:
    """A straightforward loop over targets and their earlier posts, one dot product per pair."""
    users = frame.get_column("user_id").to_list()
    post_ids = frame.get_column("post_id").to_list()
    positions = frame.get_column("position").to_list()
    rows = []
    for t in range(len(users)):
        for r in range(max(t - max_refs, 0), t):
            if users[r] == users[t]:
                score = float(vectors[t] @ vectors[r])
                rows.append(
                    (users[t], post_ids[r], post_ids[t], positions[r], positions[t], positions[t] - positions[r], score)
                )
    return pl.DataFrame(rows, schema=PAIR_SCHEMA, orient="row")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=PAPER_POSTS)
    ap.add_argument("--users", type=int, default=PAPER_USERS)
    ap.add_argument("--max-refs", type=int, default=10)
    args = ap.parse_args()
    frame, vectors = corpus(args.posts, args.users)
    print(
        f"{args.posts:,} posts, {args.users:,} users, max {frame.get_column('position').max() + 1:,} posts for one user"
    )
    times = {}
    start = time.perf_counter()
    pairs, counts = score_pairs(frame, vectors, args.max_refs)
    times["project"] = time.perf_counter() - start
    print(
        f"project   {times['project']:7.2f} s  {len(pairs):,} pairs ({counts['pairs_cut_by_max_refs']:,} cut by max_refs={args.max_refs})"
    )
    for name, fn in (("loop", python_loop),):
        start = time.perf_counter()
        theirs = fn(frame, vectors, args.max_refs)
        times[name] = time.perf_counter() - start
        theirs = theirs.sort("user_id", "target_position", "ref_position")  # outside the timing
        assert theirs.select("ref_post_id", "target_post_id").equals(pairs.select("ref_post_id", "target_post_id"))
        assert np.allclose(theirs.get_column("score").to_numpy(), pairs.get_column("score").to_numpy(), atol=1e-5)
        print(f"{name:<9} {times[name]:7.2f} s  {len(theirs):,} pairs, the same as the project's")
    best = min((k for k in times if k != "project"), key=times.get)
    print(f"speed-up over the faster alternative ({best}): {times[best] / times['project']:.1f}x")


if __name__ == "__main__":
    main()
