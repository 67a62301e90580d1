"""Curation's speed work must not change a decision: the articles (text, words, position, split,
removed lines), every rejected post with its reason and detail, and every quarantined row are the
ones recorded in decisions.json, on a generated dump with planted near-copies, footers, newsletters
and bad rows, and on the default corpus when `make data` has fetched it.

    .venv/bin/python -m tests.curation.test_same_decisions --record   (only for an intended change)
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from pipeline import curate as curate_stage
from pipeline import ingest as ingest_stage
from tests.conftest import committed_params

HERE = Path(__file__).parent
RECORD = HERE / "decisions.json"
DEFAULT_CORPUS = HERE.parents[1] / "data" / "spamassassin-ham"
FOOTER = "Get your free mail at http://mail.example.com today, no strings attached"
SPONSOR = ["---- Sponsored by ExampleCorp ----", "Visit http://ads.example.com for 20% off", "---- end ----"]


def write_forum(path: Path, users: int = 240, seed: int = 7) -> None:
    """A JSONL forum: 3-12 posts per user from a Zipf vocabulary, CJK and untidy posts, same-user
    and cross-user near-copies, a free-mail footer and a sponsor block shared by many users,
    newsletters, and bad rows of every kind."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(3000)])
    p = 1 / np.arange(1, len(vocab) + 1)
    p /= p.sum()
    rows = []
    for u in range(users):
        for k in range(int(rng.integers(3, 13))):
            words = vocab[rng.choice(len(vocab), size=int(rng.integers(30, 260)), p=p)].tolist()
            text = " ".join(words)
            roll = rng.random()
            if roll < 0.05:
                text = "".join(chr(c) for c in rng.integers(0x4E00, 0x9FA5, size=120))
            elif roll < 0.15:
                text = text.replace(" ", " \r\n", 3) + "   \n\n\n\nend"
            if u % 9 == 0:
                text += "\n" + FOOTER
            if u % 11 == 0 and k % 2 == 0:
                text += "\n" + "\n".join(SPONSOR)
            if u % 37 == 0:
                text += (
                    f"\nTo unsubscribe from list{u} mail list{u}-request@example.com"  # one list each: not boilerplate
                )
            rows.append(
                {
                    "post_id": f"u{u}p{k}",
                    "user": f"User {u}",
                    "created_at": f"2021-{1 + k % 12:02d}-{1 + u % 28:02d}T10:00:00Z",
                    "title": f"t{k}",
                    "text": text,
                }
            )
    for i in range(40):  # near-copies: a later post, one word changed, by the same user or another
        src = rows[int(rng.integers(len(rows)))]
        words = src["text"].split(" ")
        words[int(rng.integers(len(words)))] = "changed"
        who = src["user"] if i % 2 else f"User {int(rng.integers(users))}"
        rows.append(
            src | {"post_id": f"copy{i}", "user": who, "created_at": "2022-06-01T10:00:00Z", "text": " ".join(words)}
        )
    bad = [
        {"post_id": "nouser", "user": None, "created_at": "2021-01-01", "text": "x " * 80},
        {"post_id": "baddate", "user": "User 1", "created_at": "not a date", "text": "x " * 80},
        {"post_id": "blank", "user": "User 1", "created_at": "2021-01-01", "text": "   "},
        {"post_id": "u0p0", "user": "User 2", "created_at": "2021-01-01", "text": "a duplicate id " * 20},
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in rows + bad]
    lines.insert(17, lines[17][: len(lines[17]) // 2])  # a truncated line
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"post_id": "latin", "user": "caf\xe9", "text": "x"}\n')


def fingerprint(dump: Path, work: Path, shards: int | str = "auto") -> dict:
    """What curation decided about a dump: digests of every output row, and counts to read a diff by.
    The stages run as `dvc repro` runs them, with the committed params and tables in files between
    them, except that curate reads, normalises and writes 97 posts at a time (many batches) and
    the posts are cut into `shards` shards (auto: one for these small dumps)."""
    params = committed_params()
    params["curate"]["batch_rows"] = 97
    params["ingest"]["shards"] = shards
    params["ingest"]["chunk_bytes"] = 1 << 16  # many pieces too: the smallest allowed
    (work / "params.yaml").write_text(yaml.safe_dump(params))
    ingest_metrics = ingest_stage.main(dump, work / "ingest", work / "ingest.json", work / "params.yaml")
    metrics = curate_stage.main(
        work / "ingest" / "posts.parquet", work / "curate", work / "curate.json", work / "params.yaml"
    )
    articles = pl.read_parquet(work / "curate" / "articles.parquet")
    rejects = pl.read_parquet(work / "curate" / "quarantine.parquet").select("post_id", "reason", "detail")
    quarantine = pl.read_parquet(work / "ingest" / "quarantine.parquet")

    def digest(frame: pl.DataFrame, by: list[str]) -> str:
        return hashlib.sha256(frame.sort(by).write_ndjson().encode()).hexdigest()

    return {
        "articles": len(articles),
        "rejected_by_reason": metrics["rejected_by_reason"],
        "quarantined_by_reason": ingest_metrics["quarantined_by_reason"],
        "articles_sha256": digest(articles, ["post_id"]),
        "rejects_sha256": digest(rejects, ["post_id"]),
        "quarantine_sha256": digest(quarantine.drop("stage"), ["source", "record"]),
    }


def _generated(tmp: Path, shards: int | str = "auto") -> dict:
    write_forum(tmp / "forum.jsonl")
    return fingerprint(tmp / "forum.jsonl", tmp, shards)


# Sharding must not change a decision: posts partitioned by user over 1, 7 or 64 shards, the
# cross-user steps (boilerplate lines, near-duplicates, duplicate ids, splits) through DuckDB.
@pytest.mark.parametrize("shards", [1, 7, 64])
def test_the_generated_dump_gets_the_recorded_decisions(tmp_path, shards):
    found = _generated(tmp_path, shards)
    recorded = json.loads(RECORD.read_text())["generated"]
    # the dump exercises every cleaning step, or this test would prove little
    assert {"near_duplicate", "newsletter", "duplicate_text", "too_short"} <= set(found["rejected_by_reason"])
    assert found == recorded


@pytest.mark.skipif(not DEFAULT_CORPUS.is_dir(), reason="the default corpus is fetched by `make data`")
@pytest.mark.parametrize("shards", [1, 7, 64])
def test_the_default_corpus_gets_the_recorded_decisions(tmp_path, shards):
    assert fingerprint(DEFAULT_CORPUS, tmp_path, shards) == json.loads(RECORD.read_text())["default_corpus"]


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "corpus").mkdir()
        record = {
            "generated": _generated(Path(tmp)),
            "default_corpus": fingerprint(DEFAULT_CORPUS, Path(tmp) / "corpus"),
        }
    RECORD.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))
