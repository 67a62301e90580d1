"""Issue 15 at the curate level: boilerplate out, newsletters and near-duplicates quarantined with
their reason (and the post they copy), accounting exact, no copy across splits."""

import random
from datetime import datetime, timedelta, timezone

import duckdb
import polars as pl

from curation.curate import CurateParams
from curation.curate_shards import curate
from tests.test_dvc_pipeline import CROSS_SPLIT_COPIES

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
SPONSOR = "------------------------ Yahoo! Groups Sponsor ---------------------~-->"
VOCAB = [f"{a}{b}" for a in "bcdfghklmnprstvz" for b in ("ar", "en", "ix", "olt", "umb")]


def text(seed: int, n: int = 70) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(VOCAB) for _ in range(n))


def posts() -> pl.DataFrame:
    rows = []
    for u in range(12):
        for k in range(4):
            body = text(u * 10 + k)
            if k == 3:
                body += f"\n\n{SPONSOR}\nBuy thing {u}\nhttp://ads.example/{u}{k}\n" + "-" * 60 + "~->"
            rows.append((f"u{u}p{k}", f"user{u}", T0 + timedelta(days=k, hours=u), None, body))
    rows.append(("letter", "user0", T0 + timedelta(days=9), None, text(999) + "\nYou are currently subscribed as x"))
    rows.append(("copy", "user1", T0 + timedelta(days=20), None, text(0) + " plus"))  # user0's first post
    return pl.DataFrame(rows, schema=["post_id", "user_id", "created_at", "title", "text"], orient="row")


def test_boilerplate_newsletter_and_near_duplicate():
    result = curate(posts(), CurateParams(min_words=50, min_posts_per_user=3))
    m = result.metrics
    assert m["posts_in"] == len(result.articles) + len(result.rejects) == 50
    assert not result.articles.get_column("text").str.contains("Yahoo|ads.example").any()
    assert result.articles.get_column("removed_lines").drop_nulls().str.starts_with(SPONSOR).len() == 12
    assert m["boilerplate"]["articles_changed"] == 12 and m["boilerplate"]["lines_removed"] == 12 * 4
    why = dict(result.rejects.select("post_id", "reason").rows())
    assert why == {"letter": "newsletter", "copy": "near_duplicate"}
    detail = result.rejects.filter(pl.col("post_id") == "copy").get_column("detail").item()
    assert detail.startswith("near-duplicate (Jaccard") and detail.endswith("of u0p0 by user0")
    assert m["near_duplicates"]["cross_user"] == 1 and m["rejected_by_reason"]["near_duplicate"] == 1


def test_the_cross_split_sql_check_finds_a_copy_when_one_is_there():
    articles = curate(posts(), CurateParams(min_words=50, min_posts_per_user=3)).articles  # noqa: F841 (SQL)
    assert duckdb.sql(CROSS_SPLIT_COPIES).fetchall() == [(0,)]
    copy = articles.filter(pl.col("post_id") == "u0p0").with_columns(post_id=pl.lit("again"), split=pl.lit("other"))
    articles = pl.concat([articles, copy])  # noqa: F841 (read by the SQL)
    assert duckdb.sql(CROSS_SPLIT_COPIES).fetchall() == [(1,)]


def test_switches_turn_the_new_rules_off():
    off = CurateParams(min_words=50, boilerplate_min_users=0, near_duplicate_threshold=2.0, newsletter_patterns=())
    result = curate(posts(), off)
    assert result.metrics["boilerplate"]["lines_removed"] == 0 and result.rejects.is_empty()
