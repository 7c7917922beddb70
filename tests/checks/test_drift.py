"""Drift statistics equal scipy where it has them; degenerate columns give explicit results."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlprod.checks.drift import (
    EPS,
    categorical_histograms,
    check_prediction_drift,
    check_skew,
    check_target_drift,
    chi2_test,
    drift_by_cohort,
    feature_drift,
    js_distance,
    ks_statistic,
    numeric_histograms,
    psi_categorical,
    psi_numeric,
    skew_change,
    skewness,
)

NUM = {"method": "psi", "max": 0.2, "bins": 10}
CAT = {"method": "psi", "max": 0.2}


def _psi(p, q):
    p, q = np.maximum(p, EPS), np.maximum(q, EPS)
    return float(np.sum((q - p) * np.log(q / p)))


@pytest.fixture
def rng():
    return np.random.default_rng(2)


@pytest.mark.parametrize("shift", [0.0, 0.3])
def test_ks_equals_scipy(rng, shift):
    a = np.round(rng.normal(size=700), 1)  # ties on both sides
    b = np.round(rng.normal(shift, 1.2, size=450), 1)
    assert ks_statistic(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)


def test_ks_ignores_nan_and_empty_side_is_nan(rng):
    a, b = rng.normal(size=100), rng.normal(size=80)
    a_nan = np.r_[a, [np.nan] * 5]
    assert ks_statistic(a_nan, b) == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)
    assert math.isnan(ks_statistic([], b))
    assert math.isnan(ks_statistic([np.nan, np.nan], b))


def test_psi_numeric_uses_reference_quantile_bins(rng):
    ref, cur = rng.normal(size=2000), rng.normal(0.5, 1, size=1500)
    inner = np.quantile(ref, np.linspace(0, 1, 11)[1:-1])
    edges = np.r_[-np.inf, inner, np.inf]
    p = np.histogram(ref, edges)[0] / len(ref)
    q = np.histogram(cur, edges)[0] / len(cur)
    assert psi_numeric(ref, cur, bins=10) == pytest.approx(_psi(p, q), abs=1e-12)
    assert psi_numeric(ref, ref) == pytest.approx(0.0, abs=1e-12)


def test_psi_counts_missing_values_as_their_own_bin(rng):
    ref = rng.normal(size=1000)
    cur = ref.copy()
    cur[:300] = np.nan
    rc, cc, _ = numeric_histograms(ref, cur, 10)
    assert rc[-1] == 0 and cc[-1] == 300
    assert psi_numeric(ref, cur) > 0.2


def test_constant_column_is_one_value_bin_and_no_drift():
    rc, cc, labels = numeric_histograms(np.full(50, 3.0), np.full(40, 3.0), 10)
    assert labels == ["3", "<missing>"] and rc.tolist() == [50, 0] and cc.tolist() == [40, 0]
    assert psi_numeric(np.full(50, 3.0), np.full(40, 3.0)) == 0.0
    assert ks_statistic(np.full(50, 3.0), np.full(40, 3.0)) == 0.0
    assert skewness(np.full(10, 3.0)) == 0.0


def test_psi_categorical_handles_unseen_categories():
    ref = pd.Series(["a"] * 60 + ["b"] * 40)
    cur = pd.Series(["a"] * 50 + ["b"] * 30 + ["z"] * 20)
    expected = _psi(np.array([0.6, 0.4, 0.0]), np.array([0.5, 0.3, 0.2]))
    assert psi_categorical(ref, cur) == pytest.approx(expected, abs=1e-12)
    rc, _, labels = categorical_histograms(ref, cur)
    assert labels == ["a", "b", "z"] and rc.tolist() == [60, 40, 0]


def test_js_distance_equals_scipy(rng):
    ref = pd.Series(rng.choice(list("abcd"), 500, p=[0.4, 0.3, 0.2, 0.1]))
    cur = pd.Series(rng.choice(list("abcde"), 400))
    rc, cc, _ = categorical_histograms(ref, cur)
    assert js_distance(ref, cur) == pytest.approx(
        jensenshannon(rc / rc.sum(), cc / cc.sum(), base=2), abs=1e-12
    )
    x, y = rng.normal(size=300), rng.normal(1, 1, size=300)
    rc, cc, _ = numeric_histograms(x, y, 10)
    assert js_distance(x, y) == pytest.approx(jensenshannon(rc, cc, base=2), abs=1e-12)


def test_chi2_equals_scipy_chisquare(rng):
    ref = pd.Series(rng.choice(list("abc"), 600, p=[0.5, 0.3, 0.2]))
    cur = pd.Series(rng.choice(list("abc"), 300, p=[0.4, 0.4, 0.2]))
    rc, cc, _ = categorical_histograms(ref, cur)
    expected = stats.chisquare(cc, rc / rc.sum() * cc.sum())
    stat, p = chi2_test(ref, cur)
    assert stat == pytest.approx(expected.statistic, rel=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-9)


def test_chi2_with_unseen_category_is_finite_and_large():
    stat, p = chi2_test(pd.Series(["a", "b"] * 50), pd.Series(["a", "b", "z"] * 30))
    assert math.isfinite(stat) and stat > 100 and p < 1e-6


def _bowley(x):
    q1, q2, q3 = pd.Series(x).dropna().quantile([0.25, 0.5, 0.75])
    return (q3 + q1 - 2 * q2) / (q3 - q1)


def test_skewness_equals_scipy_and_skew_change_is_bowley(rng):
    a, b = rng.exponential(size=500), rng.normal(size=400)
    assert skewness(a) == pytest.approx(stats.skew(a), rel=1e-12)
    assert skew_change(a, b) == pytest.approx(abs(_bowley(b) - _bowley(a)), rel=1e-12)


@pytest.fixture
def frames(rng):
    n = 2000
    ref = pd.DataFrame(
        {
            "amount": rng.lognormal(8, 0.5, n),
            "age": rng.integers(18, 80, n),
            "housing": rng.choice(["own", "rent", "free"], n),
            "flag": rng.choice([True, False], n),
            "sex": rng.choice(["female", "male"], n, p=[0.3, 0.7]),
            "empty": np.full(n, np.nan),
            "const": np.ones(n),
        }
    )
    cur = ref.copy()
    cur["amount"] = cur["amount"] * 1.5
    cur.loc[: n // 4, "housing"] = "caravan"
    return ref, cur


def test_feature_drift_per_column_with_explicit_results(frames):
    ref, cur = frames
    res = {r.subject: r for r in feature_drift(ref, cur, list(ref.columns), numeric=NUM, categorical=CAT)}
    assert not res["amount"].passed and res["amount"].details["kind"] == "numeric"
    assert res["amount"].value == pytest.approx(psi_numeric(ref["amount"], cur["amount"]), abs=1e-12)
    assert res["amount"].message.startswith("PSI drift of amount is ")
    assert res["age"].passed and res["age"].value == pytest.approx(0.0, abs=1e-12)
    assert not res["housing"].passed and "unseen" in res["housing"].message
    assert res["housing"].details["unseen"]["categories"] == ["caravan"]
    assert res["flag"].details["kind"] == "categorical"  # bool is categorical
    assert not res["empty"].passed and res["empty"].value is None
    assert "all 2000 reference values are missing" in res["empty"].message
    assert res["const"].passed and res["const"].details["ref"]["constant"]
    assert all(r.concern == "bias" for r in res.values())


def test_feature_drift_methods_bound_the_statistic_not_a_p_value(frames):
    ref, cur = frames
    ks = feature_drift(ref, cur, ["amount"], numeric={"method": "ks", "max": 0.1})[0]
    assert ks.value == pytest.approx(stats.ks_2samp(ref["amount"], cur["amount"]).statistic, abs=1e-12)
    chi = feature_drift(ref, cur, ["housing"], categorical={"method": "chi2", "max": 0.1})[0]
    assert chi.value == pytest.approx(math.sqrt(chi.details["chi2"] / len(cur)), rel=1e-12)
    assert 0 <= chi.details["p_value"] <= 1
    bad = feature_drift(ref, cur, ["housing"], categorical={"method": "ks", "max": 0.1})[0]
    assert not bad.passed and "numeric columns only" in bad.message


def test_feature_drift_missing_column_and_empty_frames(frames):
    ref, cur = frames
    r = feature_drift(ref, cur.drop(columns="age"), ["age"], numeric=NUM)[0]
    assert not r.passed and "missing from the current data" in r.message
    r = feature_drift(ref, cur.iloc[:0], ["amount"], numeric=NUM)[0]
    assert not r.passed and "no rows" in r.message


def test_check_skew_skips_categorical_and_fails_nan(frames):
    ref, cur = frames
    cur = cur.assign(amount=np.exp(cur["amount"] / 3000))
    res = {r.subject: r for r in check_skew(ref, cur, ["amount", "housing", "empty", "const"], 0.2)}
    assert set(res) == {"amount", "empty", "const"}
    assert not res["amount"].passed
    assert res["amount"].value == pytest.approx(abs(_bowley(cur["amount"]) - _bowley(ref["amount"])))
    assert res["amount"].details["moment_current"] == pytest.approx(stats.skew(cur["amount"]))
    assert not res["empty"].passed and res["const"].passed


def test_target_and_prediction_drift(rng):
    y_ref = pd.Series(rng.choice([0, 1], 1000, p=[0.7, 0.3]), name="default")
    y_cur = pd.Series(rng.choice([0, 1], 1000, p=[0.4, 0.6]), name="default")
    t = check_target_drift(y_ref, y_cur, "psi", 0.2)
    p0, p1 = (y_ref == 1).mean(), (y_cur == 1).mean()
    assert t.value == pytest.approx(_psi(np.array([1 - p0, p0]), np.array([1 - p1, p1])), abs=1e-12)
    assert not t.passed and t.check == "target_drift" and t.subject == "default"
    s_ref, s_cur = rng.random((500, 2)), rng.random((500, 2))
    pd_ = check_prediction_drift(s_ref, s_cur, method="ks", max=0.2)
    assert pd_.concern == "determinism" and pd_.passed
    assert pd_.value == pytest.approx(stats.ks_2samp(s_ref[:, 1], s_cur[:, 1]).statistic, abs=1e-12)
    nan = check_prediction_drift([np.nan] * 5, [0.1] * 5)
    assert not nan.passed and nan.value is None


def test_drift_by_cohort_judges_only_large_groups(frames):
    ref, cur = frames
    cohorts = [{"name": "sex", "by": "sex"}]
    res = drift_by_cohort(ref, cur, cohorts, ["amount"], numeric=NUM, categorical=CAT, min_rows=500)
    by_group = {r.details["group"]: r for r in res}
    n_f = int((ref["sex"] == "female").sum())
    assert n_f < 700 and set(by_group) == {"female", "male"}
    male = by_group["male"]
    m_ref, m_cur = ref[ref["sex"] == "male"], cur[cur["sex"] == "male"]
    assert male.judged and male.value == pytest.approx(
        psi_numeric(m_ref["amount"], m_cur["amount"]), abs=1e-12
    )
    assert male.subject == "amount within sex=male"
    res = drift_by_cohort(ref, cur, cohorts, ["amount"], numeric=NUM, categorical=CAT, min_rows=1000)
    female = next(r for r in res if r.details["group"] == "female")
    assert not female.judged and female.passed and "not judged" in female.message


def test_drift_by_cohort_empty_where_cohort_is_not_judged(frames):
    ref, cur = frames
    cohort = {"name": "old", "where": [{"column": "age", "op": ">", "value": 500}]}
    res = drift_by_cohort(ref, cur, [cohort], ["amount"], numeric=NUM, categorical=CAT, min_rows=10)
    old = next(r for r in res if r.details["group"] == "old")
    assert not old.judged and "0 reference / 0 current rows" in old.message
