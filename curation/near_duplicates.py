"""Near-duplicate posts: MinHash over word shingles, LSH banding for candidates, exact Jaccard to
confirm. Each group of near-duplicates keeps its earliest post; the others are reported with the
post they duplicate, so a copy never reaches two splits (leakage into the evaluation).

Vectorised with NumPy over all shingles at once: datasketch's `MinHash.update` hashes one shingle
at a time in Python, far too slow for the paper's 400k+ articles (benchmarks/curation.py).
Banding: 6 bands of 4 hashes flag pairs with Jaccard 0.8 with probability 0.96 and pairs at 0.5
with 0.32; every candidate is then checked exactly, so the threshold is exact and only recall is
approximate. Within a band bucket each post is compared with the bucket's earliest post.
"""

from __future__ import annotations

import numpy as np
import polars as pl

BANDS, ROWS = 6, 4
_SEED = 20021  # fixed: signatures must not depend on anything but the text
_M61 = np.uint64((1 << 61) - 1)


def near_duplicates(frame: pl.DataFrame, threshold: float, shingle: int) -> pl.DataFrame:
    """`frame`: post_id, user_id, created_at, text. Returns one row per post to drop:
    post_id, of_post_id (the kept post it duplicates), of_user_id, jaccard."""
    empty = pl.DataFrame(
        schema={"post_id": pl.String, "of_post_id": pl.String, "of_user_id": pl.String, "jaccard": pl.Float64}
    )
    frame = frame.sort("created_at", "post_id")  # earliest first: the first of a group is kept
    if len(frame) < 2:
        return empty
    shingles, starts = _shingles(frame.get_column("text"), shingle)
    lengths = np.diff(np.append(starts, len(shingles)))
    docs = np.flatnonzero(lengths > 0)
    signatures = _minhash(shingles, starts[docs], BANDS * ROWS)
    pairs = _candidates(docs, signatures)
    if not pairs:
        return empty
    found = []
    for first, other in pairs:
        a = shingles[starts[first] : starts[first] + lengths[first]]
        b = shingles[starts[other] : starts[other] + lengths[other]]
        union = len(np.union1d(a, b))
        jaccard = len(np.intersect1d(a, b, assume_unique=True)) / union
        if jaccard >= threshold:
            found.append((first, other, jaccard))
    keep = _earliest_of_each_group(len(frame), found)
    ids, users = frame.get_column("post_id"), frame.get_column("user_id")
    best = {}
    for first, other, jaccard in found:
        for dup in (first, other):
            root = keep[dup]
            if root != dup and dup not in best:
                best[dup] = (root, jaccard)
    rows = sorted(best)
    return pl.DataFrame(
        {
            "post_id": ids.gather(rows),
            "of_post_id": ids.gather([best[r][0] for r in rows]),
            "of_user_id": users.gather([best[r][0] for r in rows]),
            "jaccard": [round(best[r][1], 3) for r in rows],
        },
        schema=empty.schema,
    )


def _shingles(texts: pl.Series, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique hashes of each text's `size`-word shingles (lower-cased word tokens), all in
    one array, and where each text's run starts. A text shorter than `size` words is one shingle."""
    words = pl.DataFrame({"w": texts.str.to_lowercase().str.extract_all(r"\w+")}).with_row_index("doc")
    flat = words.explode("w").drop_nulls("w")
    doc = flat.get_column("doc").to_numpy()
    hashed = flat.get_column("w").hash(seed=_SEED).to_numpy()
    n = len(hashed)
    combined = hashed.copy()
    valid = np.ones(n, dtype=bool)
    for k in range(1, size):  # shingle i combines words i..i+size-1 of the same text
        shifted = np.empty(n, dtype=np.uint64)
        shifted[: n - k], shifted[n - k :] = hashed[k:], 0
        combined = combined * np.uint64(0x100000001B3) ^ shifted
        same = np.zeros(n, dtype=bool)
        same[: n - k] = doc[k:] == doc[: n - k]
        valid &= same
    counts = np.bincount(doc, minlength=len(texts))
    short = np.flatnonzero((counts > 0) & (counts < size))
    first_word = np.searchsorted(doc, short)
    valid[first_word] = True  # a short text keeps one shingle: its first word onward
    frame = pl.DataFrame({"doc": doc[valid], "s": combined[valid]}).unique().sort("doc", "s")
    d = frame.get_column("doc").to_numpy()
    starts = np.searchsorted(d, np.arange(len(texts)))
    return frame.get_column("s").to_numpy(), starts


def _minhash(shingles: np.ndarray, starts: np.ndarray, perms: int) -> np.ndarray:
    """(docs, perms) minimum of a universal hash (a*x + b mod 2^61-1) of each doc's shingles."""
    rng = np.random.default_rng(_SEED)
    a = rng.integers(1, 1 << 61, size=perms, dtype=np.uint64)
    b = rng.integers(0, 1 << 61, size=perms, dtype=np.uint64)
    x = shingles & _M61
    out = np.empty((len(starts), perms), dtype=np.uint64)
    for j in range(perms):  # wrapping arithmetic is fine: it only has to be a fixed mixing
        out[:, j] = np.minimum.reduceat((x * a[j] + b[j]) & _M61, starts)
    return out


def _candidates(docs: np.ndarray, signatures: np.ndarray) -> list[tuple[int, int]]:
    """(earliest, other) doc pairs that share a whole band of their signatures."""
    pairs = set()
    for band in range(BANDS):
        block = signatures[:, band * ROWS : (band + 1) * ROWS]
        keys = pl.DataFrame({"doc": docs, "key": block.tolist()}).with_columns(pl.col("key").hash())
        groups = keys.group_by("key").agg("doc").filter(pl.col("doc").list.len() > 1).get_column("doc")
        for members in groups.to_list():
            first = min(members)
            pairs.update((first, m) for m in members if m != first)
    return sorted(pairs)


def _earliest_of_each_group(n: int, found: list[tuple[int, int, float]]) -> list[int]:
    """Union-find over confirmed pairs; each doc maps to the earliest doc of its group."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b, _ in found:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # docs are in time order: the smaller index is earlier
    return [root(i) for i in range(n)]
