import polars as pl
import pytest

from common.errors import InputError
from training.sft_data import SFTDataParams, build_examples, render_prompt

ARTICLES = pl.DataFrame(
    {
        "post_id": ["a0", "a1", "a2", "t0", "t1", "l0", "l1"],
        "user_id": ["ann", "ann", "ann", "tom", "tom", "lea", "lea"],
        "split": ["train", "train", "train", "test", "test", "align", "align"],
        "text": ["ann's first post", "ann's second post", "ann's third post", "tom one", "tom two", "lea 0", "lea 1"],
    }
)
PAIRS = pl.DataFrame(
    {
        "user_id": ["ann", "ann", "tom", "lea"],
        "ref_post_id": ["a0", "a1", "t0", "l0"],
        "target_post_id": ["a1", "a2", "t1", "l1"],
    }
)
NEUTRAL = pl.DataFrame({"post_id": ["a1", "t1", "l1"], "summary": ["S1", "ST", "SL"], "neutral": ["N1", "NT", "NL"]})


def test_train_users_are_trained_on_align_users_held_out_and_test_users_absent():
    frame, metrics = build_examples(PAIRS, NEUTRAL, ARTICLES, SFTDataParams())
    assert set(frame.get_column("user_id")) == {"ann", "lea"}  # the test user never reaches this set
    assert frame.group_by("split").agg(pl.col("user_id").unique()).sort("split").rows() == [
        ("align", ["lea"]),
        ("train", ["ann"]),
    ]
    assert metrics["test_split_pairs"] == 1 and metrics["train_pairs_without_neutral"] == 1  # a2 has no neutral yet
    assert metrics["examples"] == {"noref": 1, "sag": 1, "tst": 1, "vanilla": 1}
    assert metrics["align_examples"] == {"noref": 1, "sag": 1, "tst": 1, "vanilla": 1}
    row = frame.filter((pl.col("variant") == "sag") & (pl.col("split") == "train")).row(0, named=True)
    assert row["prompt"][0]["role"] == "user" and row["completion"] == [
        {"role": "assistant", "content": "ann's second post"}
    ]
    prompt = row["prompt"][0]["content"]
    assert "S1" in prompt and "N1" in prompt and "ann's first post" in prompt
    assert "ann's second post" not in prompt  # the target is only ever the completion


@pytest.mark.parametrize(
    "variant, present, absent",
    [("vanilla", ["S", "R"], ["N"]), ("tst", ["N", "R"], ["S"]), ("noref", ["S", "N"], ["R"])],
)
def test_ablation_variants_hold_only_their_inputs(variant, present, absent):
    fields = {"summary": "S", "neutral": "N", "reference": "R"}
    prompt, _, _ = render_prompt(fields, variant, SFTDataParams())
    lines = prompt.split("\n")
    for key in present:
        assert key in lines
    for key in absent:
        assert key not in lines


def test_long_inputs_are_cut_reference_first_and_counted():
    fields = {"summary": "s " * 50, "neutral": "n " * 800, "reference": "r " * 500}
    prompt, ref_cut, input_cut = render_prompt(fields, "sag", SFTDataParams(max_ref_words=100, max_input_words=400))
    assert ref_cut and input_cut
    words = prompt.split()
    assert words.count("r") == 100  # the reference, cut to max_ref_words
    assert words.count("s") == 50  # the summary survives whole
    assert (
        395 <= words.count("r") + words.count("s") + words.count("n") <= 400
    )  # the input budget ("..." markers count)


def test_bad_params_name_the_value():
    with pytest.raises(InputError, match="build_sft.variants"):
        SFTDataParams(variants=["sag", "dpo"])
