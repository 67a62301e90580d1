"""Near-duplicate posts: MinHash over word shingles, LSH banding for candidates, exact Jaccard to
confirm. Each group of near-duplicates keeps its earliest post; the others are reported with the
post they duplicate, so a copy never reaches two splits (leakage into the evaluation).

The hashing is compiled (curation/shingle_hashes.py) and reads the text column in place:
datasketch's `MinHash.update` hashes one shingle at a time in Python, far too slow for the paper's
400k+ articles. Across shards (curation/curate_shards.py) only the band keys travel: the buckets,
candidate pairs and the candidates' texts are DuckDB's, which spills them to disk, as in
DataTrove's MinHash stages through files.
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


EMPTY = {"post_id": pl.String, "of_post_id": pl.String, "of_user_id": pl.String, "jaccard": pl.Float64}
_BATCH = 50_000  # candidate pairs whose texts are compared at a time


def near_duplicates(
    frame: pl.DataFrame, threshold: float, shingle: int, text_bytes: TextBytes | None = None
) -> pl.DataFrame:
    """`frame`: post_id, user_id, created_at, text (`text_bytes`: the same texts as bytes, when the
    caller has them). Returns one row per post to drop: post_id, of_post_id (the kept post it
    duplicates), of_user_id, jaccard. The sharded curate makes the bands shard by shard and runs
    `find_near_duplicates` over all of them; this is the same with one shard in memory."""
    import duckdb

    bands = band_rows(frame, shingle, text_bytes)
    texts = frame.select("post_id", "text")  # noqa: F841 (a DuckDB view)
    with duckdb.connect() as con:
        con.register("bands", bands)
        con.register("texts", texts)
        return find_near_duplicates(con, threshold, shingle)


def band_rows(frame: pl.DataFrame, shingle: int, text_bytes: TextBytes | None = None) -> pl.DataFrame:
    """band, key, post_id, user_id, created_at: each text's LSH bucket in every band (the hash of
    its band's MinHash rows). Texts without a shingle (no words) have none and take part in no pair."""
    if text_bytes is None:
        text_bytes = TextBytes.of(frame.get_column("text"))
    b = text_bytes
    counts, signatures = minhash(b.data, b.starts, b.ends, shingle, *_permutations())
    worded = np.flatnonzero(counts > 0)
    keys = np.empty((len(worded), BANDS), dtype=np.uint64)
    for band in range(BANDS):
        key = signatures[worded, band * ROWS].astype(np.uint64)
        for j in range(band * ROWS + 1, (band + 1) * ROWS):
            key = key * np.uint64(0x9E3779B97F4A7C15) ^ signatures[worded, j]
        keys[:, band] = key
    who = frame.select("post_id", "user_id", "created_at")[worded]
    return pl.concat(
        [who.select(band=pl.lit(band, pl.Int8), key=pl.Series(keys[:, band]), *who.columns) for band in range(BANDS)]
    )


def find_near_duplicates(con, threshold: float, shingle: int) -> pl.DataFrame:
    """Over the DuckDB views `bands` (every text's `band_rows`, from every shard) and `texts`
    (post_id, text of at least those texts): candidate pairs from shared buckets, each bucket's
    earliest text paired with every other; exact Jaccard to confirm; each group of confirmed pairs
    keeps its earliest text. DuckDB holds the pairs and the candidates' texts, spilling to disk
    on a connection with a memory limit (curation/spill.py); only confirmed pairs reach memory."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _pairs AS "
        "WITH buckets AS (SELECT band, key, min({'t': created_at, 'p': post_id}).p AS first "
        "  FROM bands GROUP BY band, key HAVING count(*) > 1) "
        "SELECT DISTINCT first, post_id AS other FROM bands JOIN buckets USING (band, key) WHERE post_id <> first"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _texts AS SELECT post_id, text FROM texts SEMI JOIN "
        "(SELECT first AS post_id FROM _pairs UNION SELECT other FROM _pairs) USING (post_id)"
    )
    pairs = _jaccards(con, "_pairs", shingle)
    confirmed = pairs.filter(pl.col("jaccard") >= threshold)
    if confirmed.is_empty():
        return pl.DataFrame(schema=EMPTY)
    # The members of any pair, earliest first: a text's rank is its row.
    con.register("_members", pl.concat([confirmed.get_column("first"), confirmed.get_column("other")]).unique().to_frame("post_id"))
    members = con.sql(
        "SELECT DISTINCT post_id, user_id, created_at FROM bands SEMI JOIN _members USING (post_id) "
        "ORDER BY created_at, post_id"
    ).pl()
    rank = members.select("post_id", _rank=pl.int_range(pl.len(), dtype=pl.Int64))
    as_rank = lambda column: confirmed.select(column).join(rank, left_on=column, right_on="post_id", maintain_order="left").get_column("_rank").to_numpy()  # noqa: E731
    dup, root = _earliest_of_each_group(len(members), as_rank("first"), as_rank("other"))
    ids, users = members.get_column("post_id"), members.get_column("user_id")
    found = pl.DataFrame({"first": ids.gather(root), "other": ids.gather(dup), "of_user_id": users.gather(root)})
    con.register("_found", found)
    # with the post it is reported against (lower than the threshold when only a chain links them)
    scored = _jaccards(con, "_found", shingle)
    return found.join(scored, on=["first", "other"], maintain_order="left").select(
        post_id="other", of_post_id="first", of_user_id="of_user_id", jaccard=pl.col("jaccard").round(3)
    ).cast(EMPTY)


def _jaccards(con, pairs: str, shingle: int) -> pl.DataFrame:
    """first, other, jaccard of every pair of the table `pairs`, its texts from `_texts`, a batch
    of pairs at a time (each with its own copy of both texts)."""
    out = []
    reader = con.sql(
        f"SELECT p.first, p.other, a.text AS a, b.text AS b FROM {pairs} p "
        "JOIN _texts a ON a.post_id = p.first JOIN _texts b ON b.post_id = p.other"
    ).to_arrow_reader(_BATCH)
    for batch in reader:
        batch = pl.from_arrow(batch)
        n = len(batch)
        b = TextBytes.of(pl.concat([batch.get_column("a"), batch.get_column("b")]))
        at = np.arange(n, dtype=np.int64)
        score = pair_jaccard(b.data, b.starts, b.ends, shingle, at, at + n) if n else np.zeros(0)
        out.append(batch.select("first", "other", jaccard=pl.Series(score, dtype=pl.Float64)))
    return pl.concat(out) if out else pl.DataFrame(schema={"first": pl.String, "other": pl.String, "jaccard": pl.Float64})


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """MinHash's (a, b): fixed, so that signatures depend on nothing but the text."""
    rng = np.random.default_rng(_SEED)
    a = rng.integers(0, 1 << 63, size=BANDS * ROWS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    c = rng.integers(0, 1 << 63, size=BANDS * ROWS, dtype=np.uint64)
    return a, c


def _earliest_of_each_group(n: int, first: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
