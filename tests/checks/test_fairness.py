"""Fairness checks: reports, gaps, minimums; parity and equalized odds equal fairlearn on judged groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from sklearn.metrics import recall_score

from mlprod.checks.cohorts import cohort_groups
from mlprod.checks.fairness import (
    check_demographic_parity,
    check_equalized_odds,
    check_max_gap,
    check_min,
    cohort_report,
    judged_mask,
)


@pytest.fixture
def frame():
    rng = np.random.default_rng(5)
    n = 600
    sex = rng.choice(["female", "male", "other"], n, p=[0.45, 0.5, 0.05])
    y = rng.integers(0, 2, n)
    s = np.clip(0.35 * y + 0.5 * rng.random(n) + 0.15 * (sex == "male"), 0, 1)
    return pd.DataFrame({"sex": sex, "y": y, "s": s})


def test_report_has_every_group_with_n_and_judged(frame):
    g = cohort_groups(frame, {"name": "sex", "by": "sex"})
    rep = cohort_report(frame["y"], frame["s"], g, ["recall"], threshold=0.5, min_rows=40)
    assert list(rep["groups"]) == ["female", "male", "other"]
    for label, row in rep["groups"].items():
        m = (frame["sex"] == label).to_numpy()
        assert row["n"] == m.sum()
        assert row["judged"] == (m.sum() >= 40)
        expected = recall_score(frame["y"][m], frame["s"][m] >= 0.5)
        assert row["metrics"]["recall"] == pytest.approx(expected, abs=1e-12)
        assert row["selection_rate"] == pytest.approx((frame["s"][m] >= 0.5).mean(), abs=1e-12)


def test_max_gap_fails_with_a_sentence_naming_the_groups(frame):
    g = cohort_groups(frame, {"name": "sex", "by": "sex"})
    rep = cohort_report(frame["y"], frame["s"], g, ["recall"], threshold=0.5, min_rows=40)
    vals = {k: v["metrics"]["recall"] for k, v in rep["groups"].items() if v["judged"]}
    gap = max(vals.values()) - min(vals.values())
    res = check_max_gap(rep, "recall", gap / 2, cohort="sex")
    assert not res.passed and res.judged and res.concern == "bias"
    assert res.value == pytest.approx(gap)
    lo, hi = min(vals, key=vals.get), max(vals, key=vals.get)
    assert res.message == (
        f"recall gap across sex is {gap:.2f} > {gap / 2:.2f} ({lo} {vals[lo]:.2f}, {hi} {vals[hi]:.2f})"
    )
    assert "other" not in res.message  # too small to be judged
    assert check_max_gap(rep, "recall", gap + 0.01, cohort="sex").passed


def test_max_gap_with_fewer_than_two_judged_groups_is_not_judged(frame):
    g = cohort_groups(frame, {"name": "sex", "by": "sex"})
    rep = cohort_report(frame["y"], frame["s"], g, ["recall"], threshold=0.5, min_rows=290)
    res = check_max_gap(rep, "recall", 0.1, cohort="sex")
    assert res.passed and not res.judged
    assert "not judged" in res.message and "2 needed" in res.message


def test_max_gap_with_an_undefined_metric_fails(frame):
    # a judged group without positives has an undefined recall: the gap cannot be measured
    frame = frame.copy()
    frame.loc[frame["sex"] == "female", "y"] = 0
    g = cohort_groups(frame, {"name": "sex", "by": "sex"})
    rep = cohort_report(frame["y"], frame["s"], g, ["recall"], threshold=0.5, min_rows=40)
    res = check_max_gap(rep, "recall", 1.0, cohort="sex")
    assert not res.passed and res.value is None and "female" in res.message


def test_empty_where_cohort_is_reported_not_judged(frame):
    g = cohort_groups(frame, {"name": "none", "where": [{"column": "s", "op": ">", "value": 2}]})
    rep = cohort_report(frame["y"], frame["s"], g, ["roc_auc"], min_rows=30)
    assert rep["groups"]["none"]["n"] == 0 and not rep["groups"]["none"]["judged"]
    results = check_min(rep, "roc_auc", 0.5, cohort="none")
    assert [r.judged for r in results] == [False, True]
    assert "not judged: 0 rows < 30" in results[0].message and results[0].passed


def test_min_is_one_result_per_group(frame):
    g = cohort_groups(frame, {"name": "sex", "by": "sex"})
    rep = cohort_report(frame["y"], frame["s"], g, ["roc_auc"], min_rows=40)
    results = check_min(rep, "roc_auc", 0.99, cohort="sex")
    assert [r.subject for r in results] == ["sex:female", "sex:male", "sex:other"]
    assert [r.judged for r in results] == [True, True, False]
    assert not results[0].passed and "roc_auc of sex=female is" in results[0].message


def test_min_with_single_class_group_fails_as_nan(frame):
    frame = frame.copy()
    frame.loc[frame["sex"] == "male", "y"] = 1
    g = cohort_groups(frame, {"name": "sex", "by": "sex"})
    rep = cohort_report(frame["y"], frame["s"], g, ["roc_auc"], min_rows=40)
    male = check_min(rep, "roc_auc", 0.5, cohort="sex")[1]
    assert not male.passed and "could not be measured" in male.message


@pytest.mark.parametrize("min_rows", [1, 40])
def test_parity_and_equalized_odds_equal_fairlearn_on_judged_groups(frame, min_rows):
    g = cohort_groups(frame, {"name": "sex", "by": "sex"})
    keep = judged_mask(g, min_rows)
    y, pred, sf = frame["y"][keep], (frame["s"][keep] >= 0.5).astype(int), frame["sex"][keep]
    dp = check_demographic_parity(frame["y"], frame["s"], g, 0.01, threshold=0.5, min_rows=min_rows)
    eo = check_equalized_odds(frame["y"], frame["s"], g, 0.01, threshold=0.5, min_rows=min_rows)
    assert dp.value == pytest.approx(demographic_parity_difference(y, pred, sensitive_features=sf), abs=1e-12)
    assert eo.value == pytest.approx(equalized_odds_difference(y, pred, sensitive_features=sf), abs=1e-12)
    assert not dp.passed and not eo.passed
    assert dp.message.startswith("demographic parity difference across sex is")
    assert check_demographic_parity(frame["y"], frame["s"], g, 1.0, min_rows=min_rows).passed


def test_parity_not_judged_when_one_group_is_large_enough(frame):
    g = cohort_groups(frame, {"name": "sex", "by": "sex"})
    res = check_equalized_odds(frame["y"], frame["s"], g, 0.1, min_rows=10_000)
    assert res.passed and not res.judged and "not judged" in res.message


def test_min_of_an_error_metric_is_the_worst_acceptable_value():
    # rmse: lower is better, so `min` bounds each group from above (a good group must pass)
    rng = np.random.default_rng(0)
    y = rng.normal(size=400)
    noise = np.where(np.arange(400) < 200, 0.1, 3.0)  # group a predicted well, group b badly
    df = pd.DataFrame({"g": np.where(np.arange(400) < 200, "a", "b")})
    g = cohort_groups(df, {"name": "g", "by": "g"})
    rep = cohort_report(y, y + noise, g, ["rmse"], min_rows=30)
    good, bad = check_min(rep, "rmse", 1.0, cohort="g")
    assert good.passed and good.message == "rmse of g=a is 0.10 <= 1.00"
    assert not bad.passed and bad.message == "rmse of g=b is 3.00 > 1.00"
    auc = check_min(cohort_report(y > 0, (y > 0) * 0.8 + 0.1, g, ["roc_auc"]), "roc_auc", 0.5, cohort="g")
    assert all(r.passed for r in auc)  # higher-is-better metrics keep `at least`


def test_not_judged_message_of_a_cohort_with_many_values_stays_short():
    df = pd.DataFrame({"zip": [f"{i:05d}" for i in range(500)] + ["00000"] * 40})
    g = cohort_groups(df, {"name": "zip", "by": "zip"})
    rep = cohort_report(np.r_[[0, 1] * 270], np.full(540, 0.6), g, ["recall"], min_rows=30)
    res = check_max_gap(rep, "recall", 0.1, cohort="zip")
    assert not res.judged and "and 494 more smaller groups" in res.message and len(res.message) < 300


def test_gap_message_never_shows_two_different_numbers_as_equal(frame):
    g = cohort_groups(frame, {"name": "sex", "by": "sex"})
    rep = cohort_report(frame["y"], frame["s"], g, ["recall"], threshold=0.5, min_rows=40)
    gap = check_max_gap(rep, "recall", 1.0, cohort="sex").value
    res = check_max_gap(rep, "recall", gap - 1e-6, cohort="sex")
    assert not res.passed
    shown, limit = res.message.split(" is ")[1].split(" (")[0].split(" > ")
    assert shown != limit
