"""The rubric behind `mlprod score`: a level 0/1/2 per concern, from evidence.

- 0: no check in place (no section; a manual section without a valid signoff; an
  automated section with nothing generated for it).
- 1: checked by hand (a manual section with a fresh signoff), or automated checks that
  are not all four conditions of level 2, or only a monitoring notebook.
- 2: (a) current: the files equal what `generate` renders now; (b) committed, with the
  evidence files they read; (c) run by CI that can fail; (d) proven by a run of the
  current suite in which every generated test of the concern appears and one judged.

The rules are documented in docs/score.md; `score_project` is the whole API.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from mlprod import CONCERNS

from .ci import CIConfig, find_ci
from .current import Render, Rendered, render_project
from .git import GitState, read_git
from .pytestcfg import config_problems
from .report import MAX_LEVEL, MAX_TOTAL, TITLES, ConcernScore, ScoreReport, gate, interpret
from .results import RunEvidence, TestCounts, gather

__all__ = ["MAX_LEVEL", "MAX_TOTAL", "TITLES", "ConcernScore", "ScoreReport", "interpret", "score_project"]

#: Spec section(s) per concern, for messages ("add a `fairness` or `drift` section").
SECTIONS: dict[str, tuple[str, ...]] = {c: (c,) for c in CONCERNS} | {"bias": ("fairness", "drift")}

#: Monitoring notebooks (in outputs.notebooks) and the concern each covers by hand.
NOTEBOOKS: dict[str, str] = {
    "drift.ipynb": "bias",
    "bias.ipynb": "bias",
    "infrastructure.ipynb": "infrastructure",
    "baseline.ipynb": "baseline",
}

LOCK_FILE = "mlprod.lock"
UNCOMMITTED = "uncommitted changes (see the note above)"


@dataclass
class _Evidence:
    """Everything the rules read, gathered once per project."""

    root: Path
    spec: Any  # mlprod.schema.models.Spec
    spec_name: str  # the spec file relative to the root ("mlprod.yaml")
    today: date
    render: Render
    git: GitState
    ci: list[CIConfig]
    run: RunEvidence
    ignored: set[str]  # evidence files a .gitignore ignores
    pytest_config: list[str]  # what pytest's config or an outer conftest does to every run

    def counts(self, concern: str) -> TestCounts | None:
        if not self.run.given:
            return None
        return self.run.counts.get(concern, TestCounts())


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


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


def _tests_dir(ev: _Evidence) -> str:
    return ev.spec.outputs.tests.rstrip("/")


def _is_test(path: str, tests_dir: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return path.startswith(tests_dir + "/") and name.startswith("test_") and name.endswith(".py")


def _shared(ev: _Evidence) -> list[Rendered]:
    """Generated files of the tests folder that belong to no concern (the conftest)."""
    folder = _tests_dir(ev) + "/"
    return [f for f in ev.render.files if f.concern is None and f.path.startswith(folder)]


def _notebooks(concern: str, entries: list[Rendered], ev: _Evidence) -> list[str]:
    folder = ev.spec.outputs.notebooks.rstrip("/")
    found = {f.path for f in entries if f.path.endswith(".ipynb")}
    found |= {f"{folder}/{n}" for n, c in NOTEBOOKS.items() if c == concern}
    return sorted(p for p in found if (ev.root / p).is_file())


def evidence_files(concern: str, spec: Any) -> list[tuple[str, str]]:
    """(path, command that writes it) of the evidence files the concern's tests read."""
    if concern == "reproducibility":
        return [(LOCK_FILE, "mlprod lock")]
    if concern == "determinism" and spec.determinism is not None and spec.determinism.golden is not None:
        return [(spec.determinism.golden.path, "mlprod record")]
    return []


def level_files(ev: _Evidence) -> list[str]:
    """Every file whose content decides a level: generated files of a concern, the shared
    test files, the spec and the evidence files. Not the model card, the manifest or the
    evaluation (`mlprod evaluate` changes only those)."""
    files = [f.path for f in ev.render.files if f.concern is not None] + [f.path for f in _shared(ev)]
    automated = [c for c in CONCERNS if any(f.concern == c for f in ev.render.files)]
    files += [path for c in automated for path, _ in evidence_files(c, ev.spec)]
    return [ev.spec_name, *dict.fromkeys(files)]


def uncommitted(ev: _Evidence) -> list[str]:
    """Files that decide a level and differ from the last commit (present on disk)."""
    if not ev.git.available:
        return []
    return [
        p
        for p in level_files(ev)
        if (ev.root / p).is_file() and p not in ev.ignored and not ev.git.committed(p)
    ]


