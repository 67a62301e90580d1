"""Near-duplicate posts: MinHash over word shingles, LSH banding for candidates, exact Jaccard to
confirm. Each group of near-duplicates keeps its earliest post; the others are reported with the
post they duplicate, so a copy never reaches two splits (leakage into the evaluation).

Vectorised with NumPy over the shingles of 100k texts at a time (bounded memory): datasketch's
`MinHash.update` hashes one shingle at a time in Python, far too slow for the paper's 400k+
articles (benchmarks/curation.py). Only the texts in a candidate pair are shingled again for the
exact check.
Banding: 6 bands of 4 hashes flag pairs with Jaccard 0.8 with probability 0.96 and pairs at 0.5
with 0.32; candidates whose signatures agree on at least half their hashes are then checked
exactly, so the threshold is exact and only recall is approximate. Within a band bucket each post
is compared with the bucket's earliest post.
"""

from __future__ import annotations

import numpy as np
import polars as pl

BANDS, ROWS = 6, 4
_SEED = 20021  # fixed: signatures must not depend on anything but the text


BATCH_DOCS = 100_000  # texts shingled at once: bounds memory (their words as uint64 arrays)


def near_duplicates(frame: pl.DataFrame, threshold: float, shingle: int) -> pl.DataFrame:
    """`frame`: post_id, user_id, created_at, text. Returns one row per post to drop:
    post_id, of_post_id (the kept post it duplicates), of_user_id, jaccard."""
    empty = pl.DataFrame(
        schema={"post_id": pl.String, "of_post_id": pl.String, "of_user_id": pl.String, "jaccard": pl.Float64}
    )
    if len(frame) < 2:
        return empty
    # Rows stay where they are (sorting would copy the text); `rank` is each post's place in time.
    rank = frame.select(pl.arg_sort_by("created_at", "post_id")).to_series().to_numpy()
    rank = np.argsort(rank)
    texts = frame.get_column("text")
    signatures = np.vstack(
        [_minhash(*_shingles(texts.slice(i, BATCH_DOCS), shingle)) for i in range(0, len(texts), BATCH_DOCS)]
    )
    first, other = _candidates(signatures, rank)
    # Only pairs whose signatures agree on enough hashes are checked exactly: 15 of 24 for the
    # default 0.8 (a pair at Jaccard 0.8 falls below that 4% of the time, one at 0.9 0.02%).
    agree = (signatures[first] == signatures[other]).mean(axis=1) >= threshold - 0.175
    first, other = first[agree], other[agree]
    if not len(first):
        return empty
    involved = np.unique(np.concatenate([first, other]))
    shingles, starts = _shingles(texts.gather(involved), shingle)
    ends = np.append(starts[1:], len(shingles))
    slot = dict(zip(involved.tolist(), range(len(involved)), strict=True))
    sets: dict[int, np.ndarray] = {}

    def shingle_set(d: int) -> np.ndarray:
        if d not in sets:
            i = slot[d]
            sets[d] = np.unique(shingles[starts[i] : ends[i]])
        return sets[d]

    found = []
    for f, o in zip(first.tolist(), other.tolist(), strict=True):
        a, b = shingle_set(f), shingle_set(o)
        shared = len(np.intersect1d(a, b, assume_unique=True))
        jaccard = shared / (len(a) + len(b) - shared) if len(a) + len(b) else 0.0
        if jaccard >= threshold:
            found.append((f, o, jaccard))
    keep = _earliest_of_each_group(rank, found)
    ids, users = frame.get_column("post_id"), frame.get_column("user_id")
    best = {}
    for f, o, jaccard in found:
        for dup in (f, o):
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
    """Hashes of each text's `size`-word shingles (lower-cased, split at spaces), all texts in one
    array in text order, and where each text's run starts. A text shorter than `size` words is one
    shingle (its words mixed); an empty text has none."""
    flat = (
        pl.DataFrame({"t": texts})
        .lazy()
        .with_row_index("doc")
        .select("doc", pl.col("t").str.to_lowercase().str.split(" "))
        .explode("t")
        .filter(pl.col("t") != "")  # runs of spaces; a null text drops out here too
        .select("doc", pl.col("t").hash(seed=_SEED))
        .collect()
    )
    doc = flat.get_column("doc").to_numpy()
    hashed = flat.get_column("t").to_numpy()
    n, k = len(hashed), size - 1
    counts = np.bincount(doc, minlength=len(texts))
    # Window i mixes words i..i+k; it is a shingle when all of them belong to one text.
    combined = hashed.copy()
    for j in range(1, min(size, n)):
        combined *= np.uint64(0x100000001B3)
        combined[: n - j] ^= hashed[j:]
    valid = np.zeros(n, dtype=bool)
    valid[: max(n - k, 0)] = doc[: max(n - k, 0)] == doc[k:]
    first_word = np.concatenate(([0], np.cumsum(counts)[:-1]))
    short = np.flatnonzero((counts > 0) & (counts < size))
    if len(short):  # all of a short text's words, mixed, at its first word's place
        present = np.flatnonzero(counts > 0)
        mixed = np.bitwise_xor.reduceat(hashed, first_word[present])  # each text's run, whole
        at = first_word[short]
        combined[at], valid[at] = mixed[np.searchsorted(present, short)], True
    keep, owner = np.compress(valid, combined), np.compress(valid, doc)
    return keep, np.searchsorted(owner, np.arange(len(texts), dtype=owner.dtype))


