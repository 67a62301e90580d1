"""Read-only SQL over every stage's Parquet output, with DuckDB.

Tables are found in dvc.yaml (the single source of truth for paths): every `.parquet` out of every
stage is a table named after the file, or after the folder for a table written in shards
(`posts.parquet/part-*.parquet`). Tables with the same name (ingest's and curate's quarantine)
form one table, their rows stacked by column name.

Read-only is the engine's doing, not a check of the statement's first word: each table is an Arrow
dataset handed to DuckDB, and the connection then has every file-system operation disabled
(`enable_external_access = false`: no COPY, no file or URL read, no extension installed or loaded,
nothing spilled to disk) and its configuration locked. Queries get a memory and a time limit.
"""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from pathlib import Path

import duckdb
import yaml

from common.errors import InputError
from common.parquet import parts

READ_ONLY_STATEMENTS = {"SELECT", "EXPLAIN"}


def find_root(start: Path) -> Path:
    for folder in (start, *start.parents):
        if (folder / "dvc.yaml").exists():
            return folder
    raise InputError(f"no dvc.yaml in {start} or any folder above it; run sag from the project")


def table_files(root: Path) -> dict[str, list[Path]]:
    """table name -> the Parquet files dvc.yaml declares for it (existing or not)."""
    stages = (yaml.safe_load((root / "dvc.yaml").read_text()) or {}).get("stages", {})
    tables: dict[str, list[Path]] = defaultdict(list)
    for stage in stages.values():
        for out in stage.get("outs", []):
            path = next(iter(out)) if isinstance(out, dict) else out
            for file in _parquet_files(root / path):
                tables[file.stem].append(file)
    return dict(tables)


def _parquet_files(path: Path) -> list[Path]:
    if path.suffix == ".parquet":
        return [path]
    if path.is_dir():  # an out that is a folder of tables
        return sorted(path.glob("*.parquet"))
    return []


DEFAULT_MEMORY_LIMIT = "4GB"


def _dataset(files: list[str]):
    """The files as one Arrow dataset, columns united by name (a column one file lacks is null)."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    try:
        schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
        return ds.dataset(files, schema=schema, format="parquet")
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read {', '.join(files)}: {_first_line(exc)}") from None


def connect(root: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """A connection that can read the stage outputs and nothing else, and write nowhere."""
    try:
        con = duckdb.connect(
            ":memory:",
            config={
                "memory_limit": memory_limit,
                "temp_directory": "",  # never spill to disk: past the memory limit a query fails
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "python_enable_replacements": False,  # no Python variable is readable as a table
            },
        )
    except duckdb.Error as exc:
        raise InputError(f"--memory-limit {memory_limit!r}: {_first_line(exc)}") from None
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    for name, files in table_files(root).items():
        present = [str(shard) for f in files if f.exists() for shard in (parts(f) if f.is_dir() else [f])]
        if present:
            con.register(name, _dataset(present))
    return con


@contextlib.contextmanager
def time_limit(con: duckdb.DuckDBPyConnection, seconds: float):
    """Interrupt the connection's query after `seconds`: a one-line error, not a hung terminal."""
    timer = threading.Timer(seconds, con.interrupt)
    timer.start()
    try:
        yield
    except duckdb.InterruptException:
        raise InputError(f"the query ran past --timeout {seconds:g} s and was stopped") from None
    except duckdb.OutOfMemoryException as exc:
        raise InputError(f"the query needs more memory than --memory-limit allows: {_first_line(exc)}") from None
    finally:
        timer.cancel()


def query(root: Path, sql: str, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyRelation:
    con = con or connect(root)
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise InputError(f"SQL error: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise InputError(f"give exactly one statement (got {len(statements)})")
    kind = statements[0].type.name
    if kind not in READ_ONLY_STATEMENTS:
        raise InputError(f"sag sql is read-only: {kind} statements are refused; outputs change only through dvc repro")
    try:
        return con.sql(sql)
    except duckdb.PermissionException as exc:
        raise InputError(f"sag sql is read-only and reads only the stage outputs: {_first_line(exc)}") from None
    except duckdb.CatalogException as exc:
        missing = [n for n, fs in table_files(root).items() if not any(f.exists() for f in fs)]
        hint = f" (not built yet: {', '.join(sorted(missing))}; run dvc repro)" if missing else ""
        raise InputError(f"{_first_line(exc)}{hint}") from None
    except duckdb.Error as exc:
        raise InputError(f"SQL error: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
