import csv
import io
import json

import pytest
from click.testing import CliRunner

from common.errors import InputError
from pipeline import curate, ingest
from pipeline.cli import main
from pipeline.tables import query, table_files


@pytest.fixture
def built(project, monkeypatch):
    ingest.main(project / "data", project / "outputs/ingest", project / "metrics/ingest.json", project / "params.yaml")
    curate.main(
        project / "outputs/ingest/posts.parquet",
        project / "outputs/curate",
        project / "metrics/curate.json",
        project / "params.yaml",
    )
    monkeypatch.chdir(project)
    return project


def test_tables_come_from_dvc_yaml(project):
    tables = table_files(project)
    assert {"posts", "quarantine", "articles"} <= set(tables)
    assert len(tables["quarantine"]) == 2  # ingest's and curate's


def test_sql_counts_and_quarantine_spans_both_stages(built):
    assert query(built, "SELECT count(*) FROM articles").fetchall() == [(80,)]
    stages = dict(query(built, "SELECT stage, count(*) FROM quarantine GROUP BY 1").fetchall())
    assert stages == {"ingest": 3, "curate": 6}  # 2 automated + 1 HTML-only; 5 one-post mail users + 1 copy


def test_csv_has_a_header_row_and_json_parses(built):
    out = CliRunner().invoke(
        main, ["sql", "SELECT split, count(*) AS n FROM articles GROUP BY 1 ORDER BY 1", "--format", "csv"]
    )
    assert out.exit_code == 0, out.output
    rows = list(csv.reader(io.StringIO(out.output)))
    assert rows[0] == ["split", "n"] and sum(int(r[1]) for r in rows[1:]) == 80
    out = CliRunner().invoke(main, ["sql", "SELECT post_id, position FROM articles LIMIT 2", "--format", "json"])
    assert [set(r) for r in json.loads(out.output)] == [{"post_id", "position"}] * 2


def test_table_format_prints_something_readable(built):
    out = CliRunner().invoke(main, ["sql", "SELECT reason, count(*) AS n FROM quarantine GROUP BY 1 ORDER BY 1"])
    assert out.exit_code == 0 and "too_few_posts" in out.output and "automated_sender" in out.output


@pytest.mark.parametrize(
    "sql, message",
    [
        ("DELETE FROM posts", "read-only: DELETE"),
        ("CREATE TABLE x AS SELECT 1", "read-only: CREATE"),
        ("COPY posts TO 'x.csv'", "read-only: COPY"),
        ("SELECT 1; SELECT 2", "exactly one statement"),
        ("SELECT * FROM pairs", "pairs does not exist"),
        ("SELEC 1", "SQL error"),
    ],
)
def test_refused_and_broken_queries_are_one_line_errors(built, sql, message):
    with pytest.raises(InputError, match=message):
        query(built, sql)
    out = CliRunner().invoke(main, ["sql", sql])
    assert out.exit_code == 1 and "Traceback" not in out.output and len(out.output.strip().splitlines()) == 1


def test_unbuilt_tables_are_named_in_the_error(project, monkeypatch):
    monkeypatch.chdir(project)
    with pytest.raises(InputError, match=r"not built yet: articles, .*posts, quarantine.*; run dvc repro") as err:
        query(project, "SELECT * FROM posts")
    assert "neutral" in str(err.value) and "selected_pairs" in str(err.value)


WRITES = [
    "EXPLAIN ANALYZE COPY (SELECT * FROM posts WHERE false) TO 'outputs/ingest/posts.parquet' (FORMAT parquet)",
    "EXPLAIN ANALYZE COPY (SELECT * FROM posts WHERE false) TO 'outputs/ingest/posts.parquet' "
    "(FORMAT parquet, USE_TMP_FILE false)",
    "EXPLAIN ANALYZE COPY (SELECT 1) TO 'elsewhere.csv'",
    "SELECT * FROM read_parquet('https://example.com/x.parquet')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "EXPLAIN ANALYZE INSTALL httpfs",
    "EXPLAIN ANALYZE ATTACH 'new.duckdb'",
]


@pytest.mark.parametrize("sql", WRITES)
def test_the_engine_refuses_every_file_operation_whatever_the_statement(built, sql):
    before = {p: p.stat().st_mtime_ns for p in built.rglob("*") if p.is_file()}
    out = CliRunner().invoke(main, ["sql", sql])
    assert out.exit_code == 1 and "Traceback" not in out.output and len(out.output.strip().splitlines()) == 1
    assert {p: p.stat().st_mtime_ns for p in built.rglob("*") if p.is_file()} == before  # nothing written
    assert query(built, "SELECT count(*) FROM posts").fetchall()[0][0] > 0


def test_settings_cannot_be_changed_and_no_extension_dir_is_made(built, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for sql in ("EXPLAIN ANALYZE SELECT current_setting('threads')", "SELECT 1"):
        assert CliRunner().invoke(main, ["sql", sql]).exit_code == 0
    out = CliRunner().invoke(main, ["sql", "EXPLAIN ANALYZE INSTALL httpfs"])
    assert out.exit_code == 1 and not (tmp_path / ".duckdb").exists()


def test_a_slow_query_stops_at_the_time_limit_and_a_big_one_at_the_memory_limit(built):
    out = CliRunner().invoke(main, ["sql", "SELECT count(*) FROM range(100000000000)", "--timeout", "0.5"])
    assert out.exit_code == 1 and "ran past --timeout 0.5 s" in out.output
    big = "SELECT list(range) FROM range(50000000)"
    out = CliRunner().invoke(main, ["sql", big, "--memory-limit", "64MB", "--format", "csv"])
    assert out.exit_code == 1 and "memory" in out.output.lower() and "Traceback" not in out.output
    out = CliRunner().invoke(main, ["sql", "SELECT 1", "--memory-limit", "lots"])
    assert out.exit_code == 1 and "--memory-limit 'lots'" in out.output
