from datetime import datetime

import numpy as np
import polars as pl
import pytest

from common.errors import InputError
from style.pairs import ScoreParams, SelectParams, score_pairs, select_pairs, sort_articles, threshold_sweep


def articles(per_user=(5, 1, 3)) -> tuple[pl.DataFrame, np.ndarray]:
    rows = [
        {"user_id": f"u{u}", "post_id": f"u{u}p{p}", "position": p} for u, n in enumerate(per_user) for p in range(n)
    ]
    frame = sort_articles(pl.DataFrame(rows).sample(fraction=1.0, shuffle=True, seed=3))
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(frame), 8)).astype(np.float32)
    return frame, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_pairs_are_same_user_and_strictly_earlier():
    frame, vectors = articles()
    pairs, counts = score_pairs(frame, vectors, max_refs=10)
    assert (pairs.get_column("ref_position") < pairs.get_column("target_position")).all()
    owner = dict(frame.select("post_id", "user_id").iter_rows())
    assert all(
        owner[r] == owner[t] == u for u, r, t in pairs.select("user_id", "ref_post_id", "target_post_id").iter_rows()
    )
    assert len(pairs) == 10 + 0 + 3  # the full upper triangles: 5*4/2 and 3*2/2
    assert counts["pairs_cut_by_max_refs"] == 0


def test_a_reference_posted_at_the_same_second_is_not_earlier():
    frame, vectors = articles(per_user=(3,))
    stamps = [datetime(2002, 9, 23, 20, 53, 56), datetime(2002, 9, 23, 20, 53, 56), datetime(2002, 9, 24)]
    frame = frame.with_columns(created_at=pl.Series(stamps))
    pairs, counts = score_pairs(frame, vectors, max_refs=10)
    assert sorted(pairs.select("ref_position", "target_position").rows()) == [(0, 2), (1, 2)]
    assert counts["pairs_same_time"] == 1


def test_scores_are_cosines_of_the_right_rows():
    frame, vectors = articles()
    pairs, _ = score_pairs(frame, vectors, max_refs=10)
    row = {pid: i for i, pid in enumerate(frame.get_column("post_id"))}
    for ref, target, score in pairs.select("ref_post_id", "target_post_id", "score").iter_rows():
        assert score == pytest.approx(float(vectors[row[ref]] @ vectors[row[target]]), abs=1e-6)


def test_max_refs_bounds_the_work_and_counts_the_cut():
    frame, vectors = articles()
    pairs, counts = score_pairs(frame, vectors, max_refs=2)
    assert pairs.get_column("gap").max() == 2
    assert len(pairs) == (1 + 2 + 2 + 2) + (1 + 2)
    assert counts["pairs_cut_by_max_refs"] == 13 - len(pairs)


def probabilities(pairs: pl.DataFrame) -> pl.DataFrame:
    return pairs.with_columns((pl.col("score") + 1) / 2)  # cosines as stand-in probabilities in [0, 1]


def test_select_keeps_the_best_references_above_the_threshold_and_says_why_it_drops_the_rest():
    frame, vectors = articles()
    pairs = probabilities(score_pairs(frame, vectors, max_refs=10)[0])
    best, dropped = select_pairs(pairs, threshold=0.0, refs_per_target=1)
    assert len(best) == pairs.get_column("target_post_id").n_unique()
    top = pairs.group_by("target_post_id").agg(pl.col("score").max())
    assert dict(best.select("target_post_id", "score").iter_rows()) == dict(top.iter_rows())
    assert set(dropped.get_column("reason")) == {"not_best_reference"} and len(best) + len(dropped) == len(pairs)
    every, dropped = select_pairs(pairs, threshold=0.5, refs_per_target=0)
    assert every.height == (pairs.get_column("score") >= 0.5).sum()
    assert set(dropped.get_column("reason")) == {"below_threshold"} and len(every) + len(dropped) == len(pairs)
    assert dropped.get_column("detail").str.contains("< filter.threshold 0.5").all()


def test_a_target_keeps_its_best_reference_that_passes_the_threshold():
    pairs = pl.DataFrame(
        {
            "user_id": ["u"] * 2,
            "ref_post_id": ["a", "b"],
            "target_post_id": ["t", "t"],
            "ref_position": [0, 1],
            "target_position": [2, 2],
            "score": [0.9, 0.6],
        }
    )
    kept, dropped = select_pairs(pairs, threshold=0.5, refs_per_target=1)
    assert kept.get_column("ref_post_id").to_list() == ["a"]
    assert dropped.select("ref_post_id", "reason").rows() == [("b", "not_best_reference")]


def test_threshold_sweep_never_grows():
    frame, vectors = articles()
    pairs = probabilities(score_pairs(frame, vectors, max_refs=10)[0])
    sweep = threshold_sweep(pairs, refs_per_target=0)
    assert sweep.get_column("threshold").to_list()[::10] == [0.0, 0.5, 1.0]
    assert sweep.get_column("pairs").to_list()[0] == len(pairs)
    assert (sweep.get_column("pairs").diff().drop_nulls() <= 0).all()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ScoreParams(max_refs_per_target=0), "filter.max_refs_per_target=0"),
        (lambda: ScoreParams(precision="fp8"), "filter.precision='fp8'"),
        (lambda: ScoreParams(scorer="bert"), "filter.scorer='bert'"),
        (lambda: SelectParams(threshold=2), "filter.threshold=2"),
        (lambda: SelectParams(threshold=-0.1), "a probability"),
        (lambda: SelectParams(refs_per_target=-1), "filter.refs_per_target=-1"),
    ],
)
def test_bad_params_name_the_value(make, message):
    with pytest.raises(InputError, match=message):
        make()
