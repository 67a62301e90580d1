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
    assert stages == {"ingest": 3, "curate": 5}  # 2 automated + 1 HTML-only; 5 one-post mail users


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
