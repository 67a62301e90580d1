"""A DuckDB connection for the cross-shard steps: it holds at most `memory` and spills sorts, joins
and group-bys to a folder of the stage's work beyond that, so a global step over signatures of
every shard needs no more memory for a bigger dump, only more disk."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import duckdb

from common.errors import InputError


@contextlib.contextmanager
def spill_connection(folder: Path, memory: str):
    folder.mkdir(parents=True, exist_ok=True)
    # A database file, not memory: its tables, too, are paged out to disk past the limit.
    con = duckdb.connect(str(folder / "spill.duckdb"))
    try:
        con.execute("SET memory_limit = ?", [memory])
        con.execute("SET temp_directory = ?", [str(folder)])
        con.execute("SET preserve_insertion_order = false")  # lets big results stream
        yield con
    except duckdb.Error as exc:
        text = str(exc)
        if "No space left" in text or "disk" in text.lower() and "full" in text.lower():
            raise InputError(f"no space left for the spill folder {folder} (compute.spill_memory={memory})") from None
        if isinstance(exc, duckdb.OutOfMemoryException):
            raise InputError(
                f"a cross-shard step needs more than compute.spill_memory={memory}: {text.splitlines()[0]}"
            ) from None
        raise
    finally:
        con.close()
        shutil.rmtree(folder, ignore_errors=True)
