"""Near-duplicate posts: MinHash over word shingles, LSH banding for candidates, exact Jaccard to
confirm. Each group of near-duplicates keeps its earliest post; the others are reported with the
post they duplicate, so a copy never reaches two splits (leakage into the evaluation).

The hashing is compiled (curation/shingle_hashes.py) and reads the text column in place:
datasketch's `MinHash.update` hashes one shingle at a time in Python, far too slow for the paper's
400k+ articles. Across shards (curation/near_duplicate_shards.py) only the band keys travel: the
buckets and candidate pairs are DuckDB's, which spills them to disk, and the candidates' texts
go through files, as in DataTrove's MinHash stages.
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

from curation.shingle_hashes import minhash
from curation.text_bytes import TextBytes

BANDS, ROWS = 8, 4
_SEED = 20021


EMPTY = {"post_id": pl.String, "of_post_id": pl.String, "of_user_id": pl.String, "jaccard": pl.Float64}


def band_rows(text_bytes: TextBytes, shingle: int, refs: np.ndarray) -> pl.DataFrame:
    """band, key, ref: each text's LSH bucket in every band (the hash of its band's MinHash rows),
    the text named by `refs` (one int64 each: curation/near_duplicate_shards.py's shard and row).
    Texts without a shingle (no words) have none and take part in no pair."""
    b = text_bytes
    counts, signatures = minhash(b.data, b.starts, b.ends, shingle, *_permutations())
    worded = np.flatnonzero(counts > 0)
    refs = pl.Series("ref", refs[worded], dtype=pl.Int64)
    frames = []
    for band in range(BANDS):
        key = signatures[worded, band * ROWS].astype(np.uint64)
        for j in range(band * ROWS + 1, (band + 1) * ROWS):
            key = key * np.uint64(0x9E3779B97F4A7C15) ^ signatures[worded, j]
        band_of = pl.repeat(band, len(worded), dtype=pl.Int8, eager=True)
        frames.append(pl.DataFrame({"band": band_of, "key": key, "ref": refs}))
    return pl.concat(frames)


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """MinHash's (a, b): fixed, so that signatures depend on nothing but the text."""
    rng = np.random.default_rng(_SEED)
    a = rng.integers(0, 1 << 63, size=BANDS * ROWS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    c = rng.integers(0, 1 << 63, size=BANDS * ROWS, dtype=np.uint64)
    return a, c


def earliest_of_each_group(n: int, first: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Connected components of the confirmed pairs of texts numbered in time order: (every text of
    a group but its earliest, the group's earliest text), sorted by text."""
    rank = np.arange(n)
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
