import json
import mailbox

import polars as pl
import pytest

from common.errors import InputError
from curation.ingest_shards import ingest
from curation.readers import ColumnMap, input_files, read_table
from tests.conftest import MAIL, real_message

ROWS = [
    {"post_id": "p1", "user": "ann", "created_at": "2024-01-02T10:00:00+02:00", "title": "t1", "text": "first post"},
    {"post_id": "p2", "user": "bob", "created_at": "2024-01-03 09:00:00", "title": "t2", "text": "second post"},
]


def test_jsonl_clean_file_keeps_line_numbers(tmp_path):
    path = tmp_path / "dump.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    frame = read_table(path, "jsonl", "dump.jsonl", ColumnMap())
    assert frame.get_column("record").to_list() == ["line 1", "line 2"]
    assert frame.get_column("created_at").dt.hour().to_list() == [8, 9]  # +02:00 -> UTC; zone-less = UTC
    assert frame.get_column("reason").null_count() == 2


def test_jsonl_broken_lines_are_isolated_and_kept(tmp_path):
    path = tmp_path / "dump.jsonl"
    lines = [
        json.dumps(ROWS[0]).encode(),
        b'{"post_id": "p9", "user": ',
        b"",
        b'["a list"]',
        b'{"text": "\xff\xfe"}',
        json.dumps(ROWS[1]).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    frame = read_table(path, "jsonl", "dump.jsonl", ColumnMap())
    ok = frame.filter(pl.col("reason").is_null())
    bad = frame.filter(pl.col("reason").is_not_null()).sort("record")
    assert ok.get_column("post_id").to_list() == ["p1", "p2"]
    assert ok.get_column("record").to_list() == ["line 1", "line 6"]  # the blank line 3 is not a record
    assert bad.select("record", "reason").rows() == [
        ("line 2", "unparseable"),
        ("line 4", "unparseable"),
        ("line 5", "bad_encoding"),
    ]
    assert bad.get_column("raw").to_list()[0] == '{"post_id": "p9", "user": '


def test_csv_clean_and_ragged(tmp_path):
    path = tmp_path / "dump.csv"
    pl.DataFrame(ROWS).write_csv(path)
    assert read_table(path, "csv", "dump.csv", ColumnMap()).get_column("record").to_list() == ["row 2", "row 3"]
    with path.open("ab") as fh:
        fh.write(b"p3,carl,2024-01-04,t3,text,EXTRA\np4,dora,2024-01-05,t4,caf\xe9\n")
    frame = read_table(path, "csv", "dump.csv", ColumnMap())
    bad = frame.filter(pl.col("reason").is_not_null()).sort("record")
    assert bad.select("record", "reason").rows() == [("row 4", "unparseable"), ("row 5", "bad_encoding")]
    assert frame.filter(pl.col("reason").is_null()).height == 2


def test_parquet_with_column_mapping_and_epoch_dates(tmp_path):
    path = tmp_path / "dump.parquet"
    pl.DataFrame(
        {"id": [7, 8], "author": ["x", "y"], "ts": [1700000000, 1700000000000], "body": ["a", "b"]}
    ).write_parquet(path)
    columns = ColumnMap(user="author", created_at="ts", text="body", title=None, post_id="id")
    frame = read_table(path, "parquet", "dump.parquet", columns)
    assert frame.get_column("post_id").to_list() == ["7", "8"]
    assert frame.get_column("created_at").dt.year().to_list() == [2023, 2023]  # seconds and milliseconds
    assert frame.get_column("title").null_count() == 2


def test_wrong_column_name_is_a_clear_error(tmp_path):
    path = tmp_path / "dump.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n")
    with pytest.raises(InputError, match=r"ingest.columns.user='author'.*columns there: post_id, user"):
        read_table(path, "jsonl", "dump.jsonl", ColumnMap(user="author"))


def test_mbox_and_maildir_are_read_message_by_message(tmp_path, params):
    box = mailbox.mbox(tmp_path / "list.mbox")
    for prefix in ("00001", "00008", "00013"):
        box.add(real_message(prefix))
    box.flush()
    box.close()
    maildir = tmp_path / "maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.eml").write_bytes(real_message("00052"))
    result = ingest(tmp_path, params, progress=False)
    records = sorted(result.posts.get_column("source").to_list())
    assert records == ["list.mbox", "list.mbox", "list.mbox", "maildir/new/1.eml"]
    assert result.metrics["read"] == 4


def test_input_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        input_files(tmp_path / "missing", "auto")
    with pytest.raises(InputError, match="holds no files"):
        input_files(tmp_path, "auto")


def test_auto_format_by_extension():
    formats = {f.suffix: fmt for f, fmt in input_files(MAIL, "auto")}
    assert formats == {".eml": "mail"}
