"""Cohort groupings: `by`, `by` + bins, structured `where` filters; no eval, NaN never matches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlprod.checks.cohorts import CohortError, UnknownColumnError, cohort_groups


@pytest.fixture
def df():
    return pd.DataFrame(
        {
            "sex": ["female", "male", "male", None, "female", "male"],
            "age": [17, 18, 25.5, 26, np.nan, 100],
            "housing": ["rent", "own", "rent", "rent", "own", "free"],
        }
    )


def test_by_makes_one_group_per_value_and_skips_missing(df):
    g = cohort_groups(df, {"name": "sex", "by": "sex"})
    assert g.labels == ["female", "male"]
    assert g.sizes == {"female": 2, "male": 3}
    assert g.codes.tolist() == [0, 1, 1, -1, 0, 1]
    assert g.mask("male").tolist() == (df["sex"] == "male").tolist()
    assert g.describe("male") == "sex=male"


def test_bins_are_left_closed_and_count_unbinned(df):
    g = cohort_groups(df, {"name": "age_band", "by": "age", "bins": [18, 26, 36, 51, 100]})
    assert g.labels == ["[18, 26)", "[26, 36)", "[36, 51)", "[51, 100)"]
    # 17 is below the first edge, 100 equals the last (open) edge, NaN is in no bin
    assert g.codes.tolist() == [-1, 0, 0, 1, -1, -1]
    assert g.unbinned == 3
    assert g.sizes == {"[18, 26)": 2, "[26, 36)": 1, "[36, 51)": 0, "[51, 100)": 0}
    expected = pd.cut(df["age"], [18, 26, 36, 51, 100], right=False).cat.codes.to_numpy()
    assert g.codes.tolist() == expected.tolist()


def test_where_is_the_cohort_against_the_rest(df):
    cohort = {
        "name": "young_renters",
        "where": [
            {"column": "age", "op": "<", "value": 26},
            {"column": "housing", "op": "==", "value": "rent"},
        ],
    }
    g = cohort_groups(df, cohort)
    assert g.labels == ["young_renters", "rest"]
    expected = ((df["age"] < 26) & (df["housing"] == "rent")).to_numpy()
    assert g.mask("young_renters").tolist() == expected.tolist()
    assert g.sizes == {"young_renters": int(expected.sum()), "rest": int((~expected).sum())}
    assert g.describe("rest") == "not young_renters"


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("==", "male", [False, True, True, False, False, True]),
        ("!=", "male", [True, False, False, False, True, False]),  # missing never matches
        ("in", ["female", "x"], [True, False, False, False, True, False]),
        ("not_in", ["female"], [False, True, True, False, False, True]),
    ],
)
def test_filter_ops_on_text_never_match_missing(df, op, value, expected):
    g = cohort_groups(df, {"name": "c", "where": [{"column": "sex", "op": op, "value": value}]})
    assert g.mask("c").tolist() == expected


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
def test_numeric_ops_match_pandas_and_exclude_nan(df, op):
    g = cohort_groups(df, {"name": "c", "where": [{"column": "age", "op": op, "value": 26}]})
    expected = df["age"].notna() & eval(f"df['age'] {op} 26")  # reference only, in the test
    assert g.mask("c").tolist() == expected.tolist()


def test_empty_cohort_is_reported_with_size_zero(df):
    g = cohort_groups(df, {"name": "nobody", "where": [{"column": "age", "op": ">", "value": 1000}]})
    assert g.sizes == {"nobody": 0, "rest": len(df)}


def test_unknown_column_names_available_ones_and_suggests(df):
    with pytest.raises(UnknownColumnError) as exc:
        cohort_groups(df, {"name": "s", "by": "sexx"})
    msg = str(exc.value)
    assert "'sexx'" in msg and "did you mean 'sex'" in msg and "housing" in msg
    assert isinstance(exc.value, ValueError)
    with pytest.raises(UnknownColumnError, match="'nope'"):
        cohort_groups(df, {"name": "w", "where": [{"column": "nope", "op": "==", "value": 1}]})


def test_bad_inputs_are_cohort_errors(df):
    with pytest.raises(CohortError, match="numeric"):
        cohort_groups(df, {"name": "b", "by": "sex", "bins": [0, 1]})
    with pytest.raises(CohortError, match="cannot compare"):
        cohort_groups(df, {"name": "w", "where": [{"column": "sex", "op": "<", "value": 3}]})
    with pytest.raises(CohortError, match="by` or `where"):
        cohort_groups(df, {"name": "x"})


def test_filter_values_are_data_not_code(df):
    evil = "__import__('os').system('false')"
    g = cohort_groups(df, {"name": "c", "where": [{"column": "housing", "op": "==", "value": evil}]})
    assert g.sizes["c"] == 0


def test_mask_of_unknown_label_raises(df):
    g = cohort_groups(df, {"name": "sex", "by": "sex"})
    with pytest.raises(KeyError, match="no group"):
        g.mask("other")


def test_equality_between_text_and_numbers_is_refused_not_an_empty_cohort():
    frame = pd.DataFrame({"age": [20, 30, 40], "code": ["1", "2", "3"], "fw": ["yes", "no", "yes"]})
    with pytest.raises(CohortError, match=r"column age holds numbers, so == '20' matches no row"):
        cohort_groups(frame, {"name": "c", "where": [{"column": "age", "op": "==", "value": "20"}]})
    with pytest.raises(CohortError, match=r"column code holds text, so in 1 matches no row: quote it"):
        cohort_groups(frame, {"name": "c", "where": [{"column": "code", "op": "in", "value": [1, 2]}]})
    ok = cohort_groups(frame, {"name": "c", "where": [{"column": "fw", "op": "!=", "value": "no"}]})
    assert ok.sizes == {"c": 2, "rest": 1}
