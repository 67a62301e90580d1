"""Inputs a hostile but fair user found (issue 14): each one failed before, with a traceback, a lost
dump or a silently wrong value. One bad record is one quarantined row; a user mistake is one line."""

import json

import polars as pl
import pytest

from common.errors import InputError
from curation.ingest import IngestParams
from curation.ingest_shards import ingest
from curation.mail import AutomatedRules, parse_message
from curation.readers import ColumnMap

GOOD = {"post_id": "ok", "user": "ann", "created_at": "2024-01-01T00:00:00Z", "text": "a fine post"}
MAIL_HEAD = b"From: Bob <bob@example.com>\nDate: Mon, 01 Jul 2002 10:00:00 +0000\nSubject: hi\n\n"


def run(tmp_path, name: str, data: bytes, **params):
    (tmp_path / name).write_bytes(data)
    result = ingest(tmp_path, IngestParams(**params), progress=False)
    assert result.metrics["accepted"] + result.metrics["quarantined"] == result.metrics["read"]
    return result


def line(**fields) -> bytes:
    return json.dumps(GOOD | fields).encode() + b"\n"


def only(result, column: str = "reason"):
    (value,) = result.quarantine.get_column(column).to_list()
    return value


@pytest.mark.parametrize(
    "value, expected",
    [
        (1_700_000_000, "2023-11-14"),  # seconds
        (1_700_000_000_000, "2023-11-14"),  # milliseconds
        (1_700_000_000_000_000, "2023-11-14"),  # microseconds (was year 55302)
        (10**18, "2001-09-09"),  # nanoseconds (was an OverflowError)
        ("1700000000", "2023-11-14"),  # an epoch as text beside ISO strings (was bad_date)
    ],
)
def test_epoch_unit_is_read_from_the_magnitude(tmp_path, value, expected):
    result = run(tmp_path, "a.jsonl", line(post_id="e", created_at=value) + line())
    dates = result.posts.sort("post_id").get_column("created_at").dt.strftime("%Y-%m-%d").to_list()
    assert dates == [expected, "2024-01-01"]


@pytest.mark.parametrize("raw", [b"1e20", b"100000000000000000000", b"253402300800", b"-99999999999"])
def test_epochs_no_unit_makes_sane_are_bad_dates(tmp_path, raw):
    data = b'{"post_id": "e", "user": "ann", "created_at": ' + raw + b', "text": "x"}\n' + line()
    result = run(tmp_path, "a.jsonl", data)
    assert only(result) == "bad_date" and result.metrics["accepted"] == 1
    assert raw.decode() in only(result, "raw")  # the original line, verbatim


def test_date_range_is_a_param(tmp_path):
    result = run(tmp_path, "a.jsonl", line(created_at="1999-12-31") + line(post_id="b"), min_date="2000-01-01")
    assert only(result) == "bad_date" and "outside ingest.min_date..max_date" in only(result, "detail")
    with pytest.raises(InputError, match="ingest.min_date"):
        IngestParams(min_date="yesterday")
    with pytest.raises(InputError, match="before ingest.max_date"):
        IngestParams(min_date="2030-01-01", max_date="2020-01-01")


def test_mail_year_0001_is_not_2001():
    raw = MAIL_HEAD.replace(b"Mon, 01 Jul 2002", b"Mon, 01 May 0001") + b"A post about the year one.\n"
    assert parse_message(raw, AutomatedRules((), ()), 10_000).reason == "bad_date"


def test_deep_nesting_is_one_bad_line(tmp_path):
    nested = b'{"post_id": "n", "user": "a", "created_at": "2024-01-01", "text": ' + b"[" * 100_000 + b"]" * 100_000
    result = run(tmp_path, "a.jsonl", nested + b"}\n" + line())
    assert only(result) == "unparseable" and "nested" in only(result, "detail")


@pytest.mark.parametrize(
    "prefix, encode",
    [(b"\xef\xbb\xbf", lambda b: b), (b"", lambda b: b.decode().encode("utf-16"))],
    ids=["bom", "utf16"],
)
def test_byte_order_marks_are_honoured(tmp_path, prefix, encode):
    result = run(tmp_path, "a.jsonl", prefix + encode(line(post_id="a") + line(post_id="b")))
    assert result.metrics["read"] == 2 and result.metrics["accepted"] == 2
    assert result.posts.get_column("text").to_list() == ["a fine post"] * 2


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig"])
def test_a_rejected_row_of_a_file_with_a_byte_order_mark_keeps_its_line(tmp_path, encoding):
    bad = line(post_id="b", user="")
    result = run(tmp_path, "a.jsonl", (line(post_id="a") + bad).decode().encode(encoding))
    assert only(result) == "missing_user"
    assert only(result, "raw") == bad.decode().strip()


