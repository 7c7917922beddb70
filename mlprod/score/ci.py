"""CI configs as evidence: which generated tests an enabled job runs, and whether a failing
test can fail that job.

A CI config counts for a test file when an enabled job runs pytest with that file, or a
folder or node that holds it, as an argument, and nothing masks pytest's exit status
(see `shell.py` for the shell, here for the job: `continue-on-error`, `allow_failure`,
a constant-false `if:`, manual-only or impossible-cron triggers). Paths are resolved the
way the runner resolves them: from the repository top (the checkout), moved by GitHub's
`working-directory` and by `cd`. Every refusal names the file, the line and the construct.
"""

from __future__ import annotations

import itertools
import posixpath
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .cron import cron_never_fires
from .expr import truth
from .filters import RepoFacts, filtered_out
from .git import GitState, git_output
from .shell import PytestRun, block_lines, expand, resolve, shell_runs, split_words


@dataclass(frozen=True)
class CIConfig:
    """A CI config file, the pytest runs of its jobs (masked ones included), whether git tracks it."""

    path: Path
    name: str  # relative to the project root, or to the repository top when it lives there
    runs: tuple[PytestRun, ...]
    tracked: bool
    note: str = ""  # why the config cannot run anything where it is ("" when it can)

    def covers(self, file: str, tests_dir: str) -> bool:
        """An unmasked run of this config collects `file`."""
        return not self.note and any(not r.mask and r.covers(file, tests_dir) for r in self.runs)

    def masks(self, file: str, tests_dir: str) -> list[str]:
        """`FILE:LINE: construct: why` for each masked run that collects `file`."""
        if self.note:
            return []
        return [r.mask for r in self.runs if r.mask and r.covers(file, tests_dir)]


class _Lines(dict[Any, Any]):
    """A mapping that remembers the line (1-based) of each key."""

    lines: dict[Any, int]


class _Seq(list[Any]):
    lines: list[int]


