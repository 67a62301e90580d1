import math

import numpy as np
import pytest

from eval import scoring


def test_author_centroids_leave_the_target_out():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    profiles = scoring.AuthorProfiles(["a0", "a1", "b0"], ["a", "a", "b"], vectors)
    # without a1, author a is [1, 0]; b is [0, 1]
    assert profiles.similarities(np.array([0.0, 1.0]), leave_out="a1") == {"a": 0.0, "b": 1.0}
    sims = profiles.similarities(np.array([0.0, 1.0]), leave_out="x")
    assert sims["a"] == pytest.approx(1 / math.sqrt(2))
    rows = scoring.style_scores(np.array([[0.0, 1.0], [1.0, 0.0]]), ["a1", "a1"], ["a", "a"], profiles)
    assert rows == [{"style_sim": 0.0, "author_hit": 0}, {"style_sim": 1.0, "author_hit": 1}]


def test_text_scores_against_the_article():
    scores = scoring.text_scores("the cat sat on 5 mats", "the cat sat on the mat", ["the cat", "a mat"])
    assert scores["rouge1"] == pytest.approx(100 * 2 * (4 / 6) * (4 / 6) / (4 / 6 + 4 / 6), abs=0.01)
    assert scores["unsupported_facts"] == 1 and scores["words"] == 6


def _row(target, value, **extra):
    return {
        "target_post_id": target,
        "output": f"out {target} {value}",
        "article": "the article",
        "rougeL": value,
        "bleu": value,
        "style_sim": value / 100,
        "unsupported_facts": 0,
        "rouge1": value,
        "rouge2": value,
        "words": 3,
        "author_hit": 1,
        **extra,
    }


def test_comparisons_are_paired_by_target_and_against_the_baseline():
    base = [_row(str(i), 10.0) for i in range(30)]
    better = [_row(str(i), 12.0 + (i % 3)) for i in range(30)]
    same = [_row(str(i), 10.0 + (1 if i % 2 else -1)) for i in range(30)]
    out = scoring.comparisons({"sft": base, "dpo": better, "noise": same}, "sft", resamples=500, seed=0)
    assert set(out) == {"dpo - sft", "noise - sft"}
    assert out["dpo - sft"]["rougeL"]["diff"] == pytest.approx(3.0) and out["dpo - sft"]["rougeL"]["significant"]
    assert not out["noise - sft"]["rougeL"]["significant"] and out["noise - sft"]["rougeL"]["n"] == 30


def test_hallucination_rates_count_only_judged_outputs():
    rows = [
        _row("1", 1.0, faithful_hallucinated=True, factual_hallucinated=None),
        _row("2", 1.0, faithful_hallucinated=False, factual_hallucinated=None),
    ]
    m = scoring.system_metrics(rows, np.eye(2))
    assert m["faithful_hallucination_rate"] == 0.5 and m["faithful_judged"] == 2
    assert m["factual_hallucination_rate"] is None and m["factual_judged"] == 0
    assert m["pairwise_distance"] == 1.0 and m["n"] == 2