def _currency(entries: list[Rendered], ev: _Evidence) -> tuple[list[str], list[str]]:
    states = {e.path: e.state for e in [*entries, *_shared(ev)]}
    missing = sorted(p for p, s in states.items() if s == "missing")
    edited = sorted(p for p, s in states.items() if s == "edited")
    whys: list[str] = []
    if missing:
        whys.append(f"generated file(s) missing: {', '.join(missing)}")
    if edited:
        whys.append(f"not what `mlprod generate` writes now: {', '.join(edited)}")
    fixes = [f"run `mlprod generate{' --force' if edited else ''}` and commit the result"] if whys else []
    return whys, fixes


def _versioned(concern: str, entries: list[Rendered], ev: _Evidence) -> tuple[list[str], list[str]]:
    if not ev.git.available:
        fix = "run `git init` and commit the project" if "not inside" in ev.git.reason else "install git"
        return [f"level 2 needs git: {ev.git.reason}"], [fix]
    whys: list[str] = []
    fixes: list[str] = []
    for path, command in evidence_files(concern, ev.spec):
        if not (ev.root / path).is_file():
            whys.append(f"{path} is not versioned: it does not exist")
            fixes.append(f"run `{command}` and commit {path}")
        elif path in ev.ignored:
            whys.append(f"{path} is not versioned: .gitignore ignores it")
            fixes.append(f"remove {path} from .gitignore, then `git add {path}` and commit")
        elif path not in ev.git.tracked:
            whys.append(f"{path} is not versioned: it is not committed")
            fixes.append(f"`git add {path}` and commit")
    dirty = set(uncommitted(ev))
    paths = [ev.spec_name, *(e.path for e in [*entries, *_shared(ev)])]
    paths += [p for p, _ in evidence_files(concern, ev.spec) if p in ev.git.tracked]
    if any(p in dirty for p in paths):
        whys.append(UNCOMMITTED)
    return whys, fixes


def _ci(concern: str, tests: list[Rendered], ev: _Evidence) -> tuple[list[str], list[str]]:
    prefix = ev.git.prefix if ev.git.toplevel is not None else ""
    tests_dir = _tests_dir(ev)
    top_tests = prefix + tests_dir
    files = [prefix + t.path for t in tests]
    runners = {f: [c for c in ev.ci if c.covers(f, top_tests)] for f in files}
    not_run = [f for f, configs in runners.items() if not configs]
    if not not_run and ev.pytest_config:
        return (
            [
                "what pytest reads besides the generated suite changes every run: "
                + "; ".join(ev.pytest_config)
            ],
            [
                "drop the selection from addopts, move a conftest.py above the tests, or a file generate"
                " does not write, into the folder of the tests that use it, and commit"
            ],
        )
    if not not_run:
        if not ev.git.available or all(any(c.tracked for c in cs) for cs in runners.values()):
            return [], []
        untracked = list(dict.fromkeys(c for cs in runners.values() for c in cs if not c.tracked))
        names = ", ".join(c.name for c in untracked)
        paths = " ".join(os.path.relpath(c.path, ev.root) for c in untracked)
        return [f"the CI config is not committed: {names}"], [f"`git add {paths}` and commit"]
    masks = list(dict.fromkeys(m for f in not_run for c in ev.ci for m in c.masks(f, top_tests)))
    if masks:
        return (
            [f"CI cannot fail on its tests: {'; '.join(masks)}"],
            ['let a failing pytest fail the job (docs/score.md, "CI that can fail") and commit it'],
        )
    if ev.ci:
        some = any(c.covers(prefix + f.path, top_tests) for c in ev.ci for f in ev.render.files)
        what = ", ".join(f.removeprefix(prefix) for f in not_run) if some else f"pytest over {tests_dir}"
        names = "; ".join(f"{c.name} ({c.note})" if c.note else c.name for c in ev.ci)
        why = f"no CI config runs {what} ({names} do not)"
    else:
        why = f"no CI config runs {tests_dir} (no .github/workflows or .gitlab-ci.yml)"
    fix = (
        "add a CI config (set `release.ci.providers` and run `mlprod generate`,"
        f" or run `pytest {top_tests}` in CI) and commit it"
    )
    return [why], [fix]


def _proven(concern: str, ev: _Evidence) -> tuple[list[str], list[str]]:
    """(d): the current suite ran every generated test of the concern and one judged."""
    tests_dir = _tests_dir(ev)
    expected = ev.render.node_ids.get(concern, [])
    rerun = f"run `pytest {tests_dir}`"
    if not ev.run.proven:
        return [f"no run of the current suite: {rerun}"], [rerun + " and score again"]
    missing = [n for n in expected if n not in ev.run.accepted]
    if missing:
        why = f"{len(missing)} of {len(expected)} generated tests missing from the results"
        why += f" (first: {missing[0]})"
        return [why], [f"{rerun} (the whole suite, or pass every job's results with --results)"]
    ran = [ev.run.accepted[n] for n in expected]
    if expected and not any(t.judged for t in ran):
        reasons = list(dict.fromkeys(t.message.splitlines()[0] for t in ran if t.message))[:2]
        why = f"none of its {len(ran)} tests judged anything"
        if reasons:
            why += f": {'; '.join(reasons)}"
        return [why], [f"give the checks something to judge (see the skip reasons: `pytest {tests_dir} -rs`)"]
    return [], []


