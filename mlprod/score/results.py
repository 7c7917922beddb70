"""Run evidence: JUnit files (`--results`, repeatable) and the last run record.

A results file proves a run of the current suite only when it carries the suite's
fingerprint (recorded by the generated conftest); a file of another suite, or with no
fingerprint, is refused as evidence with a one-line reason, never silently counted. The
failures of every file the user names still count: a failure is never hidden, whatever
suite it came from. Several files are one run: the union of their tests by node id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlprod import CONCERNS
from mlprod.errors import UsageError

RUN_RECORD = ".mlprod/last-run.json"  # mlprod.checks.runrecord.RUN_RECORD_PATH (no import: it is the runtime)
_RANK = {"error": 3, "failed": 3, "passed": 2, "skipped": 1}


@dataclass
class TestResult:
    """One test as a run reported it."""

    nodeid: str
    concern: str | None
    outcome: str  # passed, failed, error, skipped
    judged: bool
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome in ("failed", "error")


@dataclass
class ResultsFile:
    """One source of run evidence as read."""

    source: str
    fingerprint: str | None
    tests: list[TestResult]
    explicit: bool  # named with --results (its failures always count)
    commit: str | None = None
    dirty: bool | None = None


@dataclass
class TestCounts:
    """A concern's outcomes in the results."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)  # node ids of failed tests

    @property
    def ran(self) -> int:
        return self.passed + self.failed

    def as_dict(self) -> dict[str, int]:
        return {"passed": self.passed, "failed": self.failed, "skipped": self.skipped}

    def add(self, test: TestResult) -> None:
        if test.failed:
            self.failed += 1
            self.failures.append(test.nodeid)
        elif test.outcome == "skipped":
            self.skipped += 1
        else:
            self.passed += 1


@dataclass
class RunEvidence:
    """What the results prove (`accepted`) and what they report (`counts`)."""

    given: bool  # --results given, or a run record found
    accepted: dict[str, TestResult] = field(default_factory=dict)  # node id -> test, current suite only
    proven: bool = False  # at least one source is a run of the current suite
    refusals: list[str] = field(default_factory=list)
    counts: dict[str, TestCounts] = field(default_factory=dict)
    unmapped: TestCounts = field(default_factory=TestCounts)
    notes: list[str] = field(default_factory=list)

    @property
    def failing(self) -> int:
        return sum(c.failed for c in self.counts.values()) + self.unmapped.failed


# --- JUnit -----------------------------------------------------------------------------

_CONCERN_IN_NAME = re.compile(r"test_(" + "|".join(CONCERNS) + r")(?![A-Za-z0-9_])")


def _props(elem: Any) -> dict[str, str]:
    found = elem.find("properties")
    if found is None:
        return {}
    return {p.get("name", ""): p.get("value", "") for p in found.iter("property")}


def _case_concern(case: Any, props: dict[str, str]) -> str | None:
    if "mlprod_concern" in props:
        value = props["mlprod_concern"]
        return value if value in CONCERNS else None
    # a collection error has no classname; its name is the module (`tests.mlprod.test_bias`)
    attrs = ("file", "classname") if case.get("classname") else ("file", "name")
    for attr in attrs:
        match = _CONCERN_IN_NAME.search(case.get(attr) or "")
        if match:
            return match.group(1)
    return None


def _case_nodeid(case: Any, props: dict[str, str]) -> str:
    if props.get("mlprod_nodeid"):
        return props["mlprod_nodeid"]
    classname, name = case.get("classname") or "", case.get("name") or ""
    if not classname:
        return name
    return f"{classname.replace('.', '/')}.py::{name}"


def _case_result(case: Any) -> TestResult:
    props = _props(case)
    outcome, message = "passed", ""
    for tag in ("failure", "error", "skipped"):
        found = case.find(tag)
        if found is not None:
            outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
            message = found.get("message") or (found.text or "").strip()
            break
    judged = outcome in ("passed", "failed") and props.get("mlprod_judged", "true") != "false"
    return TestResult(_case_nodeid(case, props), _case_concern(case, props), outcome, judged, message)


