import polars as pl
import pytest

from common.errors import InputError
from training.dpo_data import DPODataParams, align_prompts
from training.sft_data import SFTDataParams

ARTICLES = pl.DataFrame(
    {
        "post_id": ["a0", "a1", "b0", "b1", "b2", "t0", "t1"],
        "split": ["train", "train", "align", "align", "align", "test", "test"],
        "text": ["a zero", "a one", "b zero", "b one", "b two", "t zero", "t one"],
    }
)
PAIRS = pl.DataFrame(
    {
        "user_id": ["a", "b", "b", "b", "t"],
        "ref_post_id": ["a0", "b0", "b0", "b1", "t0"],
        "target_post_id": ["a1", "b1", "b2", "b2", "t1"],
    }
)
NEUTRAL = pl.DataFrame({"post_id": ["a1", "b1", "b2", "t1"], "summary": "S", "neutral": "N"})


def test_only_align_split_targets_once_each_with_the_sft_prompt():
    prompts = align_prompts(PAIRS, NEUTRAL, ARTICLES, SFTDataParams(), DPODataParams(max_prompts=0))
    assert [(p["target_post_id"], p["ref_post_id"]) for p in prompts] == [("b1", "b0"), ("b2", "b0")]
    assert "b zero" in prompts[0]["prompt"][0]["content"] and "b one" not in prompts[0]["prompt"][0]["content"]


def test_max_prompts_is_a_seeded_sample_and_bad_values_are_refused():
    one = align_prompts(PAIRS, NEUTRAL, ARTICLES, SFTDataParams(), DPODataParams(max_prompts=1))
    assert len(one) == 1 and one == align_prompts(
        PAIRS, NEUTRAL, ARTICLES, SFTDataParams(), DPODataParams(max_prompts=1)
    )
    with pytest.raises(InputError, match="build_dpo.samples"):
        DPODataParams(samples=1)
