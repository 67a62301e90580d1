"""Writing stage outputs: Parquet tables and DVC metrics files, each written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from common.parquet import ready_to_write, check_writable, write_batches, write_table  # noqa: F401 (the stages' writers)


def write_metrics(metrics: dict, path: Path) -> None:
    ready_to_write(path)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(metrics, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)


def read_table(path: Path, producer: str) -> pl.DataFrame:
    """A stage's input table, or a one-line error saying which stage makes it."""
    return _table(path, producer, pl.read_parquet)


def require_shards(path: Path, producer: str) -> list[Path]:
    """The shard files of a table written in shards (a folder of `part-*.parquet`; a single
    Parquet file is one shard), each readable, or a one-line error saying which stage makes it."""
    from common.errors import InputError
    from common.parquet import parts

    shards = parts(path) if path.is_dir() else [path]
    if not shards:
        raise InputError(
            f"{path} holds no shard (part-*.parquet); run the {producer} stage first (dvc repro {producer})"
        )
    for shard in shards:
        _table(shard, producer, pl.read_parquet_schema)
    return shards


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
