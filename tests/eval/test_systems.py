import polars as pl
import pytest

from common.errors import InputError
from eval.systems import EvalParams, evaluation_targets, small_prompt
from training.sft_data import SFTDataParams

ARTICLES = pl.DataFrame(
    {
        "post_id": ["a0", "a1", "t0", "t1", "t2", "u0", "u1", "v0", "v1"],
        "split": ["train", "train", "test", "test", "test", "test", "test", "test", "test"],
        "text": ["a zero", "a one", "t zero", "t one", "t two", "u zero", "u one", "v zero", "v one"],
    }
)
PAIRS = pl.DataFrame(
    {
        "user_id": ["a", "t", "t", "t", "u", "v"],
        "ref_post_id": ["a0", "t0", "t0", "t1", "u0", "v0"],
        "target_post_id": ["a1", "t1", "t2", "t2", "u1", "v1"],
        "score": [0.9, 0.8, 0.5, 0.7, 0.9, 0.9],
    }
)
NEUTRAL = pl.DataFrame(
    {"post_id": ["a1", "t1", "t2", "u1", "v1"], "summary": ["Sa", "S1", "S2", "Su", "Sv"], "neutral": "N"}
)


def test_test_split_targets_with_their_best_reference_and_another_users_shuffled_reference():
    rows = evaluation_targets(PAIRS, NEUTRAL, ARTICLES, EvalParams(max_targets=0))
    assert rows["target_post_id"].to_list() == ["t1", "t2", "u1", "v1"]  # a1 is a training target
    t2 = rows.row(1, named=True)
    assert (t2["ref_post_id"], t2["reference"], t2["instruction"], t2["article"]) == ("t1", "t one", "S2", "t two")
    for row in rows.iter_rows(named=True):
        owner = ARTICLES.filter(pl.col("text") == row["shuffled_reference"])["post_id"][0][0]
        assert owner != row["user_id"]
    assert set(rows["test_targets"]) == {4}


def test_a_sample_of_targets_keeps_the_total_and_is_repeatable():
    one = evaluation_targets(PAIRS, NEUTRAL, ARTICLES, EvalParams(max_targets=2))
    assert len(one) == 2 and set(one["test_targets"]) == {4}
    assert one.equals(evaluation_targets(PAIRS, NEUTRAL, ARTICLES, EvalParams(max_targets=2)))


def test_prompts_per_system():
    row = evaluation_targets(PAIRS, NEUTRAL, ARTICLES, EvalParams(max_targets=0)).row(0, named=True)
    data = SFTDataParams()
    sag = small_prompt(row, "sft", "DRAFT", data)[0]["content"]
    assert "S1" in sag and "DRAFT" in sag and row["reference"] in sag
    assert row["reference"] not in small_prompt(row, "sft_noref", "DRAFT", data)[0]["content"]
    assert row["shuffled_reference"] in small_prompt(row, "sft_shuffled", "DRAFT", data)[0]["content"]
    assert "DRAFT" not in small_prompt(row, "vanilla", "DRAFT", data)[0]["content"]  # S + R
    assert "S1" not in small_prompt(row, "tst", "DRAFT", data)[0]["content"]  # N + R


def test_bad_params_are_refused():
    with pytest.raises(InputError, match="evaluate.systems"):
        EvalParams(systems=["sft", "gpt"])
    with pytest.raises(InputError, match="evaluate.baseline"):
        EvalParams(systems=["llm"], baseline="sft")
