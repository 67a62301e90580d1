"""Near-duplicates across shards, in the way of DataTrove's MinHash stages through files: only
band keys leave the shards, and texts travel only to where a candidate pair is compared.

    candidates   DuckDB over every shard's band rows: each LSH bucket's earliest post paired
                 with every other post in it (spilling to disk past `compute.spill_memory`)
    route        per shard (a task): the texts of its posts that are in a candidate pair, sent to
                 the block of the pair's first post (a stable hash), each text once per block
    compare      per block (a task): exact shingle Jaccard of every pair, each first text hashed
                 once for all its pairs; only pairs at the threshold are written
    groups       confirmed pairs -> groups -> each group keeps its earliest post; the Jaccard of
                 each dropped post with the one it is reported against (routed again where that
                 pair was not a candidate)

Memory: a task holds one shard's or one block's candidate texts; the driver, the confirmed pairs' ids.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl

from common.executor import ExecutorParams, Task, run_tasks
from common.parquet import write_table
from curation.near_duplicates import EMPTY, earliest_of_each_group
from curation.shards import shard_of
from curation.shingle_hashes import pair_jaccard
from curation.spill import spill_connection
from curation.text_bytes import TextBytes

_SCORES = {"first": pl.String, "other": pl.String, "jaccard": pl.Float64}


def near_duplicates(frame: pl.DataFrame, threshold: float, shingle: int) -> pl.DataFrame:
    """`frame`: post_id, user_id, created_at, text, in memory (tests and small inputs): the same
    steps with one shard in a temporary folder."""
    import tempfile

    from curation.near_duplicates import band_rows

    with tempfile.TemporaryDirectory(prefix="sag-near-") as tmp:
        tmp = Path(tmp)
        write_table(frame.select("post_id", "text"), tmp / "stage.parquet")
        write_table(band_rows(frame, shingle), tmp / "bands.parquet")
        stage, bands = [tmp / "stage.parquet"], [tmp / "bands.parquet"]
        return find_near_duplicates(stage, bands, threshold, shingle, tmp / "work", ExecutorParams(workers=1))


def find_near_duplicates(
    stage: list[Path],
    bands: list[Path],
    threshold: float,
    shingle: int,
    work: Path,
    executor: ExecutorParams,
) -> pl.DataFrame:
    """`stage[k]`: shard k's posts (post_id, text); `bands`: every shard's band rows (band, key,
    post_id, user_id, created_at, shard). One row per post to drop: post_id, of_post_id,
    of_user_id, jaccard (with the post it is reported against)."""
    with spill_connection(work / "spill", executor.spill_memory) as con:
        files = "[" + ", ".join(_quoted(p) for p in bands) + "]"
        con.execute(
            f"CREATE TABLE bands AS SELECT band, key, post_id, user_id, created_at, shard FROM read_parquet({files})"
        )
        con.execute(
            "CREATE TABLE pairs AS "
            "WITH buckets AS (SELECT band, key, min({'t': created_at, 'p': post_id, 's': shard}) AS f "
            "  FROM bands GROUP BY band, key HAVING count(*) > 1) "
            "SELECT DISTINCT f.p AS first, f.s AS first_shard, post_id AS other, shard AS other_shard "
            "FROM bands JOIN buckets USING (band, key) WHERE post_id <> f.p"
        )
        # Only the confirmed pairs come back to the driver: candidates outnumber them many times.
        confirmed = _scores(con, "pairs", stage, shingle, work / "candidates", executor, threshold)
        if confirmed.is_empty():
            return pl.DataFrame(schema=EMPTY)
        # The members of any confirmed pair, earliest first: a post's rank is its row.
        con.register(
            "members_",
            pl.concat([confirmed.get_column("first"), confirmed.get_column("other")]).unique().to_frame("post_id"),
        )
        members = con.sql(
            "SELECT DISTINCT post_id, user_id, created_at, shard FROM bands SEMI JOIN members_ USING (post_id) "
            "ORDER BY created_at, post_id"
        ).pl()
        rank = members.select("post_id", _rank=pl.int_range(pl.len(), dtype=pl.Int64))

        def ranks(column: str) -> np.ndarray:
            joined = confirmed.select(column).join(rank, left_on=column, right_on="post_id", maintain_order="left")
            return joined.get_column("_rank").to_numpy()

        dup, root = earliest_of_each_group(len(members), ranks("first"), ranks("other"))
        found = pl.DataFrame(
            {
                "first": members.get_column("post_id").gather(root),
                "other": members.get_column("post_id").gather(dup),
                "of_user_id": members.get_column("user_id").gather(root),
                "first_shard": members.get_column("shard").gather(root),
                "other_shard": members.get_column("shard").gather(dup),
            }
        )
        # A dropped post is reported against its group's earliest: mostly a confirmed pair; the
        # others (joined through a third post, or a candidate below the threshold) are scored again.
        scores = confirmed
        again = found.join(confirmed, on=["first", "other"], how="anti").drop("of_user_id")
        if len(again):
            con.register("again_", again)
            scores = pl.concat([scores, _scores(con, "again_", stage, shingle, work / "reported", executor, 0.0)])
        known = found.join(scores, on=["first", "other"], how="left", maintain_order="left")
    return known.select(
        post_id="other", of_post_id="first", of_user_id="of_user_id", jaccard=pl.col("jaccard").round(3)
    ).cast(EMPTY)


def _scores(
    con, pairs: str, stage: list[Path], shingle: int, folder: Path, executor: ExecutorParams, at_least: float
) -> pl.DataFrame:
    """first, other, jaccard of the pairs in the DuckDB table `pairs` (with first_shard,
    other_shard) whose jaccard is at least `at_least`."""
    shutil.rmtree(folder / "wanted", ignore_errors=True)
    (folder / "wanted").mkdir(parents=True)
    for side, query in (
        ("other", f"SELECT first, other, other_shard AS shard FROM {pairs}"),
        ("first", f"SELECT DISTINCT first, first_shard AS shard FROM {pairs}"),
    ):
        con.execute(f"COPY ({query}) TO {_quoted(folder / 'wanted' / side)} (FORMAT parquet, PARTITION_BY (shard))")
    blocks = len(stage)  # as many blocks as shards: a block's texts are about a shard's candidates'
    run_tasks(
        [Task(f"{k:05d}", _route_task, (k, path, folder, blocks)) for k, path in enumerate(stage)],
        folder / "done" / "route",
        executor,
        "curate: near-duplicates, route",
    )
    run_tasks(
        [Task(f"{b:05d}", _compare_task, (b, folder, shingle, at_least)) for b in range(blocks)],
        folder / "done" / "compare",
        executor,
        "curate: near-duplicates, compare",
    )
    shutil.rmtree(folder / "routed", ignore_errors=True)  # the texts again: every block is compared
    scored = sorted((folder / "scores").glob("*.parquet"))
    return pl.concat([pl.DataFrame(schema=_SCORES), *(pl.read_parquet(p) for p in scored)])


def _route_task(shard: int, stage: Path, folder: Path, blocks: int) -> dict:
    """Shard `shard`'s side of the candidate pairs, to the block of each pair's first post: the
    pairs whose other post is here, and each text here that a block needs, once per block."""
    wanted = {}
    for side in ("other", "first"):
        part = folder / "wanted" / side / f"shard={shard}"
        wanted[side] = pl.read_parquet(part, hive_partitioning=False) if part.exists() else None
    out = folder / "routed" / f"{shard:05d}"
    needed = []  # (first, post_id): this shard's post_id is compared in the block of `first`
    if wanted["other"] is not None:
        _by_block(wanted["other"].select("first", "other"), blocks, out, "pairs")
        needed.append(wanted["other"].select("first", post_id="other"))
    if wanted["first"] is not None:
        needed.append(wanted["first"].select("first", post_id="first"))
    if not needed:
        return {}
    needed = pl.concat(needed)
    needed = needed.select(block=pl.Series(shard_of(needed.get_column("first"), blocks)), post_id="post_id").unique()
    texts = (
        pl.scan_parquet(stage)
        .select("post_id", "text")
        .filter(pl.col("post_id").is_in(needed.get_column("post_id").unique().implode()))
        .collect()
    )
    routed = needed.join(texts, on="post_id")
    for (b,), part in routed.partition_by("block", as_dict=True).items():
        write_table(part.drop("block").sort("post_id"), out / f"texts-{b:05d}.parquet")
    return {}


def _by_block(frame: pl.DataFrame, blocks: int, out: Path, name: str) -> None:
    block = pl.Series(shard_of(frame.get_column("first"), blocks))
    for b in block.unique().sort().to_list():
        write_table(frame.filter(block == b), out / f"{name}-{b:05d}.parquet")


def _compare_task(block: int, folder: Path, shingle: int, at_least: float) -> dict:
    pairs = sorted(folder.glob(f"routed/*/pairs-{block:05d}.parquet"))
    if not pairs:
        return {}
    found = pl.concat([pl.read_parquet(p) for p in pairs])
    texts = pl.concat([pl.read_parquet(p) for p in sorted(folder.glob(f"routed/*/texts-{block:05d}.parquet"))])
    row = texts.select("post_id").with_row_index("_i")

    def index(column: str) -> np.ndarray:
        joined = found.select(column).join(row, left_on=column, right_on="post_id", maintain_order="left")
        return joined.get_column("_i").to_numpy().astype(np.int64)

    first, other = index("first"), index("other")
    b = TextBytes.of(texts.get_column("text"))
    order = np.argsort(first, kind="stable")  # the kernel hashes a first text once per run of it
    score = np.empty(len(first), dtype=np.float64)
    score[order] = pair_jaccard(b.data, b.starts, b.ends, shingle, first[order], other[order])
    scored = found.select("first", "other", jaccard=pl.Series(score, dtype=pl.Float64))
    write_table(scored.filter(pl.col("jaccard") >= at_least), folder / "scores" / f"{block:05d}.parquet")
    return {}


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
