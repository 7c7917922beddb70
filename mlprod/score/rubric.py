"""The rubric behind `mlprod score`: a level 0/1/2 per concern, from evidence.

- 0: no check in place (no section; a manual section without a valid signoff; an
  automated section with nothing generated for it).
- 1: checked by hand (a manual section with a fresh signoff), or automated checks that
  are not all of current, committed and run in CI, or only a monitoring notebook.
- 2: generated tests that match the current spec, are committed to git and that a CI
  config runs; with `--results`, they also ran (not all skipped).

The rules are documented in docs/score.md; `score_project` is the whole API.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from mlprod import CONCERNS

from .evidence import (
    MANIFEST,
    CIConfig,
    GitState,
    Manifest,
    ManifestFile,
    TestCounts,
    file_state,
    find_ci,
    read_git,
    read_manifest,
    read_results_detail,
)

MAX_LEVEL = 2
MAX_TOTAL = MAX_LEVEL * len(CONCERNS)

TITLES: dict[str, str] = {
    "pipeline": "whole-pipeline testing",
    "determinism": "determinism after deployment",
    "infrastructure": "infrastructure",
    "bias": "implicit bias and input drift",
    "release": "CI/CD, versioning, release plan",
    "privacy": "privacy, compliance, impact matrix",
    "baseline": "production model vs baseline",
    "reproducibility": "reproducibility",
    "explainability": "explainability",
    "collaboration": "collaboration and regression",
}

#: Spec section(s) per concern, for messages ("add a `fairness` or `drift` section").
SECTIONS: dict[str, tuple[str, ...]] = {c: (c,) for c in CONCERNS} | {"bias": ("fairness", "drift")}

#: Monitoring notebooks (in outputs.notebooks) and the concern each covers by hand.
NOTEBOOKS: dict[str, str] = {
    "drift.ipynb": "bias",
    "bias.ipynb": "bias",
    "infrastructure.ipynb": "infrastructure",
    "baseline.ipynb": "baseline",
}

#: (lowest total, interpretation), highest first; see docs/score.md.
INTERPRETATIONS: tuple[tuple[int, str], ...] = (
    (18, "exceptional: the concerns are tested automatically, versioned and run in CI"),
    (14, "production-grade: most concerns are automated; close the remaining gaps"),
    (10, "a reasonable start: the basics are checked, but much still relies on people"),
    (5, "early: a few checks exist, mostly by hand; not yet safe to rely on in production"),
    (0, "more of a research project than a production system"),
)


def interpret(total: int) -> str:
    """One line on what a total means, in the spirit of the ML Test Score's table."""
    return next(text for low, text in INTERPRETATIONS if total >= low)


@dataclass
class ConcernScore:
    """One rubric row."""

    id: str
    title: str
    level: int
    why: str = ""  # why it is not 2; "" when it is
    fix: str = ""  # the command or edit that raises it; "" when it is 2
    tests: TestCounts | None = None  # None when no results were given

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "level": self.level,
            "why": self.why,
            "fix": self.fix,
            "tests": self.tests.as_dict() if self.tests is not None else None,
            "failures": list(self.tests.failures) if self.tests is not None else [],
        }


@dataclass
class ScoreReport:
    """The whole score: rows, totals and the gate."""

    concerns: list[ConcernScore]
    min_total: int
    min_each: int
    project: str = ""
    today: date | None = None
    results_given: bool = False
    unmapped_tests: int = 0
    unmapped_failures: list[str] = field(default_factory=list)  # failed cases of no concern
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
    def failed_tests(self) -> int:
        return sum(c.tests.failed for c in self.concerns if c.tests is not None)

    @property
    def passed(self) -> bool:
        return not self.gate_failures

    @property
    def interpretation(self) -> str:
        return interpret(self.total)

    def as_dict(self) -> dict[str, Any]:
        """The documented, stable JSON form (docs/score.md)."""
        return {
            "project": self.project,
            "today": self.today.isoformat() if self.today else None,
            "total": self.total,
            "max": self.max,
            "weakest": self.weakest,
            "weakest_level": self.weakest_level,
            "passed": self.passed,
            "interpretation": self.interpretation,
            "min_total": self.min_total,
            "min_each": self.min_each,
            "gate_failures": list(self.gate_failures),
            "unmapped_tests": self.unmapped_tests if self.results_given else None,
            "concerns": [c.as_dict() for c in self.concerns],
        }


