"""Near-duplicates across shards, in the way of DataTrove's MinHash stages through files: only
band keys leave the shards, and texts travel only to where a candidate pair is compared.

A post is named by a `ref`, one int64: shard * 2^32 + its row in the shard's stage file (`refs`). The buckets and pairs are numbers, not ids: DuckDB groups and
joins them several times faster than strings; the ids come back only for the confirmed pairs.

    candidates   DuckDB over every shard's band rows (band, key, ref) and posts (ref, post_id,
                 user_id, created_at): each LSH bucket's earliest post paired with every other
                 post in it (spilling to disk past `compute.spill_memory`)
    route        per shard (a task): the texts of its posts that are in a candidate pair, sent to
                 the block of the pair's first post, each text once per block
    compare      per block (a task): exact shingle Jaccard of every pair, each first text hashed
                 once for all its pairs; only pairs at the threshold are written
    groups       confirmed pairs -> groups -> each group keeps its earliest post; the Jaccard of
                 each dropped post with the one it is reported against (routed again where that
                 pair was not a candidate)

Memory: a task holds one shard's or one block's candidate texts; the driver, the confirmed pairs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl

from common.executor import ExecutorParams, Task, run_tasks
from common.parquet import SCRATCH, write_table
from curation.near_duplicates import EMPTY, band_rows, earliest_of_each_group
from curation.shingle_hashes import pair_jaccard
from curation.spill import spill_connection
from curation.text_bytes import TextBytes

_SCORES = {"first": pl.Int64, "other": pl.Int64, "jaccard": pl.Float64}
_ROWS = 1 << 32  # a ref's shard is its quotient by this, its row the remainder


def refs(shard: int, rows: np.ndarray) -> np.ndarray:
    """The refs of these rows of shard `shard`'s stage file."""
    return np.int64(shard) * _ROWS + rows.astype(np.int64)


