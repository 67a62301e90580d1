"""Writing stage outputs: Parquet tables and DVC metrics files, each written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl


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
    frame.write_parquet(tmp, compression="lz4", statistics=True)
    os.replace(tmp, path)


def write_metrics(metrics: dict, path: Path) -> None:
    _writable(path)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(metrics, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)


def read_table(path: Path, producer: str) -> pl.DataFrame:
    """A stage's input table, or a one-line error saying which stage makes it."""
    from common.errors import InputError

    if not path.exists():
        raise InputError(f"{path} does not exist; run the {producer} stage first (dvc repro {producer})")
    try:
        return pl.read_parquet(path)
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