def load_yaml(path: Path) -> Any:
    """Parse a CI config with line numbers (`.lines`); None when it is not readable YAML."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        pass

    def mapping(loader: Any, node: Any) -> _Lines:
        out = _Lines()
        out.lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                out[key] = loader.construct_object(value_node, deep=True)
            except TypeError:  # an unhashable key: not a CI config we can read
                continue
            out.lines[key] = key_node.start_mark.line + 1
        return out

    def sequence(loader: Any, node: Any) -> _Seq:
        out = _Seq(loader.construct_object(n, deep=True) for n in node.value)
        out.lines = [n.start_mark.line + 1 for n in node.value]
        return out

    Loader.add_constructor("tag:yaml.org,2002:map", mapping)
    Loader.add_constructor("tag:yaml.org,2002:seq", sequence)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def line_of(mapping: Any, key: Any) -> int:
    lines = getattr(mapping, "lines", None)
    return lines.get(key, 0) if isinstance(lines, dict) else 0


def env_of(value: Any, inherited: dict[str, str]) -> dict[str, str]:
    """`inherited` plus an `env:`/`variables:` mapping (GitLab's `{value: ...}` form included)."""
    out = dict(inherited)
    if isinstance(value, dict):
        for name, val in value.items():
            if isinstance(val, dict):
                val = val.get("value")
            if isinstance(val, str | int | float) and not isinstance(val, bool):
                out[str(name)] = expand(str(val), inherited)
    return out


def _constant(value: Any, events: list[str] | None = None) -> bool | None:
    """The truth of a GitHub condition when the run cannot change it (`false`, `${{ 1 == 2 }}`,
    `github.event_name == 'nothing'` for every event that starts the workflow), else None."""
    if not events:
        return truth(value)
    found = {truth(value, {"github.event_name": event}) for event in events}
    return found.pop() if len(found) == 1 else None


def _masked(runs: list[PytestRun], why: str) -> list[PytestRun]:
    """`runs`, each unmasked one masked by `why` (a job or workflow construct, located)."""
    return [r if r.mask else replace(r, mask=why) for r in runs]


def located(runs: list[PytestRun], name: str) -> list[PytestRun]:
    """Shell masks prefixed with the file and the line of their pytest command."""
    return [replace(r, mask=f"{name}:{r.line}: {r.mask}") if r.mask else r for r in runs]


def shown(value: Any) -> str:
    """A YAML value as the file spells it (`true`, not Python's `True`)."""
    import json

    return json.dumps(value) if isinstance(value, bool | dict | list) or value is None else str(value)


# --- GitHub --------------------------------------------------------------------------


def _github_triggers(data: Any, name: str, facts: RepoFacts) -> str:
    """Why the workflow never starts on its own ('' when it does)."""
    key = "on" if "on" in data else True  # YAML 1.1 reads a bare `on` key as True
    on = data.get(key)
    if on is None:
        return ""
    triggers = set(on) if isinstance(on, dict | list) else {on}
    blocked = filtered_out(on, facts)
    # started by hand, through the API, or by a caller: a reusable workflow counts when another
    # workflow of the repository calls it (`uses: ./.github/workflows/NAME`)
    external = {"workflow_dispatch", "repository_dispatch"} | ({"workflow_call"} - facts.called_names(name))
    automatic = triggers - external - set(blocked)
    where = f"{name}:{line_of(data, key)}"
    if triggers and not automatic and blocked:
        return f"{where}: {'; '.join(blocked.values())}"
    if triggers and not automatic and triggers <= {"workflow_dispatch"}:
        return f"{where}: `on: workflow_dispatch` only: the workflow is started by hand only"
    if triggers and not automatic:
        names = ", ".join(sorted(str(t) for t in triggers))
        return f"{where}: `on: {names}` only: the workflow is started by hand, the API or a caller only"
    if automatic == {"schedule"} and isinstance(on, dict):
        crons = [c.get("cron") for c in on.get("schedule") or [] if isinstance(c, dict)]
        if all(not isinstance(c, str) or cron_never_fires(c) for c in crons):
            shown = ", ".join(f"`{c}`" for c in crons) or "none"
            return f"{where}: the only trigger is a schedule whose cron names no real date ({shown})"
    return ""


def _events(data: Any) -> list[str]:
    """The events that start the workflow (`github.event_name` of its runs)."""
    on = data.get("on", data.get(True))
    names = list(on) if isinstance(on, dict | list) else [on] if isinstance(on, str) else []
    return [str(n) for n in names if isinstance(n, str)]


def _github_runs(data: dict[str, Any], name: str, facts: RepoFacts) -> list[PytestRun]:
    never = _github_triggers(data, name, facts)
    events = _events(data)
    env0 = env_of(data.get("env"), {})
    wd0 = _working_dir(data.get("defaults"))
    shell0 = _shell(data.get("defaults"))
    runs: list[PytestRun] = []
    jobs = data.get("jobs")
    skipped = _skipped_jobs(jobs if isinstance(jobs, dict) else {}, name, events)
    for job_id, job in jobs.items() if isinstance(jobs, dict) else []:
        if not isinstance(job, dict):
            continue
        job_runs: list[PytestRun] = []
        env1 = env_of(job.get("env"), env0)
        wd1 = _working_dir(job.get("defaults")) or wd0
        shell1 = _shell(job.get("defaults")) or shell0
        steps = job.get("steps")
        for step in steps if isinstance(steps, list) else []:
            if not isinstance(step, dict) or not isinstance(step.get("run"), str):
                continue
            env2 = env_of(step.get("env"), env1)
            wd = step.get("working-directory") if isinstance(step.get("working-directory"), str) else wd1
            cwd = resolve(".", expand(wd, env2)) if wd else "."
            step_runs = located(_step_runs(step, env2, cwd, step.get("shell") or shell1), name)
            if _constant(step.get("if"), events) is False:
                step_runs = _masked(
                    step_runs,
                    f"{name}:{line_of(step, 'if')}: `if: {shown(step.get('if'))}` never runs the step",
                )
            elif _constant(step.get("continue-on-error")) is not False and "continue-on-error" in step:
                where = f"{name}:{line_of(step, 'continue-on-error')}"
                step_runs = _masked(
                    step_runs, f"{where}: `continue-on-error: {shown(step['continue-on-error'])}` on the step"
                )
            job_runs += step_runs
        if job_id in skipped:
            job_runs = _masked(job_runs, skipped[job_id])
        elif "continue-on-error" in job and _constant(job.get("continue-on-error")) is not False:
            where = f"{name}:{line_of(job, 'continue-on-error')}"
            job_runs = _masked(
                job_runs,
                f"{where}: `continue-on-error: {shown(job['continue-on-error'])}` on the job {job_id}",
            )
        runs += job_runs
    return _masked(runs, never) if never else runs


_STATUS = re.compile(r"\b(always|failure|cancelled)\s*\(")


def _skipped_jobs(jobs: dict[Any, Any], name: str, events: list[str]) -> dict[Any, str]:
    """`{job: why}` for the jobs that never run: a constant-false `if:`, or a job in `needs:`
    that never runs (GitHub skips the jobs that need a skipped job, unless their `if:`
    calls a status function other than `success()`)."""
    out: dict[Any, str] = {}
    for job_id, job in jobs.items():
        if isinstance(job, dict) and _constant(job.get("if"), events) is False:
            out[job_id] = (
                f"{name}:{line_of(job, 'if')}: `if: {shown(job.get('if'))}` never runs the job {job_id}"
            )
    changed = True
    while changed:
        changed = False
        for job_id, job in jobs.items():
            if job_id in out or not isinstance(job, dict):
                continue
            needs = job.get("needs")
            needs = needs if isinstance(needs, list) else [needs]
            gone = next((n for n in needs if isinstance(n, str) and n in out), None)
            if gone is not None and not _STATUS.search(str(job.get("if") or "")):
                where = f"{name}:{line_of(job, 'needs')}"
                out[job_id] = f"{where}: `needs: {gone}`, a job that never runs, skips the job {job_id}"
                changed = True
    return out


def _step_runs(step: Any, env: dict[str, str], cwd: str | None, shell: Any) -> list[PytestRun]:
    """A `run:` block read as GitHub's shell reads it (`_github_shell`)."""
    text = step["run"]
    line = line_of(step, "run")
    # a block scalar (`run: |`) starts on the next line; a plain one on the key's line
    first = line + 1 if line and text.endswith("\n") else line
    read = _github_shell(shell)
    if isinstance(read, str):  # not a POSIX shell: its runs are not read as bash's
        runs = shell_runs(block_lines(text, first), env, cwd)[0]
        return [replace(r, mask=read) for r in runs]
    errexit, pipefail, note = read
    errexit_note = "" if errexit else f"`shell: {shell}` has no `-e`: the job goes on after a failing pytest"
    return shell_runs(
        block_lines(text, first), env, cwd, pipefail=pipefail, pipefail_note=note, errexit=errexit_note
    )[0]


_POSIX = {"bash", "sh", "dash", "zsh", "ksh"}


def _github_shell(shell: Any) -> tuple[bool, bool, str] | str:
    """(errexit, pipefail, how to name the shell) of a step's `shell:`, as GitHub runs it:
    the default is `bash -e {0}`, `bash` is `bash -eo pipefail {0}`, `sh` is `sh -e {0}`, and
    a custom command (`bash {0}`) has exactly its own options. A shell that is not POSIX
    (`python`, `pwsh`, `cmd`) returns why its lines are not read as bash's."""
    if shell is None:
        return True, False, "GitHub's default shell `bash -e` has no pipefail"
    words = split_words(str(shell))
    name = posixpath.basename(words[0]) if words else ""
    if words == ["bash"]:
        return True, True, f"`shell: {shell}`"
    if words == ["sh"]:
        return True, False, f"`shell: {shell}` is `sh -e`, without pipefail"
    if name not in _POSIX or "{0}" not in words:
        return f"`shell: {shell}` is not a POSIX shell: its lines are not read as bash's"
    flags = [w for w in words[1:] if w.startswith(("-", "+")) and not w.startswith("--")]
    options = [b for a, b in itertools.pairwise(words) if a.startswith("-") and a.endswith("o")]
    errexit = any(f[0] == "-" and "e" in f[1:] for f in flags) or "errexit" in options
    return errexit, "pipefail" in options, f"`shell: {shell}`"


def _working_dir(defaults: Any) -> str | None:
    if isinstance(defaults, dict) and isinstance(defaults.get("run"), dict):
        value = defaults["run"].get("working-directory")
        return value if isinstance(value, str) else None
    return None


def _shell(defaults: Any) -> str | None:
    if isinstance(defaults, dict) and isinstance(defaults.get("run"), dict):
        value = defaults["run"].get("shell")
        return value if isinstance(value, str) else None
    return None


# --- finding the configs -------------------------------------------------------------


def config_runs(data: Any, name: str = "ci", facts: RepoFacts | None = None) -> list[PytestRun]:
    """The pytest runs of a parsed GitHub workflow or GitLab config, masked ones included;
    `facts` (branches, the suite's files) are what GitHub's event filters are matched against."""
    from .gitlab import gitlab_runs

    if not isinstance(data, dict):
        return []
    if isinstance(data.get("jobs"), dict):
        return _github_runs(data, name, facts or RepoFacts())
    return gitlab_runs(data, name, (facts or RepoFacts()).branches)


def _branches(git: GitState) -> tuple[str, ...]:
    """The repository's branch names, local and remote-tracking."""
    if git.toplevel is None:
        return ()
    refs = git_output(git.toplevel, "for-each-ref", "--format=%(refname)", "refs/heads", "refs/remotes")
    names = []
    for ref in (refs or "").splitlines():
        if ref.startswith("refs/heads/"):
            names.append(ref.removeprefix("refs/heads/"))
        elif ref.startswith("refs/remotes/") and not ref.endswith("/HEAD"):
            names.append(ref.removeprefix("refs/remotes/").partition("/")[2])
    return tuple(dict.fromkeys(n for n in names if n))


def _called(data: Any) -> str:
    """The reusable workflows (`./.github/workflows/NAME`) the jobs of a workflow call, space-separated."""
    jobs = data.get("jobs") if isinstance(data, dict) else None
    uses = [j.get("uses") for j in jobs.values() if isinstance(j, dict)] if isinstance(jobs, dict) else []
    return " ".join(u.removeprefix("./") for u in uses if isinstance(u, str) and u.startswith("./.github/"))


def find_ci(root: Path, git: GitState, suite: tuple[str, ...] = ()) -> list[CIConfig]:
    """GitHub workflows and GitLab configs at the project root and the repository top.

    `suite`: the spec and the generated test files, from the repository top (what a path
    filter must let through).

    GitHub reads workflows only at the repository top; a GitLab config elsewhere may be
    included or set as the project's CI file, but its jobs still start at the top.
    """
    in_sub = git.toplevel is not None and git.toplevel.resolve() != root.resolve()
    folders = [root, git.toplevel] if in_sub and git.toplevel is not None else [root]
    found: list[CIConfig] = []
    branches = _branches(git)
    for folder in folders:
        workflows = folder / ".github" / "workflows"
        files = (
            sorted(workflows.glob("*.yml")) + sorted(workflows.glob("*.yaml")) if workflows.is_dir() else []
        )
        gitlab = folder / ".gitlab-ci.yml"
        if gitlab.is_file():
            files.append(gitlab)
        names = [f.relative_to(folder).as_posix() for f in files]
        if folder is root:
            tracked = {n for n in names if n in git.tracked}
        else:  # configs at the repository top, outside the project folder: one more git call
            listed = git_output(folder, "ls-files", "-z", "--", *names) if names else ""
            tracked = {p for p in (listed or "").split("\0") if p}
        parsed = [load_yaml(f) for f in files]
        facts = RepoFacts(branches, suite, tuple(_called(d) for d in parsed))
        for file, name, data in zip(files, names, parsed, strict=True):
            note = ""
            if in_sub and folder is root and name.startswith(".github/"):
                note = "GitHub runs only workflows at the repository top"
            runs = tuple(config_runs(data, name, facts))
            found.append(CIConfig(path=file, name=name, runs=runs, tracked=name in tracked, note=note))
    return found
