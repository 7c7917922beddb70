"""Not judged is a skip: checks with nothing to judge return judged=False, and `ensure` skips.

Each case builds the situation with nothing to judge (no group large enough, no text
column, no expected feature, a cohort with no groups) and asserts the results say so;
`ensure` then turns them into a pytest skip naming the reasons, never a pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlprod.checks.cohorts import cohort_groups
from mlprod.checks.drift import drift_by_cohort
from mlprod.checks.explainability import check_expected_top
from mlprod.checks.fairness import (
    check_demographic_parity,
    check_equalized_odds,
    check_max_gap,
    check_min,
    cohort_report,
)
from mlprod.checks.privacy import check_pii_patterns
from mlprod.checks.project_checks import CheckFailure, ensure
from mlprod.checks.results import CheckResult

NUM = {"method": "psi", "max": 0.2, "bins": 10}
CAT = {"method": "psi", "max": 0.2}


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 120
    return pd.DataFrame(
        {
            "sex": rng.choice(["female", "male"], n),
            "amount": rng.normal(size=n),
            "y": rng.integers(0, 2, n),
            "s": rng.random(n),
        }
    )


def _skip_reason(*results: CheckResult | list[CheckResult]) -> str:
    with pytest.raises(pytest.skip.Exception) as info:
        ensure(*results)
    return str(info.value)


def test_cohort_drift_with_no_group_reaching_min_rows_is_not_judged(frame: pd.DataFrame) -> None:
    res = drift_by_cohort(
        frame, frame, [{"name": "sex", "by": "sex"}], ["amount"], numeric=NUM, categorical=CAT, min_rows=500
    )
    assert res and all(not r.judged and r.passed for r in res)
    reason = _skip_reason(res)
    assert "nothing to judge" in reason and "500 needed on both" in reason


def test_cohort_drift_of_a_cohort_with_no_groups_is_not_judged(frame: pd.DataFrame) -> None:
    empty = frame.iloc[:0]
    res = drift_by_cohort(
        empty, empty, [{"name": "sex", "by": "sex"}], ["amount"], numeric=NUM, categorical=CAT, min_rows=10
    )
    assert [r.judged for r in res] == [False]
    assert "no groups" in _skip_reason(res)


def test_fairness_with_every_group_below_min_cohort_rows_is_not_judged(frame: pd.DataFrame) -> None:
    groups = cohort_groups(frame, {"name": "sex", "by": "sex"})
    report = cohort_report(frame["y"], frame["s"], groups, ["recall"], threshold=0.5, min_rows=1000)
    results = [
        check_max_gap(report, "recall", 0.1, cohort="sex"),
        *check_min(report, "recall", 0.9, cohort="sex"),
        check_demographic_parity(frame["y"], frame["s"], groups, 0.01, min_rows=1000),
        check_equalized_odds(frame["y"], frame["s"], groups, 0.01, min_rows=1000),
    ]
    assert all(not r.judged and r.passed for r in results)
    for r in results:
        assert "nothing to judge" in _skip_reason(r)


def test_pii_patterns_with_no_text_column_are_not_judged() -> None:
    res = check_pii_patterns(pd.DataFrame({"x": [1, 2, 3]}), ["email"], subject="data set current")
    assert not res.judged and res.passed and "no text or date column" in res.message
    hit = check_pii_patterns(pd.DataFrame({"x": ["a@b.example"]}), ["email"])
    assert hit.judged and not hit.passed


def test_expected_top_with_no_expected_feature_is_not_judged() -> None:
    res = check_expected_top({"a": 1.0, "b": 0.5}, [], 1)
    assert not res.judged and "not judged" in res.message
    assert check_expected_top({"a": 1.0, "b": 0.5}, ["a"], 1).judged


def test_ensure_fails_on_any_failure_even_beside_unjudged_results() -> None:
    bad = CheckResult("bias", "x", False, "recall gap 0.5 > 0.2")
    idle = CheckResult("bias", "x", True, "group too small", judged=False)
    with pytest.raises(CheckFailure, match="recall gap"):
        ensure(idle, bad)


def test_ensure_passes_when_one_result_judged() -> None:
    ensure(CheckResult("bias", "x", True, "small", judged=False), CheckResult("bias", "x", True, "ok"))


def test_ensure_skips_with_every_reason_once_and_skips_an_empty_run() -> None:
    idle = CheckResult("bias", "x", True, "group a too small", judged=False)
    other = CheckResult("bias", "x", True, "group b too small", judged=False)
    assert _skip_reason(idle, [idle, other]) == "nothing to judge: group a too small; group b too small"
    assert _skip_reason([]) == "nothing to judge: no check ran"