# --- per-concern rules ---------------------------------------------------------------


@dataclass
class _Evidence:
    """Everything the rules read, gathered once per project."""

    root: Path
    spec: Any  # mlprod.schema.models.Spec
    spec_sha256: str
    spec_name: str  # the spec file relative to the root ("mlprod.yaml")
    today: date
    manifest: Manifest | None
    git: GitState
    ci: list[CIConfig]
    results: dict[str, TestCounts] | None


def _section_names(concern: str, spec: Any) -> list[str]:
    return [name for name in SECTIONS[concern] if getattr(spec, name) is not None]


def _signoff_problem(name: str, section: Any, ev: _Evidence) -> str:
    """'' when the manual section carries a fresh signoff, else why not."""
    max_age = ev.spec.score.signoff_max_age_days
    signoff = section.signoff
    if signoff is None:
        return f"{name} is manual and has no signoff"
    signed = date.fromisoformat(str(signoff.on))
    if signed > ev.today:
        return f"the signoff of {name} is dated {signed}, in the future (today is {ev.today})"
    age = (ev.today - signed).days
    if age > max_age:
        return f"the signoff of {name} is {age} days old (limit {max_age})"
    return ""


def _manual(concern: str, names: list[str], ev: _Evidence) -> ConcernScore:
    problems = [p for n in names if (p := _signoff_problem(n, getattr(ev.spec, n), ev))]
    title = TITLES[concern]
    today = ev.today.isoformat()
    if problems:
        fix = f'check {" and ".join(names)} by hand and add `signoff: {{by: NAME, on: "{today}"}}`'
        return ConcernScore(concern, title, 0, "; ".join(problems), fix)
    return ConcernScore(
        concern,
        title,
        1,
        f"{' and '.join(names)} is checked by hand (mode: manual), not by automated tests",
        f"set `mode: automated` on {' and '.join(names)} and run `mlprod generate`",
    )


def _is_test(entry: ManifestFile, tests_dir: str) -> bool:
    name = entry.path.rsplit("/", 1)[-1]
    return (
        entry.path.startswith(tests_dir.rstrip("/") + "/")
        and name.startswith("test_")
        and name.endswith(".py")
    )


def _shared_tests(ev: _Evidence) -> list[ManifestFile]:
    """Generated files of the tests folder that belong to no concern (the conftest): every
    concern's tests depend on them."""
    if ev.manifest is None:
        return []
    folder = ev.spec.outputs.tests.rstrip("/") + "/"
    return [f for f in ev.manifest.files if f.concern is None and f.path.startswith(folder)]


def _notebooks(concern: str, ev: _Evidence) -> list[str]:
    folder = ev.spec.outputs.notebooks.rstrip("/")
    found = {
        f.path for f in (ev.manifest.for_concern(concern) if ev.manifest else []) if f.path.endswith(".ipynb")
    }
    found |= {
        f"{folder}/{n}" for n, c in NOTEBOOKS.items() if c == concern and (ev.root / folder / n).is_file()
    }
    return sorted(p for p in found if (ev.root / p).is_file())


