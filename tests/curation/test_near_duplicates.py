from datetime import datetime, timedelta

import polars as pl

from curation.near_duplicate_shards import near_duplicates

BASE = " ".join(f"word{i}" for i in range(120))


def frame(rows) -> pl.DataFrame:
    t0 = datetime(2024, 1, 1)
    return pl.DataFrame(
        [(pid, user, t0 + timedelta(days=day), text) for pid, user, day, text in rows],
        schema=["post_id", "user_id", "created_at", "text"],
        orient="row",
    )


def test_cross_user_copy_points_at_the_earliest_post():
    edited = BASE.replace("word60", "changed") + " one more"
    rows = [("late", "bob", 3, edited), ("orig", "ann", 1, BASE), ("other", "ann", 2, "something else " * 20)]
    found = near_duplicates(frame(rows), threshold=0.8, shingle=5)
    assert found.select("post_id", "of_post_id", "of_user_id").rows() == [("late", "orig", "ann")]
    assert 0.8 <= found.get_column("jaccard").item() < 1.0


def test_threshold_is_exact_on_the_shingles():
    half = " ".join(BASE.split()[:60]) + " " + " ".join(f"new{i}" for i in range(60))
    rows = [("a", "ann", 1, BASE), ("b", "bob", 2, half)]
    assert near_duplicates(frame(rows), threshold=0.8, shingle=5).is_empty()


def test_a_group_keeps_only_its_first_post():
    rows = [(f"p{i}", f"u{i}", i, BASE) for i in range(4)]
    found = near_duplicates(frame(rows), threshold=0.9, shingle=5)
    assert sorted(found.get_column("post_id").to_list()) == ["p1", "p2", "p3"]
    assert set(found.get_column("of_post_id")) == {"p0"}


def test_texts_without_a_shared_bucket_cost_no_comparison(monkeypatch):
    import curation.near_duplicate_shards as module

    monkeypatch.setattr(module, "pair_jaccard", lambda *a: (_ for _ in ()).throw(AssertionError("compared")))
    rows = [(f"p{i}", "ann", i, " ".join(f"w{i}x{j}" for j in range(60))) for i in range(20)]
    assert near_duplicates(frame(rows), threshold=0.8, shingle=5).is_empty()


def test_texts_without_words_are_no_ones_duplicate():
    rows = [("a", "ann", 1, ""), ("b", "bob", 2, " \n "), ("d", "dan", 4, "")]
    assert near_duplicates(frame(rows), threshold=0.8, shingle=5).is_empty()
    assert near_duplicates(frame([*rows, ("c", "cy", 3, BASE)]), threshold=0.8, shingle=5).is_empty()


def test_texts_are_fetched_by_row_from_the_row_groups_that_hold_them(tmp_path):
    import numpy as np

    from common.parquet import write_table
    from curation.near_duplicate_shards import texts_at

    stage = tmp_path / "stage.parquet"
    texts = pl.Series("text", [f"post {i} " + "word " * (i % 7) for i in range(100_000)])
    write_table(texts.to_frame(), stage)  # row groups of 20,000 rows: five groups
    for rows in (
        [99_999, 3, 20_000, 19_999, 3, 60_001, 0],  # most groups: the whole column is read
        [85_000, 2, 85_001, 2],  # two groups apart, repeats: only they are read
        [45_000],  # one group in the middle
    ):
        assert texts_at(stage, np.array(rows)).to_list() == texts.gather(rows).to_list()