def _minhash(shingles: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """(texts, BANDS * ROWS) MinHash: for each of the hash functions a*x + b (32 bits, a odd) of
    the shingle hashes, each text's minimum. 32-bit arithmetic halves the memory traffic, which is
    what this step costs. A text without shingles gets values no text can have, so it never matches."""
    perms = BANDS * ROWS
    rng = np.random.default_rng(_SEED)
    a = rng.integers(0, 1 << 31, size=perms, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = rng.integers(0, 1 << 32, size=perms, dtype=np.uint32)
    out = np.empty((len(starts), perms), dtype=np.uint64)
    has = np.append(starts[1:], len(shingles)) > starts
    if len(shingles):
        x = (shingles >> np.uint64(32)).astype(np.uint32) ^ shingles.astype(np.uint32)
        work = np.empty_like(x)
        at = np.minimum(starts, len(x) - 1)
        for j in range(perms):
            np.multiply(x, a[j], out=work)
            work += b[j]
            out[:, j] = np.minimum.reduceat(work, at)
    out[~has] = (np.arange(len(starts), dtype=np.uint64)[~has, None] << np.uint64(8)) + np.uint64(1 << 40)
    return out


def _candidates(signatures: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(earliest, other) text pairs that share a whole band of their signatures; `rank` orders
    the texts in time, and each bucket's earliest text is paired with every other text in it."""
    n = len(signatures)
    firsts, others = [], []
    for band in range(BANDS):
        block = signatures[:, band * ROWS : (band + 1) * ROWS]
        key = block[:, 0].copy()
        for j in range(1, ROWS):
            key *= np.uint64(0x9E3779B97F4A7C15)
            key ^= block[:, j]
        order = np.lexsort((rank, key))
        sorted_key = key[order]
        new_group = np.concatenate(([True], sorted_key[1:] != sorted_key[:-1]))
        group_first = order[np.flatnonzero(new_group)][np.cumsum(new_group) - 1]
        member = ~new_group
        firsts.append(group_first[member])
        others.append(order[member])
    pairs = np.unique(np.concatenate(firsts).astype(np.int64) * n + np.concatenate(others))
    return pairs // n, pairs % n


def _earliest_of_each_group(rank: np.ndarray, found: list[tuple[int, int, float]]) -> dict[int, int]:
    """Union-find over confirmed pairs: each text in a pair maps to the earliest text of its group."""
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        parent.setdefault(i, i)
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b, _ in found:
        ra, rb = root(a), root(b)
        if ra != rb:
            early, late = (ra, rb) if rank[ra] < rank[rb] else (rb, ra)
            parent[late] = early
    return {i: root(i) for i in list(parent)}