def _automated(concern: str, ev: _Evidence) -> ConcernScore:
    title = TITLES[concern]
    tests_dir = ev.spec.outputs.tests
    entries = ev.manifest.for_concern(concern) if ev.manifest else []
    tests = [e for e in entries if _is_test(e, tests_dir)]
    counts = None if ev.results is None else ev.results.get(concern, TestCounts())
    if not tests:
        notebooks = _notebooks(concern, ev)
        others = [e.path for e in entries if (ev.root / e.path).is_file()]
        if notebooks or others:
            covered = ", ".join(notebooks or others)
            why = f"no generated tests; only {covered} covers it"
            return ConcernScore(concern, title, 1, why, "run `mlprod generate` and commit the tests", counts)
        why = "nothing is generated for it"
        if ev.manifest is not None and ev.manifest.problem:
            why = ev.manifest.problem
        elif ev.manifest is None:
            why = "nothing is generated for it (no .mlprod/manifest.json)"
        return ConcernScore(
            concern, title, 0, why, "run `mlprod generate` and commit the generated files", counts
        )

    whys: list[str] = []
    fixes: list[str] = []
    # current: the spec did not change since generation and the files are as written
    stale = ev.manifest is not None and ev.manifest.spec_sha256 != ev.spec_sha256
    states = {e.path: file_state(ev.root, e) for e in [*entries, *_shared_tests(ev)]}
    missing = sorted(p for p, s in states.items() if s == "missing")
    edited = sorted(p for p, s in states.items() if s == "edited")
    if stale:
        whys.append("mlprod.yaml changed since the files were generated")
    if missing:
        whys.append(f"generated file(s) missing: {', '.join(missing)}")
    if edited:
        whys.append(f"generated file(s) edited by hand: {', '.join(edited)}")
    if stale or missing or edited:
        force = " --force" if edited else ""
        fixes.append(f"run `mlprod generate{force}` and commit the result")
    # committed
    present = sorted(p for p, s in states.items() if s != "missing")
    to_commit: list[str] = []
    if not ev.git.available:
        whys.append(f"level 2 needs git: {ev.git.reason}")
        fixes.append(
            "run `git init` and commit the project" if "not inside" in ev.git.reason else "install git"
        )
    else:
        # the spec and the manifest are the evidence that the files match: versioned too
        evidence = [ev.spec_name, MANIFEST]
        uncommitted = [p for p in [*present, *evidence] if not ev.git.committed(p)]
        if uncommitted:
            whys.append(f"not committed: {', '.join(uncommitted)}")
            to_commit += uncommitted
    # run by CI: every generated test file of the concern is collected by an enabled job
    prefix = ev.git.prefix if ev.git.toplevel is not None else ""
    top_tests = prefix + tests_dir.rstrip("/")
    runners = {e.path: [c for c in ev.ci if c.covers(prefix + e.path, top_tests)] for e in tests}
    not_run = sorted(p for p, configs in runners.items() if not configs)
    if not_run:
        if ev.ci:
            generated = ev.manifest.files if ev.manifest is not None else ()
            some = any(c.covers(prefix + f.path, top_tests) for c in ev.ci for f in generated)
            what = ", ".join(not_run) if some else f"pytest over {tests_dir}"
            names = "; ".join(f"{c.name} ({c.note})" if c.note else c.name for c in ev.ci)
            whys.append(f"no CI config runs {what} ({names} do not)")
        else:
            whys.append(f"no CI config runs {tests_dir} (no .github/workflows or .gitlab-ci.yml)")
        fixes.append(
            "add a CI config (set `release.ci.providers` and run `mlprod generate`,"
            f" or run `pytest {top_tests}` in CI) and commit it"
        )
    elif ev.git.available and not all(any(c.tracked for c in cs) for cs in runners.values()):
        untracked = list(dict.fromkeys(c for cs in runners.values() for c in cs if not c.tracked))
        whys.append(f"the CI config is not committed: {', '.join(c.name for c in untracked)}")
        to_commit += [os.path.relpath(c.path, ev.root) for c in untracked]
    if to_commit and not (stale or missing or edited):  # else "commit the result" covers it
        fixes.append(f"`git add {' '.join(dict.fromkeys(to_commit))}` and commit")
    if whys:
        return ConcernScore(concern, title, 1, "; ".join(whys), "; then ".join(fixes), counts)
    # with results: the tests must have run
    if counts is not None and counts.ran == 0:
        if counts.skipped:
            why = f"all {counts.skipped} {concern} tests were skipped in the results"
            fix = f"make the skipped tests run (see the skip reasons in `pytest {tests_dir} -rs`)"
        else:
            why = f"no {concern} test is in the results"
            fix = f"run `pytest {tests_dir} --junitxml=results.xml` and pass that file"
        return ConcernScore(concern, title, 1, why, fix, counts)
    return ConcernScore(concern, title, 2, "", "", counts)


