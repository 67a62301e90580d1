"""Calibrated style scorers: labelled pairs, model choice on grouped folds, and what a score means."""

import numpy as np
import pytest

from common.errors import InputError
from style.features import FEATURES
from style.scorer import (
    MAX_POSITIVES_PER_USER,
    expected_calibration_error,
    fit_scorers,
    labelled_pairs,
)


def test_labelled_pairs_are_balanced_and_labelled_by_author():
    users = np.repeat(np.array(["a", "b", "c", "d"]), [3, 4, 20, 2])
    i, j, y, groups = labelled_pairs(users, seed=0)
    assert (y == 1).sum() == (y == 0).sum()
    assert ((users[i] == users[j]) == (y == 1)).all() and (i != j).all()
    assert (groups == users[i]).all()
    assert ((y == 1) & (users[i] == "c")).sum() == min(190, MAX_POSITIVES_PER_USER)


def synthetic(n_users=60, seed=0):
    """Pairs whose label follows a known logistic law of the char 3-gram cosine: a calibrated scorer
    must recover those probabilities."""
    rng = np.random.default_rng(seed)
    n = 4000
    X = rng.normal(size=(n, len(FEATURES))).astype(np.float32)
    truth = 1 / (1 + np.exp(-2.0 * X[:, FEATURES.index("char3_cos")]))
    y = (rng.random(n) < truth).astype(int)
    groups = rng.integers(0, n_users, n).astype(str)
    return X, y, groups, truth


def test_scorers_are_calibrated_on_a_synthetic_case():
    X, y, groups, truth = synthetic()
    models, report = fit_scorers(X, y, groups, seed=0)
    p = models["char_ngram"].predict_proba(X[:, [FEATURES.index("char3_cos")]])[:, 1]
    assert np.abs(p - truth).mean() < 0.03
    assert report["calibration_error_out_of_fold"]["char_ngram"] < 0.05
    assert report["calibration_error_out_of_fold"]["fused"] < 0.05
    # the embedding scorer sees only noise here: its probabilities stay near the base rate
    e = models["embedding"].predict_proba(X[:, [FEATURES.index("trained_cos")]])[:, 1]
    assert abs(e.mean() - y.mean()) < 0.02 and e.std() < 0.05
    assert report["fused_model"] in report["candidates"]


def test_calibration_error_tells_a_calibrated_score_from_an_overconfident_one():
    rng = np.random.default_rng(1)
    p = rng.random(20000)
    y = (rng.random(20000) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.02
    assert expected_calibration_error(y, np.clip(p * 2 - 0.5, 0, 1)) > 0.1


def test_one_class_is_a_clear_error():
    with pytest.raises(InputError, match="same-author and different-author"):
        fit_scorers(np.zeros((4, len(FEATURES))), np.ones(4, int), np.array(list("abcd")), seed=0)
