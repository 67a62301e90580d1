import numpy as np
import polars as pl

from training.deviation import deviations, mean_distance
from training.dpo_data import cdpo_pairs, judge_pairs, pair_deviations, with_weights


def test_mean_distance_by_hand():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    # row 0: distances 1 (to row 1) and 0 (to row 2) -> 0.5; row 1: 1 and 1 -> 1.0
    assert np.allclose(mean_distance(vectors), [0.5, 1.0, 0.5])


def test_deviation_is_scaled_within_each_prompt():
    space = np.array([[1.0, 0.0], [1.0, 0.01], [0.0, 1.0], [3.0, 1.0], [3.0, 1.0]])
    groups = np.array(["p", "p", "p", "q", "q"])
    dev = deviations(groups, space, space)
    assert dev[2] == 1.0 and dev[:2].min() == 0.0  # the outlier of prompt p deviates most
    assert list(dev[3:]) == [0.0, 0.0]  # identical samples: no deviation, weight 1


def test_cdpo_pairs_and_weights():
    prompt = {"prompt": [], "user_id": "u", "target_post_id": "t", "ref_post_id": "r"}
    fixes = {("t", 0): {"corrected": "fixed zero", "fixes": ["x"]}, ("t", 1): {"corrected": "the  same", "fixes": []}}
    pairs = cdpo_pairs([prompt], [["zero", "the same", "two"]], fixes)  # 1 unchanged but for spacing, 2 failed
    assert [(p["chosen"][0]["content"], p["rejected"][0]["content"]) for p in pairs] == [("fixed zero", "zero")]
    frame = with_weights(pairs, np.array([0.25]))
    assert isinstance(frame, pl.DataFrame) and frame["weight"].to_list() == [1.25]


def test_a_judge_pairs_chosen_deviates_among_all_samples_a_cdpo_chosen_among_the_corrections():
    prompt = {"prompt": [], "user_id": "u", "target_post_id": "t", "ref_post_id": "r"}
    samples = ["aaa", "aab", "zzz"]  # the third sample is the odd one out
    vectors = {"aaa": [1.0, 0.0], "aab": [0.9, 0.1], "zzz": [0.0, 1.0], "fix a": [1.0, 0.0], "fix z": [0.0, 1.0]}

    def embed(texts):
        return [np.array([vectors[t] for t in texts])]

    verdicts = {("t", 0): {"total": 1.0}, ("t", 1): {"total": 2.0}, ("t", 2): {"total": 5.0}}
    judged = judge_pairs([prompt], [samples], verdicts, {})
    assert pair_deviations(judged, [prompt], [samples], embed).tolist() == [1.0]  # the outlier won: weight 2
    fixes = {("t", 0): {"corrected": "fix a", "fixes": []}, ("t", 2): {"corrected": "fix z", "fixes": []}}
    corrected = cdpo_pairs([prompt], [samples], fixes)
    assert pair_deviations(corrected, [prompt], [samples], embed).tolist() == [0.0, 0.0]  # two: equally apart
