"""Ingest as tasks: a dump of any size read in pieces, written as posts and quarantine shards
partitioned by user, in memory set by `ingest.chunk_bytes` and the shard size, not by the dump.

    read       one task per piece (curation/ingest.py `plan_pieces`): parse, check and id its
               records; its posts go to one part per shard, its rejected records (with their
               original bytes) likewise, and (post_id, source, record) to a signature file
    duplicates the one cross-piece step: post_ids seen in two pieces, found by DuckDB from the
               signatures (it spills to `work/spill` past `compute.spill_memory`)
    finish     one task per shard: its parts in dump order, minus the later duplicates, which
               join the shard's quarantine with their original record

Every task runs through common/executor.py (local processes or Ray) and is marked done in `work`,
so a killed run resumes with the unfinished tasks; the tables appear in `out` when all are done.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from common.executor import ExecutorParams, Task, run_tasks
from common.parquet import SCRATCH, part_name, publish, write_batches, write_table
from curation.ingest import (
    POST_COLUMNS,
    POST_TYPES,
    QUARANTINE_COLUMNS,
    IngestParams,
    Piece,
    quarantine_rows,
    duplicate_ids,
    plan_pieces,
    read_piece,
)
from curation.readers import SPAN
from curation.shards import auto_shards, shard_of
from curation.spill import spill_connection


@dataclass
class IngestResult:
    posts: pl.DataFrame
    quarantine: pl.DataFrame
    metrics: dict


def ingest(path: Path, params: IngestParams, progress: bool = True) -> IngestResult:
    """The whole ingest in memory, for small dumps and tests: the sharded stage
    (`run_ingest`) run in a temporary folder, its tables read back."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sag-ingest-") as tmp:
        out, work = Path(tmp) / "out", Path(tmp) / "work"
        metrics = run_ingest(path, params, out, work, ExecutorParams(workers=1), progress=progress)
        posts = pl.read_parquet(out / "posts.parquet")
        quarantine = pl.read_parquet(out / "quarantine.parquet")
    return IngestResult(posts, quarantine, metrics)


_KEEP = (
    "record",
    "created_at_raw",
    "raw",
    *SPAN,
    "_orig",
)  # with the posts' columns: what quarantining a duplicate needs


def run_ingest(
    dump: Path,
    params: IngestParams,
    out: Path,
    work: Path,
    executor: ExecutorParams,
    progress: bool = True,
) -> dict:
    """Write `out/posts.parquet/` and `out/quarantine.parquet/` (folders of shards); the metrics."""
    pieces = plan_pieces(dump, params)
    files = {file for piece in pieces for file, _ in piece.files}
    shards = auto_shards(sum(f.stat().st_size for f in files)) if params.shards == "auto" else params.shards
    reads = [(piece, i, params, shards, work / "read" / f"{i:05d}", progress) for i, piece in enumerate(pieces)]
    read = run_tasks(
        [Task(f"{i:05d}", _read_task, args) for i, args in enumerate(reads)],
        work / "done" / "read",
        executor,
        "ingest: read",
    )
    duplicates = _duplicates(work, executor.spill_memory)
    spans = {i: piece.file for i, piece in enumerate(pieces)}  # the file each piece's byte spans point into
    finished = run_tasks(
        [Task(f"{k:05d}", _finish_task, (k, len(pieces), spans, work, duplicates)) for k in range(shards)],
        work / "done" / "finish",
        executor,
        "ingest: shards",
    )
    publish([work / "posts" / part_name(k) for k in range(shards)], out / "posts.parquet")
    publish([work / "quarantine" / part_name(k) for k in range(shards)], out / "quarantine.parquet")
    by_reason = Counter()
    for result in read + finished:
        by_reason.update(result["quarantined_by_reason"])
    metrics = {
        "files": len(files),
        "shards": shards,
        "read": sum(r["read"] for r in read),
        "accepted": sum(r["accepted"] for r in finished),
        "quarantined": sum(by_reason.values()),
        "users": sum(r["users"] for r in finished),  # a user's posts are in one shard
        "quarantined_by_reason": dict(sorted(by_reason.items())),
    }
    assert metrics["accepted"] + metrics["quarantined"] == metrics["read"], "ingest lost rows"
    return metrics


