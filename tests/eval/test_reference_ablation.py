import numpy as np

from eval.reference_ablation import reference_ablation


def rows(style: list[float], targets: list[str]) -> list[dict]:
    return [{"target_post_id": t, "rougeL": 30.0, "bleu": 5.0, "style_sim": s} for t, s in zip(targets, style)]


def test_a_shuffled_reference_that_loses_style_is_significant_and_said_so():
    targets = [f"t{i}" for i in range(40)]
    own = np.random.default_rng(0).uniform(0.4, 0.6, 40)
    table = reference_ablation(
        {
            "sft": rows(list(own), targets),
            "sft_shuffled": rows(list(own - 0.05), targets),
            "sft_noref": rows(list(own), targets[:30]),  # fewer outputs: compared on the shared targets
        },
        resamples=500,
        seed=1,
    )
    assert table["targets"] == 30
    shuffled, none = table["differences"]["shuffled"], table["differences"]["none"]
    assert shuffled["style_sim"]["significant"] and shuffled["style_sim"]["diff"] < 0
    assert not none["style_sim"]["significant"] and not shuffled["rougeL"]["significant"]
    assert "shuffled reference (another user's post) lowers style similarity by 0.05" in table["summary"]
    assert "no reference leaves ROUGE-L and BLEU and style similarity within noise" in table["summary"]


def test_no_table_without_all_three_arms():
    targets = ["a", "b"]
    assert reference_ablation({"sft": rows([0.5, 0.5], targets), "sft_noref": rows([0.5, 0.5], targets)}, 10, 0) is None
