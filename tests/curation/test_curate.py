import dataclasses
from datetime import datetime, timedelta, timezone

import polars as pl
import pytest

from common.errors import InputError
from curation.curate import CurateParams
from curation.curate_shards import curate
from curation.split import assign_splits

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def posts(n_users: int = 30, per_user: int = 4) -> pl.DataFrame:
    rows = []
    for u in range(n_users):
        for k in reversed(range(per_user)):  # written newest first, so sorting has work to do
            rows.append(
                {
                    "post_id": f"u{u}p{k}",
                    "user_id": f"user{u}",
                    "created_at": T0 + timedelta(days=k, hours=u),
                    "title": None,
                    "text": f"post {k} of user {u} " + "word " * 10,
                }
            )
    return pl.DataFrame(rows)


# The synthetic posts differ only in digits: boilerplate and near-duplicates to the new rules, so
# the tests of the other rules turn those off (tests/curation/test_curate_cleaning.py tests them).
PARAMS = CurateParams(
    min_words=5, max_words=100, min_posts_per_user=3, boilerplate_min_users=0, near_duplicate_threshold=2.0
)


def test_per_user_time_order_and_positions():
    articles = curate(posts(), PARAMS).articles
    for _, group in articles.group_by("user_id"):
        assert group.get_column("position").to_list() == list(range(len(group)))
        times = group.sort("position").get_column("created_at")
        assert times.is_sorted()
    assert articles.filter(pl.col("post_id") == "u3p0").get_column("position").item() == 0


def test_split_is_user_level_disjoint_and_deterministic():
    first = curate(posts(), PARAMS).articles
    users = first.group_by("split").agg(pl.col("user_id").unique())
    sets = {row[0]: set(row[1]) for row in users.iter_rows()}
    assert set(sets) == {"train", "align", "test"}
    assert (
        not (sets["train"] & sets["align"])
        and not (sets["train"] & sets["test"])
        and not (sets["align"] & sets["test"])
    )
    assert first.group_by("user_id").agg(pl.col("split").n_unique()).get_column("split").max() == 1
    assert {k: len(v) for k, v in sets.items()} == {"train": 24, "align": 3, "test": 3}
    shuffled = curate(posts().sample(fraction=1.0, shuffle=True, seed=1), PARAMS).articles
    assert shuffled.sort("post_id").equals(first.sort("post_id"))
    reseeded = curate(posts(), CurateParams(min_words=5, max_words=100, seed=99)).articles
    assert not reseeded.sort("post_id").get_column("split").equals(first.sort("post_id").get_column("split"))


def test_every_split_gets_a_user_when_there_are_few():
    splits = assign_splits(pl.Series(["a", "b", "c"]), {"train": 0.8, "align": 0.1, "test": 0.1}, seed=1)
    assert sorted(splits.get_column("split").to_list()) == ["align", "test", "train"]


def test_filters_count_every_rejected_post_with_its_reason():
    frame = posts(n_users=3, per_user=4)
    extra = pl.DataFrame(
        [
            {"post_id": "short", "user_id": "user0", "created_at": T0, "title": None, "text": "too short"},
            {"post_id": "long", "user_id": "user0", "created_at": T0, "title": None, "text": "w " * 101},
            {
                "post_id": "dup",
                "user_id": "user1",
                "created_at": T0 + timedelta(days=9),
                "title": None,
                "text": frame.filter(pl.col("post_id") == "u1p0").get_column("text").item(),
            },
            {"post_id": "lonely", "user_id": "user9", "created_at": T0, "title": None, "text": "word " * 10},
        ]
    )
    result = curate(pl.concat([frame, extra]), PARAMS)
    reasons = dict(result.rejects.select("post_id", "reason").iter_rows())
    assert reasons == {"short": "too_short", "long": "too_long", "dup": "duplicate_text", "lonely": "too_few_posts"}
    assert len(result.articles) + len(result.rejects) == len(frame) + len(extra)
    assert result.metrics["rejected_by_reason"] == {
        "duplicate_text": 1,
        "too_few_posts": 1,
        "too_long": 1,
        "too_short": 1,
    }


def test_unicode_normalisation_and_blank_lines():
    frame = posts(n_users=1, per_user=3).with_columns(text=pl.lit("Cafe\u0301  \n\n\n\nnext " + "word " * 10))
    text = curate(frame, CurateParams(min_words=5, min_posts_per_user=1)).articles.get_column("text")[0]
    assert text.startswith("Café\n\nnext")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"unicode_form": "NFX"}, "curate.unicode_form='NFX'"),
        ({"min_words": -1}, "curate.min_words=-1"),
        ({"min_words": 10, "max_words": 5}, "curate.max_words=5"),
        ({"split": {"train": 0.5, "test": 0.1}}, "sum to 1"),
        ({"split": {"train": 0.9, "dev": 0.1}}, "unknown split"),
        ({"batch_rows": 0}, "curate.batch_rows=0"),
    ],
)
def test_bad_params_name_the_value(kwargs, message):
    with pytest.raises(InputError, match=message):
        CurateParams(**kwargs)


def test_wrong_input_columns_is_a_clear_error():
    with pytest.raises(InputError, match="lacks column"):
        curate(posts().rename({"text": "body"}), PARAMS)


def test_batches_give_the_same_articles_and_rejects(tmp_path):
    text = pl.col("text").str.replace("word", "wörd", literal=True)  # not ASCII
    frame = posts().with_columns(
        text=pl.when(pl.col("post_id").str.ends_with("p3")).then(pl.lit("short")).otherwise(text)
    )
    whole = curate(frame, PARAMS)
    assert len(whole.rejects) and len(whole.articles)
    frame.write_parquet(tmp_path / "posts.parquet", row_group_size=7)
    batched = curate(pl.scan_parquet(tmp_path / "posts.parquet"), dataclasses.replace(PARAMS, batch_rows=5))
    assert batched.articles.equals(whole.articles) and batched.rejects.equals(whole.rejects)
    assert pl.concat(batched.article_batches(11)).equals(whole.articles)
    assert pl.concat(batched.reject_batches(11)).equals(whole.rejects)
    assert batched.metrics == whole.metrics
