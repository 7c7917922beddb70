"""Every data check gives the same results in every engine on the same 200k-row data.

Reference and current are Parquet files of 200k rows (numeric with flags, constants,
heavy tails, point masses and NaN; strings; categories); each engine reads the files
itself. Tolerances, as docs/engines.md states them: counts exact, so every binned statistic
equal to 1e-9 (quantile edges are exact up to `EXACT_ROWS` rows); KS within the grid bound
the engine reports in `details["ks_bound"]`; skewness from the same exact quartiles.
"""

from __future__ import annotations

import math

import pytest
from enginekit import engine_params, make_engine, mixed_frame

from mlprod.checks.columns import check_column_rules
from mlprod.checks.drift import check_skew, drift_by_cohort, feature_drift
from mlprod.checks.privacy import check_k_anonymity, check_pii_patterns

N = 200_000
FEATURES = [
    "normal",
    "heavy",
    "zero_inflated",
    "ints",
    "flag",
    "levels",
    "constant",
    "all_nan",
    "cat",
    "city",
]
COHORTS = [
    {"name": "cat", "by": "cat"},
    {"name": "age_band", "by": "age", "bins": [18, 30, 50, 80]},
    {
        "name": "young_a",
        "where": [{"column": "age", "op": "<", "value": 40}, {"column": "cat", "op": "in", "value": ["a"]}],
    },
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("same")
    ref, cur = folder / "reference.parquet", folder / "current.parquet"
    mixed_frame(N, 1).to_parquet(ref, index=False)
    mixed_frame(N, 2, shift=0.5).to_parquet(cur, index=False)
    return str(ref), str(cur)


@pytest.fixture(scope="module")
def pandas_tables(files):
    engine = make_engine("pandas")
    return engine.from_path(files[0], name="reference"), engine.from_path(files[1], name="current")


@pytest.fixture(scope="module", params=[p for p in engine_params() if p.id != "pandas"])
def tables(request, files):
    engine = make_engine(request.param)
    yield engine.from_path(files[0], name="reference"), engine.from_path(files[1], name="current")
    engine.close()


def assert_same(want, got, tol=lambda r: 1e-9):
    """Same checks, subjects, verdicts; values within `tol(result of the engine)`."""
    assert [(r.check, r.subject) for r in want] == [(r.check, r.subject) for r in got]
    for w, g in zip(want, got, strict=True):
        assert (w.passed, w.judged) == (g.passed, g.judged), (w.message, g.message)
        if w.value is None or g.value is None:
            assert w.value is g.value, (w.message, g.message)
            continue
        if math.isnan(w.value):
            assert math.isnan(g.value)
            continue
        assert abs(w.value - g.value) <= tol(g) + 1e-9 * max(1.0, abs(w.value)), (w.message, g.message)


@pytest.mark.parametrize("method", ["psi", "jensenshannon", "chi2"])
def test_binned_drift(method, pandas_tables, tables):
    spec = {"method": method, "max": 0.1, "bins": 10}
    want = feature_drift(*pandas_tables, FEATURES, numeric=spec, categorical=spec)
    got = feature_drift(*tables, FEATURES, numeric=spec, categorical=spec)
    assert_same(want, got)
    for w, g in zip(want, got, strict=True):  # the bins themselves, not only the statistic
        assert w.details.get("labels") == g.details.get("labels")
    drifted = {r.subject for r in want if not r.passed}
    assert "normal" in drifted and not {"city", "ints", "cat"} & drifted  # the seeded shift, only


def test_ks(pandas_tables, tables):
    spec = {"method": "ks", "max": 0.05}
    cat = {"method": "psi", "max": 0.1}
    want = feature_drift(*pandas_tables, FEATURES, numeric=spec, categorical=cat)
    got = feature_drift(*tables, FEATURES, numeric=spec, categorical=cat)
    bounds = [g.details.get("ks_bound", 0.0) for g in got if g.details.get("method") == "ks"]
    assert bounds and max(bounds) < 0.01  # the documented bound: about 1 / KS_GRID
    assert_same(want, got, tol=lambda g: g.details.get("ks_bound", 0.0))


def test_skew(pandas_tables, tables):
    assert_same(check_skew(*pandas_tables, FEATURES, 0.1), check_skew(*tables, FEATURES, 0.1))


def test_drift_by_cohort(pandas_tables, tables):
    spec = {"method": "psi", "max": 0.1}
    kw = {"numeric": spec, "categorical": spec, "min_rows": 500}
    want = drift_by_cohort(*pandas_tables, COHORTS, ["normal", "levels", "city"], **kw)
    got = drift_by_cohort(*tables, COHORTS, ["normal", "levels", "city"], **kw)
    assert len(want) > 20
    assert_same(want, got)


RULES = {
    "normal": {"min": -3.0, "max": 3.0, "not_null": True},
    "cat": {"values": ["a", "b", "c"], "not_null": True},
    "id": {"unique": True, "dtype": "int"},
    "ints": {"unique": True, "min": 0.0},
    "levels": {"values": [1.0, 2.0, 3.0]},
}


def test_column_rules(files, pandas_tables, tables):
    import pandas as pd

    frame = pd.read_parquet(files[0])
    today = check_column_rules(frame, RULES, "reference")  # the DataFrame path, as before engines
    want = check_column_rules(pandas_tables[0], RULES, "reference")
    got = check_column_rules(tables[0], RULES, "reference")
    assert [(r.check, r.passed, r.value) for r in today] == [(r.check, r.passed, r.value) for r in got]
    assert [r.message for r in want] == [r.message for r in got]
    assert {r.check for r in got if not r.passed} >= {"min", "max", "values", "not_null", "unique"}


def test_k_anonymity(files, pandas_tables, tables):
    import pandas as pd

    frame = pd.read_parquet(files[0])
    args = (["age", "cat", "city"], 40, {"age": [18.0, 30.0, 50.0, 70.0]})
    today = check_k_anonymity(frame, *args)
    want, got = check_k_anonymity(pandas_tables[0], *args), check_k_anonymity(tables[0], *args)
    keys = ("groups", "small_groups", "rows_in_small_groups")
    assert (today.passed, today.value) == (got.passed, got.value)
    assert [today.details[k] for k in keys] == [got.details[k] for k in keys]
    assert want.message == got.message and not got.passed


def test_pii_patterns(files, pandas_tables, tables):
    import pandas as pd

    frame = pd.read_parquet(files[0])
    patterns = ["email", "phone", "credit_card", "iban"]
    today = check_pii_patterns(frame, patterns)
    got = check_pii_patterns(tables[0], patterns)
    assert (
        today.details["found"]
        == got.details["found"]
        == check_pii_patterns(pandas_tables[0], patterns).details["found"]
    )
    assert set(got.details["found"]["contact"]) == {"phone", "credit_card", "iban"}
    assert (today.passed, today.value) == (got.passed, got.value)
