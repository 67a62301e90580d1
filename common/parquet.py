"""Atomic Parquet writes, for stages and for the shard tasks they run: a table is written under a
temporary name and renamed, so an interrupted writer never leaves a half-written table. A table
written in shards is a folder of `part-NNNNN.parquet` files (curation/shards.py), which Polars,
DuckDB and Arrow read as one table."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
from polars.io.plugins import register_io_source


def check_writable(*paths: Path) -> None:
    """Before a stage works: each output path can be written (a folder is not a file, and so on)."""
    for path in paths:
        _check(path)


def _check(path: Path) -> None:
    """A one-line error when `path` cannot be a file written there."""
    from common.errors import InputError

    for folder in reversed(path.parents):
        if folder.exists() and not folder.is_dir():
            raise InputError(f"cannot write {path}: {folder} is a file, not a folder")
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a folder")


def ready_to_write(path: Path) -> None:
    """`path` can be written (a one-line error if not), its folder made."""
    _check(path)
    path.parent.mkdir(parents=True, exist_ok=True)


# Work files a stage writes and reads back once, then deletes: not compressed. Writing one
# 107 MB shard of the benchmark's posts took 0.20 s with lz4 against 0.08 s without, for a file
# 40% smaller (sink_parquet timed once here); benchmarks/curation.py shows the stages' gain.
SCRATCH = "uncompressed"


def write_table(frame: pl.DataFrame, path: Path, compression: str = "lz4") -> None:
    """Write to a temporary name first, so an interrupted stage never leaves a half-written table."""
    ready_to_write(path)
    tmp = path.with_suffix(".parquet.tmp")
    # lz4: 1.8 s for a gigabyte of posts here, against 3.1 s for zstd level 1 (1.5x larger files).
    # Streamed in row groups of 20,000 rows: `write_parquet` held about the frame's size again in
    # encoder buffers (0.5 GB more for 0.4 GB of articles, benchmarks/curation.py).
    frame.lazy().sink_parquet(tmp, compression=compression, statistics=True, row_group_size=20_000)
    os.replace(tmp, path)


def write_batches(batches: Iterator[pl.DataFrame], path: Path, group_rows: int, compression: str = "lz4") -> None:
    """`write_table` for a table made a batch at a time (at least one batch, all of one schema):
    Polars' streaming Parquet sink pulls the batches as it writes, so the table is never whole in
    memory. It holds about five times the text of a row group of `group_rows` rows while it
    encodes (0.5 GB more at 100,000 rows of forum posts). (Polars' Python-source API is marked
    unstable; the version is pinned.)"""
    ready_to_write(path)
    tmp = path.with_suffix(".parquet.tmp")
    first = next(batches)

    def source(columns, predicate, _n_rows, _size) -> Iterator[pl.DataFrame]:
        # A sink asks for every row; a projection or filter, were one pushed down, is honoured.
        for batch in itertools.chain([first], batches):
            batch = batch if columns is None else batch.select(columns)
            yield batch if predicate is None else batch.filter(predicate)

    register_io_source(source, schema=first.schema).sink_parquet(
        tmp, compression=compression, statistics=True, row_group_size=group_rows
    )
    os.replace(tmp, path)


def part_name(shard: int) -> str:
    return f"part-{shard:05d}.parquet"


def parts(folder: Path) -> list[Path]:
    """The shard files of a table folder, in shard order."""
    return sorted(folder.glob("part-*.parquet"))


def publish(files: list[Path], folder: Path) -> None:
    """Make `folder` hold exactly `files` (the finished shards in the work folder), linked where the
    file system allows it, else copied: a new folder is filled beside it and renamed into place,
    so the table is never seen half-made."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for path in files:
        target = tmp / path.name
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
    if folder.is_dir():
        shutil.rmtree(folder)
    elif folder.exists():
        folder.unlink()
    os.replace(tmp, folder)
