"""The two-proportion z-test behind the A/B comparison."""

from __future__ import annotations

import math

import pytest

from canvas.tracking.abtest import Arm, two_proportion_z_test


def test_a_clear_difference_names_the_better_version_with_its_p_value():
    # 20 % against 25 % of 1,000 visitors each: z = 0.05 / sqrt(0.225 * 0.775 * 0.002) = 2.6774 (scipy: p 0.00742)
    result = two_proportion_z_test(Arm(1000, 200), Arm(1000, 250))
    assert result.z == pytest.approx(2.6774, abs=1e-4)
    assert result.p_value == pytest.approx(0.007420, abs=1e-5)
    assert result.significant and result.winner == "b"
    assert result.ci_low == pytest.approx(0.05 - 1.959964 * math.sqrt(0.2 * 0.8 / 1000 + 0.25 * 0.75 / 1000))
    assert result.ci_low > 0


def test_a_worse_b_names_a():
    result = two_proportion_z_test(Arm(1000, 250), Arm(1000, 200))
    assert result.winner == "a" and result.z < 0


def test_no_winner_is_claimed_below_significance():
    # 20 % against 22 % of 1,000: p = 0.272
    result = two_proportion_z_test(Arm(1000, 200), Arm(1000, 220))
    assert result.p_value == pytest.approx(0.2722, abs=1e-4)
    assert not result.significant and result.winner is None
    assert result.enough_data


def test_a_stricter_alpha_withholds_a_winner_that_0_05_would_name():
    # p = 0.0074: a winner at 0.05, not at 0.005
    assert two_proportion_z_test(Arm(1000, 200), Arm(1000, 250), alpha=0.005).winner is None


def test_too_few_conversions_is_not_enough_data_whatever_the_p_value():
    result = two_proportion_z_test(Arm(40, 0), Arm(40, 6))
    assert result.p_value < 0.05
    assert not result.enough_data and result.winner is None


def test_no_visitors_is_no_test():
    result = two_proportion_z_test(Arm(0, 0), Arm(10, 1))
    assert (result.p_value, result.winner, result.enough_data) == (1.0, None, False)


def test_equal_rates_have_no_difference():
    result = two_proportion_z_test(Arm(500, 50), Arm(500, 50))
    assert (result.z, result.p_value, result.winner) == (0.0, 1.0, None)


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError):
        two_proportion_z_test(Arm(10, 11), Arm(10, 1))
    with pytest.raises(ValueError):
        two_proportion_z_test(Arm(10, 1), Arm(10, 1), alpha=1.5)
