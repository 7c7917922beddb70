"""The typed result every check returns.

Generated tests assert `result.passed` with `result.message` as the failure text;
`mlprod evaluate`, the notebooks and the model card reuse the same numbers.
A NaN or missing measurement fails, never passes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class CheckResult:
    concern: str  # one of mlprod.CONCERNS
    check: str  # e.g. "recall_gap", "psi", "latency_p95"
    passed: bool
    message: str  # one human sentence, e.g. "recall gap across sex is 0.27 > 0.20 (female 0.55, male 0.82)"
    value: float | None = None  # the measured number
    limit: float | None = None  # the bound it was compared with
    subject: str | None = None  # the stage, cohort, column or file the check is about
    details: dict[str, Any] = field(default_factory=dict)  # per-group / per-column numbers
    judged: bool = True  # False when the check could not judge (too few rows): reported, not failed

    def __bool__(self) -> bool:
        return self.passed

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def is_missing(value: float | None) -> bool:
    """True for None or NaN: a measurement that did not happen."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def distinct(value: float, limit: float, fmt: str = ".3g") -> tuple[str, str]:
    """`value` and `limit` formatted with `fmt`, with more digits when that would show two
    different numbers as equal: never "0.30 > 0.30" or "1.2e+03 > 1.2e+03"."""
    a, b = f"{value:{fmt}}", f"{limit:{fmt}}"
    if a != b or value == limit or not (math.isfinite(value) and math.isfinite(limit)):
        return a, b
    for digits in range(4, 18):
        a, b = f"{value:.{digits}g}", f"{limit:.{digits}g}"
        if a != b:
            break
    return a, b


def _bounded(
    concern: str,
    check: str,
    value: float | None,
    limit: float,
    what: str,
    upper: bool,
    subject: str | None,
    details: dict[str, Any] | None,
    fmt: str,
) -> CheckResult:
    """`value <= limit` (upper) or `value >= limit`; a missing or NaN value fails."""
    if is_missing(value):
        message = f"{what} could not be measured (NaN or missing)"
        return CheckResult(concern, check, False, message, None, limit, subject, details or {})
    assert value is not None
    ok = value <= limit if upper else value >= limit
    rel = ("<=" if ok else ">") if upper else (">=" if ok else "<")
    shown, bound = distinct(value, limit, fmt)
    message = f"{what} is {shown} {rel} {bound}"
    return CheckResult(concern, check, ok, message, float(value), float(limit), subject, details or {})


def at_most(
    concern: str,
    check: str,
    value: float | None,
    limit: float,
    what: str,
    *,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
    fmt: str = ".3g",
) -> CheckResult:
    """`value <= limit`; a missing or NaN value fails."""
    return _bounded(concern, check, value, limit, what, True, subject, details, fmt)


def at_least(
    concern: str,
    check: str,
    value: float | None,
    limit: float,
    what: str,
    *,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
    fmt: str = ".3g",
) -> CheckResult:
    """`value >= limit`; a missing or NaN value fails."""
    return _bounded(concern, check, value, limit, what, False, subject, details, fmt)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return _jsonable(obj.item())
    return obj