def _read_task(piece: Piece, index: int, params: IngestParams, shards: int, folder: Path, progress: bool) -> dict:
    """A piece's posts and rejected records, one part per shard, and its posts' id signatures."""
    frame = read_piece(piece, params, progress).with_row_index("row")
    ok = frame.get_column("reason").is_null()
    posts = frame.filter(ok).select("row", *POST_COLUMNS, *(c for c in _KEEP if c in frame.columns))
    bad = quarantine_rows(frame.filter(~ok), piece.file)
    folder.mkdir(parents=True, exist_ok=True)
    write_table(
        posts.select("post_id", "source", "record", "row", piece=pl.lit(index, pl.Int64)),
        folder / "ids.parquet",
        SCRATCH,
    )
    for name, table, keys in (
        ("posts", posts, posts.get_column("user_id")),
        ("quarantine", bad, _quarantine_keys(bad)),
    ):
        shard = pl.Series(shard_of(keys, shards))
        for k in shard.unique().sort().to_list():
            write_table(table.filter(shard == k), folder / f"{name}-{k:05d}.parquet", SCRATCH)
    return {"read": len(frame), "quarantined_by_reason": dict(Counter(bad.get_column("reason").to_list()))}


def _quarantine_keys(bad: pl.DataFrame) -> pl.Series:
    """A rejected row goes to its user's shard, or (no user) to its source file's."""
    return bad.select(pl.coalesce("user_id", "source")).to_series()


def _duplicates(work: Path, spill_memory: str) -> pl.DataFrame:
    """piece, row, detail of every post whose post_id an earlier accepted row has. DuckDB finds the
    ids seen twice (spilling to disk past `spill_memory`); only their rows are read into memory."""
    signatures = sorted(str(p) for p in (work / "read").glob("*/ids.parquet"))
    if not signatures:
        return pl.DataFrame(schema={"piece": pl.Int64, "row": pl.UInt32, "detail": pl.String})
    with spill_connection(work / "spill", spill_memory) as con:
        rows = con.sql(
            "WITH ids AS (SELECT * FROM read_parquet(?)) "
            "SELECT ids.* FROM ids SEMI JOIN (SELECT post_id FROM ids GROUP BY post_id HAVING count(*) > 1) "
            "USING (post_id)",
            params=[signatures],
        ).pl()
    return duplicate_ids(rows.with_columns(pl.col("row").cast(pl.UInt32)))


def _finish_task(shard: int, n_pieces: int, files: dict, work: Path, duplicates: pl.DataFrame) -> dict:
    """The shard's posts in dump order without the later duplicates, which join its quarantine
    with their original record. Written a piece's part at a time: a shard is never whole in memory."""
    name = f"{shard:05d}.parquet"
    accepted, users, again = 0, set(), []

    def kept_posts():
        nonlocal accepted
        for i in range(n_pieces):
            path = work / "read" / f"{i:05d}" / f"posts-{name}"
            if not path.exists():
                continue
            part = pl.read_parquet(path).join(
                duplicates.filter(pl.col("piece") == i).drop("piece"), on="row", how="left", maintain_order="left"
            )
            dup = part.get_column("detail").is_not_null()
            if dup.any():
                again.append(quarantine_rows(part.filter(dup).with_columns(reason=pl.lit("duplicate_id")), files[i]))
            kept = part.filter(~dup).select(POST_COLUMNS).cast(POST_TYPES)
            accepted += len(kept)
            users.update(kept.get_column("user_id").unique().to_list())
            yield kept

    batches = itertools.chain(kept_posts(), [pl.DataFrame(schema=POST_TYPES)])  # at least one batch
    write_batches(batches, work / "posts" / part_name(shard), 20_000)
    quarantine = [
        pl.read_parquet(path)
        for i in range(n_pieces)
        if (path := work / "read" / f"{i:05d}" / f"quarantine-{name}").exists()
    ]
    empty = pl.DataFrame(schema=dict.fromkeys(QUARANTINE_COLUMNS, pl.String))
    write_table(pl.concat([empty, *quarantine, *again], how="vertical_relaxed"), work / "quarantine" / part_name(shard))
    dups = sum(len(q) for q in again)
    return {
        "accepted": accepted,
        "users": len(users),
        "quarantined_by_reason": {"duplicate_id": dups} if dups else {},
    }