def read_junit(path: Path) -> ResultsFile:
    """A pytest JUnit XML file, streamed; `UsageError` when missing or not JUnit."""
    import xml.etree.ElementTree as ET

    tests: list[TestResult] = []
    suite: dict[str, str] = {}
    stack: list[Any] = []
    try:
        for event, elem in ET.iterparse(path, events=("start", "end")):
            if event == "start":
                if not stack and elem.tag not in ("testsuites", "testsuite"):
                    raise UsageError(f"results file {path} is not JUnit XML (root element <{elem.tag}>)")
                stack.append(elem)
                continue
            stack.pop()
            if elem.tag == "testsuite":
                suite.update(_props(elem))
            if elem.tag != "testcase":
                continue
            tests.append(_case_result(elem))
            if stack:  # drop the finished case: memory stays flat
                stack[-1].remove(elem)
    except FileNotFoundError:
        raise UsageError(
            f"results file {path} not found", hint="run pytest with --junitxml=PATH first"
        ) from None
    except (OSError, ET.ParseError) as exc:
        raise UsageError(f"results file {path} is not readable JUnit XML: {exc}") from None
    dirty = suite.get("mlprod_dirty")
    return ResultsFile(
        source=str(path),
        fingerprint=suite.get("mlprod_fingerprint") or None,
        tests=tests,
        explicit=True,
        commit=suite.get("mlprod_commit") or None,
        dirty=None if dirty is None else dirty == "true",
    )


def read_record(path: Path, display: str) -> ResultsFile | str:
    """The run record at `path`, or why it cannot be read."""
    from mlprod.checks.runrecord import RunRecordError, read_run_record

    try:
        data = read_run_record(path)
    except RunRecordError as exc:
        return f"{display} is not usable: {str(exc).removeprefix(f'{path}: ')}"
    tests = [
        TestResult(
            str(t["nodeid"]),
            t.get("concern") if t.get("concern") in CONCERNS else None,
            str(t["outcome"]),
            bool(t["judged"]) and t["outcome"] in ("passed", "failed"),
            str(t.get("message") or ""),
        )
        for t in data["tests"]
    ]
    return ResultsFile(display, data["fingerprint"], tests, explicit=False, commit=data.get("commit"))


# --- the union -------------------------------------------------------------------------


def _short(fingerprint: str) -> str:
    return fingerprint[:8] + "..."


def _merge(into: dict[str, TestResult], tests: list[TestResult]) -> None:
    """The union by node id: a failure wins over a pass, a pass over a skip."""
    for test in tests:
        old = into.get(test.nodeid)
        if old is None or _RANK[test.outcome] > _RANK[old.outcome]:
            into[test.nodeid] = TestResult(
                **{**test.__dict__, "judged": test.judged or bool(old and old.judged)}
            )
        elif test.judged and not old.judged:
            old.judged = True


def gather(results: list[Path], root: Path, fingerprint: str) -> RunEvidence:
    """The run evidence of `--results` files, else of the last run record."""
    files: list[ResultsFile] = [read_junit(p) for p in results]
    evidence = RunEvidence(given=bool(files))
    if not files:
        record = root / RUN_RECORD
        if not record.is_file():
            return evidence
        read = read_record(record, RUN_RECORD)
        if isinstance(read, str):
            evidence.refusals.append(read)
            return evidence
        files = [read]
        evidence.given = True
    counted: dict[str, TestResult] = {}
    for f in files:
        if f.fingerprint is None:
            evidence.refusals.append(f"{f.source}: not a run of the generated suite (no mlprod_fingerprint)")
        elif not fingerprint or f.fingerprint != fingerprint:
            ours = _short(fingerprint) if fingerprint else "none: nothing generated"
            evidence.refusals.append(
                f"{f.source}: results of another suite (fingerprint {_short(f.fingerprint)} vs {ours})"
            )
        else:
            evidence.proven = True
            _merge(evidence.accepted, f.tests)
            if f.dirty:
                evidence.notes.append(f"{f.source}: the run was of a commit with uncommitted changes")
        if f.explicit or f.fingerprint == fingerprint:
            _merge(counted, f.tests)
    for test in counted.values():
        (
            evidence.unmapped
            if test.concern is None
            else evidence.counts.setdefault(test.concern, TestCounts())
        ).add(test)
    return evidence
