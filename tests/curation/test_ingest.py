import json
import shutil

import polars as pl
import pytest

from common.errors import InputError
from curation.ingest import IngestParams
from curation.ingest_shards import ingest
from curation.reasons import Reason
from tests.conftest import MAIL

INGEST_REASONS = {
    Reason.UNPARSEABLE,
    Reason.BAD_ENCODING,
    Reason.MISSING_USER,
    Reason.BAD_DATE,
    Reason.EMPTY_BODY,
    Reason.NO_PLAIN_TEXT,
    Reason.OVERSIZE,
    Reason.DUPLICATE_ID,
    Reason.AUTOMATED_SENDER,
}


def good(i: int, user: str = "ann", **extra) -> dict:
    return {
        "post_id": f"p{i}",
        "user": user,
        "created_at": f"2024-01-{i:02d}T10:00:00Z",
        "text": f"post {i}",
        "extra": i,
    } | extra


@pytest.fixture
def salted(tmp_path):
    """Real mail (5 posts, 2 automated, 1 HTML-only) plus a JSONL dump salted with one bad row per reason."""
    shutil.copytree(MAIL, tmp_path / "mail")
    rows = [
        json.dumps(good(1)),
        json.dumps(good(2, user="bob")),
        json.dumps(good(3, user=None)),  # missing_user
        json.dumps(good(4, created_at="31/31/2024")),  # bad_date
        json.dumps(good(5, text="   ")),  # empty_body
        json.dumps(good(6, text="x" * 5000)),  # oversize (max_chars=4000 below)
        json.dumps(good(1, user="carl")),  # duplicate_id of line 1
        json.dumps(good(8, text="\ufffd" * 5 + "abc")),  # bad_encoding (mojibake already in the dump)
        '{"post_id": "p9", "user": "ann", "created',  # unparseable
    ]
    data = "\n".join(rows).encode() + b'\n{"post_id": "p10", "user": "\xff"}\n'  # bad_encoding (not UTF-8)
    (tmp_path / "forum.jsonl").write_bytes(data)
    return tmp_path


def test_salted_corpus_loses_nothing(salted):
    result = ingest(salted, IngestParams(max_chars=4000), progress=False)
    m = result.metrics
    assert m["read"] == 8 + 10
    assert m["accepted"] + m["quarantined"] == m["read"]
    assert len(result.posts) == m["accepted"] == 5 + 2
    assert set(m["quarantined_by_reason"]) == {str(r) for r in INGEST_REASONS}
    assert m["quarantined_by_reason"]["bad_encoding"] == 2
    assert m["quarantined_by_reason"]["automated_sender"] == 2
    q = result.quarantine
    assert q.get_column("reason").null_count() == 0 and q.get_column("detail").null_count() == 0
    assert (q.get_column("stage") == "ingest").all()
    # A rejected JSONL row keeps the whole original record, unmapped columns included.
    dup = q.filter(pl.col("reason") == "duplicate_id").row(0, named=True)
    assert json.loads(dup["raw"])["extra"] == 1 and dup["detail"] == "duplicate of forum.jsonl line 1"
    assert q.filter(pl.col("reason") == "no_plain_text").get_column("raw").str.contains("text/html").all()


def test_users_are_hashed_so_no_address_leaves_the_stage(salted):
    posts = ingest(salted, IngestParams(max_chars=4000), progress=False).posts
    users = posts.get_column("user_id").to_list()
    assert all(len(u) == 16 and "@" not in u for u in users)
    assert not posts.get_column("post_id").str.contains("@").any()  # Message-IDs are hashed too
    plain = ingest(salted, IngestParams(max_chars=4000, hash_users=False), progress=False).posts
    assert "kre@munnari.oz.au" in plain.get_column("user_id").to_list()
    resalted = ingest(salted, IngestParams(max_chars=4000, user_salt="other"), progress=False).posts
    assert set(resalted.get_column("user_id")) != set(users)


def test_posts_without_ids_get_stable_content_ids(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps({k: v for k, v in good(i).items() if k != "post_id"}) for i in (1, 2)) + "\n")
    first = ingest(path, IngestParams(), progress=False).posts.get_column("post_id").to_list()
    assert (
        len(set(first)) == 2
        and first == ingest(path, IngestParams(), progress=False).posts.get_column("post_id").to_list()
    )


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"format": "xml"}, "ingest.format='xml'"),
        ({"max_chars": 0}, "ingest.max_chars=0"),
        ({"columns": {"author": "x"}}, "unknown key"),
    ],
)
def test_bad_params_name_the_value(raw, message):
    with pytest.raises(InputError, match=message):
        IngestParams.from_dict(raw)


@pytest.mark.parametrize("content", [b"", b"PAR1 this is not parquet", None], ids=["empty", "garbage", "truncated"])
def test_a_parquet_file_that_cannot_be_read_is_one_quarantined_record(tmp_path, content):
    good = pl.DataFrame({"user": ["a"], "created_at": ["2024-01-01T00:00:00Z"], "text": ["hello there"]})
    good.write_parquet(tmp_path / "good.parquet")
    bad = tmp_path / "bad.parquet"
    if content is None:  # a real file cut in half
        good.write_parquet(bad)
        content = bad.read_bytes()[: len(bad.read_bytes()) // 2]
    bad.write_bytes(content)
    result = ingest(tmp_path, IngestParams(), progress=False)
    rejected = result.quarantine.filter(pl.col("source") == "bad.parquet")
    assert result.posts.height == 1 and rejected.height == 1
    assert rejected["reason"][0] == Reason.UNPARSEABLE and "not a readable Parquet file" in rejected["detail"][0]
    assert rejected["raw"][0].encode("utf-8", errors="surrogateescape").startswith(content[:4])
    assert result.metrics["read"] == result.metrics["accepted"] + result.metrics["quarantined"]