def score_concern(concern: str, ev: _Evidence) -> ConcernScore:
    """The level of one concern, with why it is not 2 and how to raise it."""
    names = _section_names(concern, ev.spec)
    if not names:
        sections = " or ".join(f"`{n}`" for n in SECTIONS[concern])
        counts = None if ev.results is None else ev.results.get(concern, TestCounts())
        return ConcernScore(
            concern,
            TITLES[concern],
            0,
            "no section in mlprod.yaml",
            f"add a {sections} section to mlprod.yaml and run `mlprod generate`",
            counts,
        )
    manual = [n for n in names if getattr(ev.spec, n).mode == "manual"]
    if len(manual) == len(names):
        row = _manual(concern, names, ev)
        if ev.results is not None:
            row.tests = ev.results.get(concern, TestCounts())
        return row
    row = _automated(concern, ev)
    if manual:  # a concern split between automated and manual sections (bias)
        hand = _manual(concern, manual, ev)
        if row.level == 0:
            hand.tests = row.tests
            return hand
        if row.level == 2:
            row.level = 1
            row.why = f"{' and '.join(manual)} is manual"
            row.fix = f"set `mode: automated` on {' and '.join(manual)} and run `mlprod generate`"
    return row


def score_project(
    spec_path: Path,
    *,
    results: Path | None,
    today: date,
    min_total: int | None = None,
    min_each: int | None = None,
) -> ScoreReport:
    """Score the project whose spec is at `spec_path`.

    Raises `SpecError`/`SpecNotFound` for an invalid or missing spec and `UsageError` for
    a missing or unreadable results file.
    """
    from mlprod.schema import load_spec

    loaded = load_spec(spec_path)
    spec = loaded.spec
    root = loaded.root
    counts, unmapped = read_results_detail(results) if results is not None else (None, TestCounts())
    git = read_git(root)
    ev = _Evidence(
        root=root,
        spec=spec,
        spec_sha256=loaded.sha256,
        spec_name=_relative(loaded.path, root),
        today=today,
        manifest=read_manifest(root),
        git=git,
        ci=find_ci(root, git),
        results=counts,
    )
    rows = [score_concern(c, ev) for c in CONCERNS]
    report = ScoreReport(
        concerns=rows,
        min_total=spec.score.min_total if min_total is None else min_total,
        min_each=spec.score.min_each if min_each is None else min_each,
        project=spec.project.name,
        today=today,
        results_given=results is not None,
        unmapped_tests=unmapped.passed + unmapped.failed + unmapped.skipped,
        unmapped_failures=unmapped.failures,
    )
    report.gate_failures = _gate(report)
    return report


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).name


def _gate(report: ScoreReport) -> list[str]:
    """Why the score fails the bar (empty when it passes)."""
    out: list[str] = []
    if report.total < report.min_total:
        out.append(f"total {report.total} is below the minimum {report.min_total}")
    low = [c.id for c in report.concerns if c.level < report.min_each]
    if low:
        out.append(f"{', '.join(low)} below the minimum level {report.min_each}")
    failed = [f"{c.id} ({c.tests.failed})" for c in report.concerns if c.tests is not None and c.tests.failed]
    if failed:
        out.append(f"failed tests: {', '.join(failed)}")
    if report.unmapped_failures:  # any failure fails the gate, even of a test of no concern
        names = ", ".join(report.unmapped_failures[:3])
        more = f" and {len(report.unmapped_failures) - 3} more" if len(report.unmapped_failures) > 3 else ""
        out.append(f"failed tests of no concern: {names}{more}")
    return out
