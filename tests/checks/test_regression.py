"""Collaboration: prediction flip rate against the previous version."""

from __future__ import annotations

import numpy as np
import pytest

from mlprod.checks.regression import check_flip_rate, flip_rate


def test_flip_rate_matches_numpy():
    rng = np.random.default_rng(0)
    new, old = rng.uniform(size=500), rng.uniform(size=500)
    rate, n, total = flip_rate(new, old, 0.5)
    assert total == 500 and n == int(((new >= 0.5) != (old >= 0.5)).sum())
    assert rate == pytest.approx(n / 500)


def test_flip_rate_above_bound_fails():
    old = np.array([0.1, 0.2, 0.6, 0.7, 0.4])
    new = np.array([0.6, 0.2, 0.4, 0.7, 0.4])  # rows 0 and 2 flip: 40 %
    res = check_flip_rate(new, old, 0.5, 0.2, previous="version 0.9.0")
    assert not res.passed and res.concern == "collaboration"
    assert res.value == pytest.approx(0.4)
    assert "version 0.9.0" in res.message and "(2 of 5 rows)" in res.message


def test_flip_rate_within_bound_passes_and_threshold_is_inclusive():
    old = np.array([0.49, 0.5, 0.9])
    new = np.array([0.45, 0.55, 0.5])  # 0.5 is positive on both sides
    res = check_flip_rate(new, old, 0.5, 0.0)
    assert res.passed and res.value == 0


def test_labels_without_threshold():
    res = check_flip_rate(np.array(["a", "b", "c", "a"]), np.array(["a", "b", "a", "a"]), None, 0.2)
    assert not res.passed and res.value == pytest.approx(0.25)


def test_nan_empty_and_mismatched_inputs_fail():
    nan = check_flip_rate(np.array([0.1, np.nan]), np.array([0.1, 0.2]), 0.5, 0.4)
    assert not nan.passed and nan.value == pytest.approx(0.5)  # a NaN prediction counts as a flip
    assert not check_flip_rate(np.array([]), np.array([]), 0.5, 0.1).passed
    mismatch = check_flip_rate(np.zeros(3), np.zeros(4), 0.5, 0.1)
    assert not mismatch.passed and "not measurable" in mismatch.message


def test_regression_flips_only_beyond_the_tolerance():
    # Without a tolerance every retrained regressor "flips" on almost every row.
    old = np.array([10.0, 20.0, 30.0, 40.0])
    new = old + np.array([0.05, -0.2, 0.0, 1.5])
    assert flip_rate(new, old, None)[0] == 0.75
    assert flip_rate(new, old, None, tolerance=0.25) == (0.25, 1, 4)
    res = check_flip_rate(new, old, None, 0.3, tolerance=0.25)
    assert res.passed and res.details["tolerance"] == 0.25
    assert not check_flip_rate(new, old, None, 0.2, tolerance=0.25).passed
    assert flip_rate(np.array([np.nan]), np.array([1.0]), None, tolerance=1.0)[0] == 1.0
