"""CheckResult helpers: bounds and the numbers their messages show."""

from __future__ import annotations

from mlprod.checks.results import at_least, at_most, distinct


def test_distinct_adds_digits_only_when_the_rounded_numbers_look_equal():
    assert distinct(0.31, 0.3, ".2f") == ("0.31", "0.30")
    assert distinct(0.3, 0.3, ".2f") == ("0.30", "0.30")
    assert distinct(0.3000004, 0.3, ".2f") == ("0.3000004", "0.3")
    assert distinct(1234.5, 1234.0) == ("1234.5", "1234")


def test_a_failed_bound_never_reads_like_equal_numbers():
    res = at_most("bias", "psi", 0.2004, 0.2, "PSI")
    assert not res.passed and res.message == "PSI is 0.2004 > 0.2"
    res = at_least("baseline", "auc", 0.69996, 0.7, "AUC", fmt=".2f")
    assert not res.passed and res.message == "AUC is 0.69996 < 0.7"
    assert at_most("x", "y", 0.1, 0.2, "v").message == "v is 0.1 <= 0.2"
