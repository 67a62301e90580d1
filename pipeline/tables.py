"""Read-only SQL over every stage's Parquet output, with DuckDB.

Tables are found in dvc.yaml (the single source of truth for paths): every `.parquet` out of every
stage is a table named after the file. Files with the same name (ingest's and curate's quarantine)
form one table, their rows stacked by column name.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import duckdb
import yaml

from common.errors import InputError

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


def connect(root: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    for name, files in table_files(root).items():
        present = [str(f) for f in files if f.exists()]
        if present:
            con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM read_parquet({present!r}, union_by_name = true)')
    return con


def query(root: Path, sql: str) -> duckdb.DuckDBPyRelation:
    con = connect(root)
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
    except duckdb.CatalogException as exc:
        missing = [n for n, fs in table_files(root).items() if not any(f.exists() for f in fs)]
        hint = f" (not built yet: {', '.join(sorted(missing))}; run dvc repro)" if missing else ""
        raise InputError(f"{_first_line(exc)}{hint}") from None
    except duckdb.Error as exc:
        raise InputError(f"SQL error: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
