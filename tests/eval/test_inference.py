import pytest

from common.errors import InputError
from eval import inference
from llm.loopback_openai import LoopbackOpenAI, every_role
from llm.types import LLMParams
from training.sft_data import SFTDataParams


def test_generate_drafts_with_the_llm_then_styles_with_the_small_model(tiny_lm, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOP_KEY", "k")
    with LoopbackOpenAI(every_role) as server:
        llm = LLMParams(backend="openai", model="loopback", base_url=server.base_url, api_key_env="LOOP_KEY")
        out = inference.generate(
            "The shop opens at 9.",
            ["Hey folks!! :)", "Cheers, Al"],
            tiny_lm,
            llm,
            SFTDataParams(),
            tmp_path / "llm.sqlite",
            max_new_tokens=5,
        )
        again = inference.generate(
            "The shop opens at 9.", [], tiny_lm, llm, SFTDataParams(), tmp_path / "llm.sqlite", max_new_tokens=5
        )
    assert out["neutral"] == "Plainly: The shop opens at 9."
    assert "Hey folks!! :)\n\nCheers, Al" in out["prompt"] and "Plainly: The shop opens at 9." in out["prompt"]
    assert isinstance(out["article"], str) and out["article"] == out["article"].strip()
    assert "An earlier post by the author" not in again["prompt"]  # no reference: the noref prompt
    assert len(server.requests) == 1  # the second draft came from the cache


def test_generate_refuses_a_missing_model_and_an_empty_instruction(tmp_path):
    with pytest.raises(InputError, match="not a model folder"):
        inference.generate("x", [], tmp_path / "nope", LLMParams(), SFTDataParams(), tmp_path / "c.sqlite")
    with pytest.raises(InputError, match="instruction is empty"):
        inference.generate("  ", [], tmp_path, LLMParams(), SFTDataParams(), tmp_path / "c.sqlite")
