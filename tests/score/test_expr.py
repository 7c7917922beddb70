"""GitHub conditions evaluated as far as they are constant (mlprod/score/expr.py)."""

from __future__ import annotations

import pytest

from mlprod.score.expr import truth


@pytest.mark.parametrize(
    ("value", "context", "expected"),
    [
        (False, {}, False),
        ("${{ false }}", {}, False),
        ("${{ false && github.ref }}", {}, False),  # `&&` returns its falsy left side
        ("github.ref && false", {}, False),  # whatever github.ref is, the result is falsy
        ("${{ true || github.ref }}", {}, True),
        ("github.ref || true", {}, True),
        ("${{ 1 == 2 }}", {}, False),
        ("'ABC' == 'abc'", {}, True),  # strings compare case-insensitively
        ("'1' == 1", {}, True),  # a number and a string compare as numbers
        ("!(true)", {}, False),
        ("'false'", {}, True),  # a non-empty string is truthy
        ("''", {}, False),
        ("success() && false", {}, False),
        ("github.event_name == 'push'", {"github.event_name": "PUSH"}, True),
        # what depends on the run is unknown
        ("github.event_name == 'push'", {}, None),
        ("${{ !cancelled() }}", {}, None),
        ("matrix.experimental", {}, None),
        ("github.ref && true", {}, None),
        ("x ${{ false }}", {}, None),
        (None, {}, None),
        ("${{ (false }}", {}, None),  # not an expression we can read
    ],
)
def test_a_condition_is_constant_only_when_the_run_cannot_change_it(value, context, expected):
    assert truth(value, context) is expected
