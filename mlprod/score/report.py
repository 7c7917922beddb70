"""The score as data: one row per concern, the totals, the notes said once, the gate.

`ScoreReport.as_dict` is the documented, stable JSON form (docs/score.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mlprod import CONCERN_TITLES, CONCERNS

from .results import TestCounts

MAX_LEVEL = 2
MAX_TOTAL = MAX_LEVEL * len(CONCERNS)
TITLES = CONCERN_TITLES

#: (lowest total, interpretation), highest first; see docs/score.md.
INTERPRETATIONS: tuple[tuple[int, str], ...] = (
    (18, "exceptional: the concerns are tested automatically, versioned and run in CI"),
    (14, "production-grade: most concerns are automated; close the remaining gaps"),
    (10, "a reasonable start: the basics are checked, but much still relies on people"),
    (5, "early: a few checks exist, mostly by hand; not yet safe to rely on in production"),
    (0, "more of a research project than a production system"),
)


def interpret(total: int, failing: int = 0) -> str:
    """One line on what a total means; never a word of praise beside a failing test."""
    if failing:
        tests = "1 test is" if failing == 1 else f"{failing} tests are"
        return f"{tests} failing: the practice is in place, but the checks fail; fix them first"
    return next(text for low, text in INTERPRETATIONS if total >= low)


@dataclass
class ConcernScore:
    """One rubric row."""

    id: str
    title: str
    level: int
    why: str = ""  # why it is not 2; "" when it is
    fix: str = ""  # the command or edit that raises it; "" when it is 2
    tests: TestCounts | None = None  # None when there is no run evidence

    @property
    def failing(self) -> int:
        return self.tests.failed if self.tests is not None else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "level": self.level,
            "why": self.why,
            "fix": self.fix,
            "tests": self.tests.as_dict() if self.tests is not None else None,
            "failures": list(self.tests.failures) if self.tests is not None else [],
            "failing": self.failing,
        }


@dataclass
class ScoreReport:
    """The whole score: rows, totals, notes and the gate."""

    concerns: list[ConcernScore]
    min_total: int
    min_each: int
    project: str = ""
    today: date | None = None
    results_given: bool = False
    unmapped_tests: int = 0
    unmapped_failures: list[str] = field(default_factory=list)  # failed tests of no concern
    notes: list[str] = field(default_factory=list)  # problems said once, above the rows
    gate_failures: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(c.level for c in self.concerns)

    @property
    def max(self) -> int:
        return MAX_TOTAL

    @property
    def weakest_level(self) -> int:
        return min(c.level for c in self.concerns)

    @property
    def weakest(self) -> list[str]:
        return [c.id for c in self.concerns if c.level == self.weakest_level]

    @property
    def failing(self) -> int:
        """Failed tests: of every concern, plus those that map to no concern."""
        return sum(c.failing for c in self.concerns) + len(self.unmapped_failures)

    failed_tests = failing

    @property
    def passed(self) -> bool:
        return not self.gate_failures

    @property
    def interpretation(self) -> str:
        return interpret(self.total, self.failing)

    @property
    def total_text(self) -> str:
        """`20/20`, or `20/20, 3 tests failing`."""
        text = f"{self.total}/{self.max}"
        if self.failing:
            text += f", {self.failing} test{'s' if self.failing != 1 else ''} failing"
        return text

    def as_dict(self) -> dict[str, Any]:
        """The documented, stable JSON form (docs/score.md)."""
        return {
            "project": self.project,
            "today": self.today.isoformat() if self.today else None,
            "total": self.total,
            "max": self.max,
            "failing": self.failing,
            "weakest": self.weakest,
            "weakest_level": self.weakest_level,
            "passed": self.passed,
            "interpretation": self.interpretation,
            "min_total": self.min_total,
            "min_each": self.min_each,
            "gate_failures": list(self.gate_failures),
            "notes": list(self.notes),
            "unmapped_tests": self.unmapped_tests if self.results_given else None,
            "concerns": [c.as_dict() for c in self.concerns],
        }


def gate(report: ScoreReport) -> list[str]:
    """Why the score fails the bar (empty when it passes)."""
    out: list[str] = []
    if report.total < report.min_total:
        out.append(f"total {report.total} is below the minimum {report.min_total}")
    low = [c.id for c in report.concerns if c.level < report.min_each]
    if low:
        out.append(f"{', '.join(low)} below the minimum level {report.min_each}")
    failed = [f"{c.id} ({c.failing})" for c in report.concerns if c.failing]
    if failed:
        out.append(f"failed tests: {', '.join(failed)}")
    if report.unmapped_failures:  # any failure fails the gate, even of a test of no concern
        names = ", ".join(report.unmapped_failures[:3])
        more = f" and {len(report.unmapped_failures) - 3} more" if len(report.unmapped_failures) > 3 else ""
        out.append(f"failed tests of no concern: {names}{more}")
    return out
