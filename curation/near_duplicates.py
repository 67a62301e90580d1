"""Near-duplicate posts: MinHash over word shingles, LSH banding for candidates, exact Jaccard to
confirm. Each group of near-duplicates keeps its earliest post; the others are reported with the
post they duplicate, so a copy never reaches two splits (leakage into the evaluation).

The hashing is compiled (curation/shingle_hashes.py) and reads the text column in place:
datasketch's `MinHash.update` hashes one shingle at a time in Python, far too slow for the paper's
400k+ articles (benchmarks/curation.py).
Banding: 8 bands of 4 hashes flag a pair with Jaccard 0.8 with probability 0.985, 0.7 with 0.89,
0.5 with 0.40. Every flagged pair is then checked exactly, so the threshold is exact and only
recall is approximate. Within a band bucket each post is compared with the bucket's earliest post
(linear in the bucket); two later posts of one bucket are found only through another band, which
misses ~4% of what all-pairs buckets find on the overlapping synthetic texts of
benchmarks/near_duplicates.py.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from curation.shingle_hashes import minhash, pair_jaccard
from curation.text_bytes import TextBytes

BANDS, ROWS = 8, 4
_SEED = 20021


def near_duplicates(
    frame: pl.DataFrame, threshold: float, shingle: int, text_bytes: TextBytes | None = None
) -> pl.DataFrame:
    """`frame`: post_id, user_id, created_at, text (`text_bytes`: the same texts as bytes, when the
    caller has them). Returns one row per post to drop: post_id, of_post_id (the kept post it
    duplicates), of_user_id, jaccard."""
    empty = pl.DataFrame(
        schema={"post_id": pl.String, "of_post_id": pl.String, "of_user_id": pl.String, "jaccard": pl.Float64}
    )
    if len(frame) < 2:
        return empty
    # Rows stay where they are (sorting would copy the text); `rank` is each post's place in time.
    rank = np.argsort(frame.select(pl.arg_sort_by("created_at", "post_id")).to_series().to_numpy())
    if text_bytes is None:
        text_bytes = TextBytes.of(frame.get_column("text"))
    counts, signatures = minhash(text_bytes.data, text_bytes.starts, text_bytes.ends, shingle, *_permutations())
    first, other = _candidates(signatures, counts > 0, rank)
    if not len(first):  # every bucket of every band holds one text: nothing to compare
        return empty
    hit = _jaccard(text_bytes, shingle, first, other) >= threshold
    dup, root = _earliest_of_each_group(rank, first[hit], other[hit])
    ids, users = frame.get_column("post_id"), frame.get_column("user_id")
    return pl.DataFrame(
        {
            "post_id": ids.gather(dup),
            "of_post_id": ids.gather(root),
            "of_user_id": users.gather(root),
            # with the post it is reported against (lower than the threshold when only a chain links them)
            "jaccard": _jaccard(text_bytes, shingle, root, dup).round(3),
        },
        schema=empty.schema,
    )


def _jaccard(text_bytes: TextBytes, shingle: int, first: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Exact shingle Jaccard per pair; pairs go to the kernel grouped by first text, which it then
    hashes once per group. No text's shingles are kept: at a million posts those of every
    candidate text took 0.9 GB (benchmarks/curation.py)."""
    order = np.argsort(first, kind="stable")
    out = np.empty(len(first), dtype=np.float64)
    b = text_bytes
    out[order] = pair_jaccard(b.data, b.starts, b.ends, shingle, first[order], other[order])
    return out


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """MinHash's (a, b): fixed, so that signatures depend on nothing but the text."""
    rng = np.random.default_rng(_SEED)
    a = rng.integers(0, 1 << 63, size=BANDS * ROWS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    c = rng.integers(0, 1 << 63, size=BANDS * ROWS, dtype=np.uint64)
    return a, c


def _candidates(signatures: np.ndarray, has_shingles: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, ...]:
    """(earliest, other) text pairs that share a whole band of their signatures; `rank` orders
    the texts in time, and each bucket's earliest text is paired with every other text in it.
    Texts without a shingle (no words) take part in no pair. One band at a time, in NumPy: a
    table of every band's buckets at once took 0.2 GB more at a million posts."""
    texts = np.flatnonzero(has_shingles)
    in_time = texts[np.argsort(rank[texts])]
    n = np.int64(len(in_time))
    if n < 2:
        return in_time[:0], in_time[:0]
    pairs = []
    for band in range(BANDS):
        key = signatures[:, band * ROWS].astype(np.uint64)
        for j in range(band * ROWS + 1, (band + 1) * ROWS):
            key = key * np.uint64(0x9E3779B97F4A7C15) ^ signatures[:, j]
        key = key[in_time]
        at = np.argsort(key)  # positions in time order, bucket by bucket
        key = key[at]
        starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        first = np.repeat(np.minimum.reduceat(at, starts), np.diff(np.append(starts, len(at))))
        other = first != at
        pairs.append(first[other] * n + at[other])
    pairs = pl.Series(np.concatenate(pairs)).unique().to_numpy()  # hashed: sorting took 0.6 s more
    return in_time[pairs // n], in_time[pairs % n]


def _earliest_of_each_group(rank: np.ndarray, first: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Connected components of the confirmed pairs: (every text of a group but its earliest, the
    group's earliest text), sorted by text."""
    n = len(rank)
    links = coo_matrix((np.ones(len(first), dtype=np.int8), (first, other)), shape=(n, n))
    _, group = connected_components(links, directed=False)
    members = np.unique(np.concatenate([first, other]))
    if not len(members):
        return members, members
    # Members by group, earliest first: the first of each run is the group's root.
    order = members[np.lexsort((rank[members], group[members]))]
    starts = np.concatenate(([True], group[order][1:] != group[order][:-1]))
    root = order[starts][np.cumsum(starts) - 1]
    dup = order != root
    by_text = np.argsort(order[dup])
    return order[dup][by_text], root[dup][by_text]
