import numpy as np
import pytest

from eval.bootstrap import paired_bootstrap


def test_a_constant_improvement_is_significant_with_a_point_interval():
    a = np.linspace(0, 1, 50)
    result = paired_bootstrap(a, a + 0.1)
    assert result["diff"] == pytest.approx(0.1) and result["low"] == pytest.approx(0.1)
    assert result["high"] == pytest.approx(0.1) and result["significant"]


def test_identical_systems_are_not_different():
    a = np.random.default_rng(1).random(40)
    assert paired_bootstrap(a, a.copy()) == {"diff": 0.0, "low": 0.0, "high": 0.0, "significant": False, "n": 40}


def test_the_interval_matches_the_normal_approximation_on_a_known_case():
    rng = np.random.default_rng(2)
    a = rng.normal(0, 1, 400)
    b = a + rng.normal(0.05, 1, 400)  # true difference 0.05, sd 1: the 95% half-width is about 1.96/20 = 0.098
    result = paired_bootstrap(a, b, resamples=4000)
    half = (result["high"] - result["low"]) / 2
    assert half == pytest.approx(1.96 * np.std(b - a) / np.sqrt(400), rel=0.1)
    assert not result["significant"]  # 0.05 is inside +-0.1: too small to tell on 400 examples


def test_unpaired_input_is_refused():
    with pytest.raises(ValueError, match="equal"):
        paired_bootstrap([1, 2], [1, 2, 3])