def near_duplicates(frame: pl.DataFrame, threshold: float, shingle: int) -> pl.DataFrame:
    """`frame`: post_id, user_id, created_at, text, in memory (tests and small inputs): the same
    steps with one shard in a temporary folder."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sag-near-") as tmp:
        tmp = Path(tmp)
        ref = refs(0, np.arange(len(frame)))
        write_table(frame.select("text"), tmp / "stage.parquet")
        write_table(frame.select("post_id", "user_id", "created_at", ref=pl.Series(ref)), tmp / "posts.parquet")
        write_table(band_rows(TextBytes.of(frame.get_column("text")), shingle, ref), tmp / "bands.parquet")
        stage, posts, bands = [tmp / "stage.parquet"], [tmp / "posts.parquet"], [tmp / "bands.parquet"]
        executor = ExecutorParams(workers=1)
        return find_near_duplicates(stage, posts, bands, threshold, shingle, tmp / "work", executor)


def find_near_duplicates(
    stage: list[Path],
    posts: list[Path],
    bands: list[Path],
    threshold: float,
    shingle: int,
    work: Path,
    executor: ExecutorParams,
) -> pl.DataFrame:
    """`stage[k]`: shard k's texts (column `text`, rows as in the refs); `posts`: every shard's
    banded posts (ref, post_id, user_id, created_at); `bands`: their band rows (band, key, ref).
    One row per post to drop: post_id, of_post_id, of_user_id, jaccard (with the post it is
    reported against)."""
    with spill_connection(work / "spill", executor.spill_memory) as con:
        con.execute(
            f"CREATE TABLE posts AS SELECT ref, post_id, user_id, "
            f"row_number() OVER (ORDER BY created_at, post_id) AS rank FROM read_parquet({_list(posts)})"
        )
        con.execute(
            f"CREATE TABLE bands AS SELECT band, key, ref, rank FROM read_parquet({_list(bands)}) JOIN posts USING (ref)"
        )
        con.execute(
            "CREATE TABLE pairs AS "
            "WITH buckets AS (SELECT band, key, arg_min(ref, rank) AS f FROM bands GROUP BY band, key "
            "  HAVING count(*) > 1) "
            "SELECT DISTINCT f AS first, ref AS other FROM bands JOIN buckets USING (band, key) WHERE ref <> f"
        )
        # Only the confirmed pairs come back to the driver: candidates outnumber them many times.
        confirmed = _scores(con, "pairs", stage, shingle, work / "candidates", executor, threshold)
        if confirmed.is_empty():
            return pl.DataFrame(schema=EMPTY)
        # The members of any confirmed pair, earliest first: a post's place in time is its row.
        con.register("members_", pl.concat([confirmed["first"], confirmed["other"]]).unique().to_frame("ref"))
        members = con.sql("SELECT ref, post_id, user_id FROM posts SEMI JOIN members_ USING (ref) ORDER BY rank").pl()
        place = members.select("ref", _place=pl.int_range(pl.len(), dtype=pl.Int64))

        def places(column: str) -> np.ndarray:
            joined = confirmed.select(column).join(place, left_on=column, right_on="ref", maintain_order="left")
            return joined.get_column("_place").to_numpy()

        dup, root = earliest_of_each_group(len(members), places("first"), places("other"))
        found = pl.DataFrame(
            {
                "first": members.get_column("ref").gather(root),
                "other": members.get_column("ref").gather(dup),
                "post_id": members.get_column("post_id").gather(dup),
                "of_post_id": members.get_column("post_id").gather(root),
                "of_user_id": members.get_column("user_id").gather(root),
            }
        )
        # A dropped post is reported against its group's earliest: mostly a confirmed pair; the
        # others (joined through a third post, or a candidate below the threshold) are scored again.
        scores = confirmed
        again = found.join(confirmed, on=["first", "other"], how="anti").select("first", "other")
        if len(again):
            con.register("again_", again)
            scores = pl.concat([scores, _scores(con, "again_", stage, shingle, work / "reported", executor, 0.0)])
        known = found.join(scores, on=["first", "other"], how="left", maintain_order="left")
    return known.select("post_id", "of_post_id", "of_user_id", jaccard=pl.col("jaccard").round(3)).cast(EMPTY)


def _scores(
    con, pairs: str, stage: list[Path], shingle: int, folder: Path, executor: ExecutorParams, at_least: float
) -> pl.DataFrame:
    """first, other, jaccard of the pairs (refs) in the DuckDB table `pairs` whose jaccard is at
    least `at_least`."""
    shutil.rmtree(folder / "wanted", ignore_errors=True)
    (folder / "wanted").mkdir(parents=True)
    for side, query in (
        ("other", f"SELECT first, other, other // {_ROWS} AS shard FROM {pairs}"),
        ("first", f"SELECT DISTINCT first, first // {_ROWS} AS shard FROM {pairs}"),
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


def _block(first: pl.Expr, blocks: int) -> pl.Expr:
    """The block where a pair is compared: all pairs of one first post in one block."""
    return (first % blocks).cast(pl.Int64)


def _route_task(shard: int, stage: Path, folder: Path, blocks: int) -> dict:
    """Shard `shard`'s side of the candidate pairs, to the block of each pair's first post: the
    pairs whose other post is here, and each text here that a block needs, once per block."""
    wanted = {}
    for side in ("other", "first"):
        part = folder / "wanted" / side / f"shard={shard}"
        wanted[side] = pl.read_parquet(part, hive_partitioning=False) if part.exists() else None
    out = folder / "routed" / f"{shard:05d}"
    needed = []  # (first, ref): this shard's post `ref` is compared in the block of `first`
    if wanted["other"] is not None:
        pairs = wanted["other"].select("first", "other", block=_block(pl.col("first"), blocks))
        for (b,), part in pairs.partition_by("block", as_dict=True).items():
            write_table(part.drop("block"), out / f"pairs-{b:05d}.parquet", SCRATCH)
        needed.append(pairs.select("block", ref="other"))
    if wanted["first"] is not None:
        needed.append(wanted["first"].select(block=_block(pl.col("first"), blocks), ref="first"))
    if not needed:
        return {}
    needed = pl.concat(needed).unique()
    routed = needed.with_columns(text=texts_at(stage, (needed.get_column("ref") % _ROWS).to_numpy()))
    for (b,), part in routed.partition_by("block", as_dict=True).items():
        write_table(part.drop("block").sort("ref"), out / f"texts-{b:05d}.parquet", SCRATCH)
    return {}


def texts_at(stage: Path, rows: np.ndarray) -> pl.Series:
    """The `text` of a stage file at `rows` (in that order), reading only the row groups that hold
    them: the second pass (pairs reported against a group's earliest post) needs a few texts of
    each shard, and at 10 GB a shard's whole text column is a read from disk (18 s of 398 s). Arrow
    reads the few groups; Polars the whole column where most groups are needed (Arrow's reader
    and pool left a worker 0.2-0.4 GB larger: the tree peak went from 2.4 to 2.9 GB at x1)."""
    import pyarrow.parquet as pq

    file = pq.ParquetFile(stage)
    sizes = np.array([file.metadata.row_group(g).num_rows for g in range(file.num_row_groups)], dtype=np.int64)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    group = np.searchsorted(bounds, rows, side="right") - 1
    read = np.unique(group)
    if sizes[read].sum() > bounds[-1] // 2:  # most of the file (the first pass): Polars reads it in less memory
        return pl.read_parquet(stage, columns=["text"]).get_column("text").gather(rows)
    texts = pl.Series(file.read_row_groups(read.tolist(), columns=["text"]).column("text"))
    start = np.concatenate([[0], np.cumsum(sizes[read])])[:-1]  # where each group read begins in `texts`
    return texts.gather(start[np.searchsorted(read, group)] + rows - bounds[group]).cast(pl.String)


def _compare_task(block: int, folder: Path, shingle: int, at_least: float) -> dict:
    pairs = sorted(folder.glob(f"routed/*/pairs-{block:05d}.parquet"))
    if not pairs:
        return {}
    found = pl.concat([pl.read_parquet(p) for p in pairs])
    texts = pl.concat([pl.read_parquet(p) for p in sorted(folder.glob(f"routed/*/texts-{block:05d}.parquet"))])
    row = texts.select("ref").with_row_index("_i")

    def index(column: str) -> np.ndarray:
        joined = found.select(column).join(row, left_on=column, right_on="ref", maintain_order="left")
        return joined.get_column("_i").to_numpy().astype(np.int64)

    first, other = index("first"), index("other")
    b = TextBytes.of(texts.get_column("text"))
    order = np.argsort(first, kind="stable")  # the kernel hashes a first text once per run of it
    score = np.empty(len(first), dtype=np.float64)
    score[order] = pair_jaccard(b.data, b.starts, b.ends, shingle, first[order], other[order])
    scored = found.select("first", "other", jaccard=pl.Series(score, dtype=pl.Float64))
    write_table(scored.filter(pl.col("jaccard") >= at_least), folder / "scores" / f"{block:05d}.parquet", SCRATCH)
    return {}


def _list(paths: list[Path]) -> str:
    return "[" + ", ".join(_quoted(p) for p in paths) + "]"


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
