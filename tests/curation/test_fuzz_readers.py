"""Property-based fuzzing of every reader (hypothesis): whatever the bytes, ingest either refuses
the input with one line (`InputError`) or accounts for every record, each rejected one with a
reason and its original record. Fast by default; a long run:

    SAG_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/curation/test_fuzz_readers.py
"""

import io
import json
import os
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from common.errors import InputError
from curation.ingest import IngestParams
from curation.ingest_shards import ingest

EXAMPLES = int(os.environ.get("SAG_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**22), max_value=10**22),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["2024-01-02T03:04:05Z", "Thu, 22 Aug 2002 07:36:16 -0400", "31/31/2024", "", "0001-01-01"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
records = st.lists(
    st.fixed_dictionaries(
        {"user": values, "created_at": values, "text": values},
        optional={"post_id": values, "title": values, "record": values},
    ),
    max_size=6,
)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"])


def check(tmp: Path) -> None:
    try:
        result = ingest(tmp, IngestParams(max_chars=2000), progress=False)
    except InputError as exc:  # a user mistake (e.g. no such column): one line, never a traceback
        assert "\n" not in str(exc)
        return
    m = result.metrics
    assert m["accepted"] + m["quarantined"] == m["read"]
    q = result.quarantine
    assert q.get_column("reason").null_count() == 0
    assert q.get_column("raw").null_count() == 0


def fuzz_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="sag-fuzz-")


@FUZZ
@given(data=st.binary(max_size=400), name=st.sampled_from(["a.jsonl", "a.json", "a.csv", "a.parquet", "mail"]))
@example(data=b"x\x01\x06\x00", name="a.jsonl")  # a zlib header: Polars tried to inflate it (OSError)
def test_random_bytes_in_any_format(data, name):
    with fuzz_dir() as tmp:
        (Path(tmp) / name).write_bytes(data)
        check(Path(tmp))


@FUZZ
@given(rows=records, encoding=encodings, cut=st.integers(min_value=0, max_value=50), as_array=st.booleans())
def test_jsonl_of_odd_values_encodings_and_truncation(rows, encoding, cut, as_array):
    text = json.dumps(rows) if as_array else "".join(json.dumps(r) + "\n" for r in rows)
    data = text.encode(encoding, errors="replace")
    with fuzz_dir() as tmp:
        (Path(tmp) / ("a.json" if as_array else "a.jsonl")).write_bytes(data[: len(data) - cut] if cut else data)
        check(Path(tmp))


@FUZZ
@given(rows=records, encoding=encodings, cut=st.integers(min_value=0, max_value=30))
def test_csv_of_odd_values_encodings_and_truncation(rows, encoding, cut):
    flat = [{k: v if isinstance(v, str | None) else json.dumps(v) for k, v in r.items()} for r in rows]
    buffer = io.StringIO()
    pl.DataFrame(flat, schema=dict.fromkeys(["user", "created_at", "text"], pl.String)).write_csv(buffer)
    data = buffer.getvalue().encode(encoding, errors="replace")
    with fuzz_dir() as tmp:
        (Path(tmp) / "a.csv").write_bytes(data[: len(data) - cut] if cut else data)
        check(Path(tmp))


@FUZZ
@given(
    users=st.lists(st.one_of(st.none(), st.text(max_size=8)), min_size=1, max_size=5),
    dates=st.one_of(
        st.lists(st.integers(min_value=-(2**62), max_value=2**62), min_size=5, max_size=5),
        st.lists(st.one_of(st.none(), st.text(max_size=25)), min_size=5, max_size=5),
    ),
    texts=st.one_of(
        st.lists(st.one_of(st.none(), st.text(max_size=30)), min_size=5, max_size=5),
        st.lists(st.one_of(st.none(), st.binary(max_size=10)), min_size=5, max_size=5),
        st.lists(st.lists(st.text(max_size=3), max_size=2), min_size=5, max_size=5),
    ),
)
def test_parquet_of_odd_column_types(users, dates, texts):
    n = len(users)
    frame = pl.DataFrame({"user": users, "created_at": dates[:n], "text": texts[:n]}, strict=False)
    with fuzz_dir() as tmp:
        frame.write_parquet(Path(tmp) / "a.parquet")
        check(Path(tmp))


@FUZZ
@given(
    sender=st.text(max_size=30),
    date=st.text(max_size=40),
    body=st.binary(max_size=200),
    charset=st.sampled_from(["", "; charset=utf-8", "; charset=utf-16", "; charset=x-unknown"]),
)
def test_mail_of_odd_headers_and_bodies(sender, date, body, charset):
    head = f"From: {sender}\nDate: {date}\nSubject: s\nContent-Type: text/plain{charset}\n\n"
    with fuzz_dir() as tmp:
        (Path(tmp) / "m1").write_bytes(head.encode("utf-8", errors="replace") + body)
        check(Path(tmp))
