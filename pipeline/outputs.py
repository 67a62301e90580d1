"""Writing stage outputs: Parquet tables and DVC metrics files, each written atomically."""

from __future__ import annotations

import itertools
import json
import os
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


def _writable(path: Path) -> None:
    _check(path)
    path.parent.mkdir(parents=True, exist_ok=True)


def write_table(frame: pl.DataFrame, path: Path) -> None:
    """Write to a temporary name first, so an interrupted stage never leaves a half-written table."""
    _writable(path)
    tmp = path.with_suffix(".parquet.tmp")
    # lz4: 1.8 s for a gigabyte of posts here, against 3.1 s for zstd level 1 (1.5x larger files).
    # Streamed in row groups of 20,000 rows: `write_parquet` held about the frame's size again in
    # encoder buffers (0.5 GB more for 0.4 GB of articles, benchmarks/curation.py).
    frame.lazy().sink_parquet(tmp, compression="lz4", statistics=True, row_group_size=20_000)
    os.replace(tmp, path)


def write_batches(batches: Iterator[pl.DataFrame], path: Path, group_rows: int) -> None:
    """`write_table` for a table made a batch at a time (at least one batch, all of one schema):
    Polars' streaming Parquet sink pulls the batches as it writes, so the table is never whole in
    memory. It holds about five times the text of a row group of `group_rows` rows while it
    encodes (0.5 GB more at 100,000 rows of forum posts). (Polars' Python-source API is marked
    unstable; the version is pinned.)"""
    _writable(path)
    tmp = path.with_suffix(".parquet.tmp")
    first = next(batches)

    def source(columns, predicate, _n_rows, _size) -> Iterator[pl.DataFrame]:
        # A sink asks for every row; a projection or filter, were one pushed down, is honoured.
        for batch in itertools.chain([first], batches):
            batch = batch if columns is None else batch.select(columns)
            yield batch if predicate is None else batch.filter(predicate)

    register_io_source(source, schema=first.schema).sink_parquet(
        tmp, compression="lz4", statistics=True, row_group_size=group_rows
    )
    os.replace(tmp, path)


def write_metrics(metrics: dict, path: Path) -> None:
    _writable(path)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(metrics, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)


def read_table(path: Path, producer: str) -> pl.DataFrame:
    """A stage's input table, or a one-line error saying which stage makes it."""
    return _table(path, producer, pl.read_parquet)


def scan_table(path: Path, producer: str) -> pl.LazyFrame:
    """`read_table` for a stage that reads the table in parts: checked now (its Parquet footer
    read), so that a missing or broken table is the same one-line error."""
    _table(path, producer, pl.read_parquet_schema)
    return pl.scan_parquet(path)


def _table(path: Path, producer: str, read):
    from common.errors import InputError

    if not path.exists():
        raise InputError(f"{path} does not exist; run the {producer} stage first (dvc repro {producer})")
    try:
        return read(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path} is not a readable Parquet table (the {producer} stage writes it): {first}") from None


def require_model(path: Path, producer: str) -> Path:
    """A model folder a stage reads, or a one-line error saying which stage makes it."""
    from common.errors import InputError

    if not (path / "config.json").exists():
        raise InputError(f"{path} is not a model folder; run the {producer} stage first (dvc repro {producer})")
    return path


def require_filter(path: Path) -> Path:
    """The trained style filter's folder, or a one-line error saying which stage makes it."""
    from common.errors import InputError

    if not (path / "scorer.joblib").exists():
        raise InputError(f"{path} is not a style filter; run the train_filter stage first (dvc repro train_filter)")
    return path


def write_llm_tables(session, out_dir: Path, failures_name: str) -> None:
    """An LLM stage's failure table (one schema for every stage) and its `llm_calls.parquet`."""
    write_table(session.failures_frame(), out_dir / failures_name)
    write_table(session.calls_frame(), out_dir / "llm_calls.parquet")


def write_csv(frame: pl.DataFrame, path: Path) -> None:
    """DVC plots data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