def test_json_array_file_is_one_record_per_item(tmp_path):
    items = [GOOD | {"post_id": "a"}, GOOD | {"post_id": "b", "user": ""}, "not an object"]
    result = run(tmp_path, "dump.json", json.dumps(items, indent=2).encode())
    assert result.posts.get_column("post_id").to_list() == ["a"]
    q = result.quarantine.sort("record")
    assert q.select("record", "reason").rows() == [("item 2", "missing_user"), ("item 3", "unparseable")]


def test_text_column_the_file_lacks_is_an_error_even_if_named_record(tmp_path):
    with pytest.raises(InputError, match="ingest.columns.text='record'"):
        run(tmp_path, "a.jsonl", line(), columns=ColumnMap(text="record"))


def test_quarantine_raw_is_the_original_record_verbatim(tmp_path):
    jsonl = b'{"post_id":"p1","user":"","created_at":"2024-01-01","text":"x","n":1.50,"record":5}\n'
    assert only(run(tmp_path, "a.jsonl", jsonl), "raw") == jsonl.decode().rstrip("\n")
    (tmp_path / "a.jsonl").unlink()
    csv = b'post_id,user,created_at,text\r\np1,"",2024-01-01,"hi, ""there""\r\nsecond line"\r\n'
    assert only(run(tmp_path, "a.csv", csv), "raw") == csv.decode().split("\r\n", 1)[1]


@pytest.mark.parametrize(
    "body, reason, record",
    [
        (b"p1,a,2024-01-01,hi\np2,a\n", "unparseable", "row 3"),  # too few fields (was accepted)
        (b'p1,a,2024-01-01,hi\np2,a,2024-01-02,"unclosed\n', "unparseable", "row 3"),  # cut off at the end
        (b'p1,a,2024-01-01,"two\nlines"\np2,a,2024-01-02,x,y\n', "unparseable", "row 3"),  # same number either way
        (b"p1,a,2024-01-01,\xff\np2,a,2024-01-02,hi\n", "bad_encoding", "row 2"),
    ],
)
def test_csv_bad_rows_are_quarantined_with_one_numbering(tmp_path, body, reason, record):
    result = run(tmp_path, "a.csv", b"post_id,user,created_at,text\n" + body)
    assert (only(result), only(result, "record")) == (reason, record)
    assert result.metrics["accepted"] == 1


def test_csv_long_field_and_duplicate_header(tmp_path):
    long = run(tmp_path, "a.csv", b"post_id,user,created_at,text\np1,a,2024-01-01," + b"x" * 200_000 + b"\n")
    assert only(long) == "oversize"
    dup = run(tmp_path, "a.csv", b"post_id,user,created_at,text,text\np1,a,2024-01-01,hi,ho\n")
    assert (only(dup), only(dup, "record")) == ("unparseable", "file") and "'text'" in only(dup, "detail")


def test_parquet_text_that_is_a_list_or_not_utf8(tmp_path):
    frame = {"post_id": ["p1"], "user": ["a"], "created_at": ["2024-01-01"]}
    pl.DataFrame(frame | {"text": [["a", "b"]]}).write_parquet(tmp_path / "list.parquet")
    pl.DataFrame(frame | {"post_id": ["p2"], "text": [b"\xff\xfe"]}).write_parquet(tmp_path / "bytes.parquet")
    pl.DataFrame(frame | {"post_id": ["p3"], "text": [b"fine bytes"]}).write_parquet(tmp_path / "ok.parquet")
    result = ingest(tmp_path, IngestParams(), progress=False)
    q = dict(result.quarantine.select("source", "reason").rows())
    assert q == {"list.parquet": "unparseable", "bytes.parquet": "bad_encoding"}
    assert result.posts.get_column("text").to_list() == ["fine bytes"]


def test_encoded_display_name_cannot_pose_as_the_address():
    raw = MAIL_HEAD.replace(b"Bob <bob@example.com>", b"=?utf-8?q?bob=40example=2Ecom?= <mallory@evil.com>")
    assert parse_message(raw + b"Hello, a post.\n", AutomatedRules((), ()), 10_000).sender == "mallory@evil.com"


def test_utf16_mail_body_is_decoded_or_refused():
    text = "A post written in UTF-16.\n"
    rules = AutomatedRules((), ())
    assert parse_message(MAIL_HEAD + text.encode("utf-16"), rules, 10_000).text == text.strip()  # with a BOM
    assert parse_message(MAIL_HEAD + text.encode("utf-16-le"), rules, 10_000).reason == "bad_encoding"


def test_a_compressed_file_named_jsonl_is_refused_not_inflated(tmp_path):
    import gzip

    (tmp_path / "a.jsonl").write_bytes(gzip.compress(b'{"user": "a", "created_at": "2021-01-01", "text": "hi"}\n'))
    result = ingest(tmp_path, IngestParams(), progress=False)
    assert result.metrics["accepted"] == 0 and result.metrics["quarantined"] == result.metrics["read"] > 0