def _automated(concern: str, ev: _Evidence) -> ConcernScore:
    title = TITLES[concern]
    counts = ev.counts(concern)
    entries = ev.render.for_concern(concern)
    tests = [e for e in entries if _is_test(e.path, _tests_dir(ev))]
    if not tests:
        notebooks = _notebooks(concern, entries, ev)
        others = [e.path for e in entries if (ev.root / e.path).is_file()]
        if notebooks or others:
            why = f"no generated tests; only {', '.join(notebooks or others)} covers it"
            return ConcernScore(concern, title, 1, why, "run `mlprod generate` and commit the tests", counts)
        why = ev.render.problem or "nothing is generated for it"
        return ConcernScore(
            concern, title, 0, why, "run `mlprod generate` and commit the generated files", counts
        )
    whys: list[str] = []
    fixes: list[str] = []
    for check in (
        _currency(entries, ev),
        _versioned(concern, entries, ev),
        _ci(concern, tests, ev),
        _proven(concern, ev),
    ):
        whys += check[0]
        fixes += check[1]
    if not whys:
        return ConcernScore(concern, title, 2, "", "", counts)
    return ConcernScore(concern, title, 1, "; ".join(whys), "; then ".join(dict.fromkeys(fixes)), counts)


def score_concern(concern: str, ev: _Evidence) -> ConcernScore:
    """The level of one concern, with why it is not 2 and how to raise it."""
    names = _section_names(concern, ev.spec)
    if not names:
        sections = " or ".join(f"`{n}`" for n in SECTIONS[concern])
        article = _article(SECTIONS[concern][0])
        fix = f"add {article} {sections} section to mlprod.yaml and run `mlprod generate`"
        return ConcernScore(concern, TITLES[concern], 0, "no section in mlprod.yaml", fix, ev.counts(concern))
    manual = [n for n in names if getattr(ev.spec, n).mode == "manual"]
    if len(manual) == len(names):
        row = _manual(concern, names, ev)
        row.tests = ev.counts(concern)
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


def _notes(ev: _Evidence) -> list[str]:
    notes = list(ev.run.refusals)
    changed = uncommitted(ev)
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        notes.insert(
            0, f"uncommitted changes: {shown}; commit them: `git add {' '.join(changed)}` and `git commit`"
        )
    return notes + ev.run.notes


def score_project(
    spec_path: Path,
    *,
    results: Path | list[Path] | None,
    today: date,
    min_total: int | None = None,
    min_each: int | None = None,
) -> ScoreReport:
    """Score the project whose spec is at `spec_path`.

    `results`: JUnit files of runs of the generated suite (their union); without any, the
    last run record `.mlprod/last-run.json`. Raises `SpecError`/`SpecNotFound` for an
    invalid or missing spec and `UsageError` for a missing or unreadable results file.
    """
    from mlprod.schema import load_spec

    loaded = load_spec(spec_path)
    spec = loaded.spec
    root = loaded.root
    paths = [results] if isinstance(results, Path) else list(results or [])
    render = render_project(loaded)
    run = gather(paths, root, render.fingerprint)
    git = read_git(root)
    evidence = [p for c in CONCERNS for p, _ in evidence_files(c, spec)]
    ev = _Evidence(
        root=root,
        spec=spec,
        spec_name=_relative(loaded.path, root),
        today=today,
        render=render,
        git=git,
        ci=find_ci(root, git, _suite_files(loaded, render, git)),
        run=run,
        ignored=git.ignored(evidence),
        pytest_config=config_problems(
            root,
            spec.outputs.tests.rstrip("/"),
            git.toplevel or root,
            [n for ids in render.node_ids.values() for n in ids],
            [f.path for f in render.files],
        ),
    )
    rows = [score_concern(c, ev) for c in CONCERNS]
    report = ScoreReport(
        concerns=rows,
        min_total=spec.score.min_total if min_total is None else min_total,
        min_each=spec.score.min_each if min_each is None else min_each,
        project=spec.project.name,
        today=today,
        results_given=run.given,
        unmapped_tests=run.unmapped.passed + run.unmapped.failed + run.unmapped.skipped,
        unmapped_failures=run.unmapped.failures,
        notes=_notes(ev),
    )
    report.gate_failures = gate(report)
    return report


def _suite_files(loaded: Any, render: Render, git: GitState) -> tuple[str, ...]:
    """The spec and the generated test files, from the repository top."""
    prefix = git.prefix if git.toplevel is not None else ""
    tests = loaded.spec.outputs.tests.rstrip("/")
    paths = [_relative(loaded.path, loaded.root)] + [f.path for f in render.files if _is_test(f.path, tests)]
    return tuple(prefix + p for p in paths)


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).name
