"""GitLab CI jobs as evidence: the pytest runs of each job and what masks them.

`before_script` and `script` share one shell (GitLab's bash runs it with `set -eo pipefail`);
`after_script` runs in a new shell and its status never fails the job. A job with
`allow_failure` (true, or exit codes), `when: manual|never` or only such rules, or a
pipeline whose `workflow: rules` all say never, cannot fail.
"""

from __future__ import annotations

import re
from typing import Any

from .ci import _masked, env_of, line_of, located, shown
from .shell import PytestRun, shell_runs

_GLOBALS = {
    "default", "include", "stages", "variables", "workflow", "image", "services", "cache",
    "before_script", "after_script",
}  # fmt: skip


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _extended(data: dict[str, Any], job: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """A job with its `extends:` templates merged in (the job's own keys win)."""
    parents = job.get("extends")
    names = parents if isinstance(parents, list) else [parents] if isinstance(parents, str) else []
    if depth > 10 or not names:
        return job
    merged: dict[str, Any] = {}
    for name in names:
        parent = data.get(name)
        if isinstance(parent, dict):
            merged = _merge(merged, _extended(data, parent, depth + 1))
    return _merge(merged, {k: v for k, v in job.items() if k != "extends"})


def _never(job: dict[str, Any]) -> str:
    """The construct that keeps a job from running on its own ('' when it runs)."""
    if job.get("when") in ("manual", "never"):
        return f"`when: {job['when']}`"
    rules = job.get("rules")
    manual = ("manual", "never")
    if (
        isinstance(rules, list)
        and rules
        and all(isinstance(r, dict) and r.get("when") in manual for r in rules)
    ):
        return "`rules` that all say `when: manual` or `when: never`"
    return ""


#: `only`/`except` keywords of pipelines that a push or a merge request starts
_PUSHED = {"branches", "pushes", "merge_requests", "tags", "external_pull_requests"}
_KEYWORDS = _PUSHED | {"api", "chat", "external", "pipelines", "schedules", "triggers", "web"}


def _refs(value: Any) -> list[str] | None:
    refs = value.get("refs") if isinstance(value, dict) else value
    if refs is None:
        return None
    return [str(r) for r in (refs if isinstance(refs, list) else [refs])]


def _matches(ref: str, branches: tuple[str, ...]) -> bool:
    """Does an `only`/`except` entry (a name, or a `/regex/`) name one of `branches`?"""
    if len(ref) > 1 and ref.startswith("/") and ref.rstrip("i").endswith("/"):
        flags = re.I if ref.endswith("i") else 0
        try:
            pattern = re.compile(ref.rstrip("i")[1:-1], flags)
        except re.error:
            return False
        return any(pattern.search(b) for b in branches)
    return ref in branches


def _only_except(job: dict[str, Any], branches: tuple[str, ...]) -> str:
    """Why `only`/`except` keep a job out of every pipeline a push starts ('' when they do not)."""
    only, never = _refs(job.get("only")), _refs(job.get("except"))
    named = only is not None and any(r not in _KEYWORDS for r in only)  # branch names or patterns
    known = branches or not named  # without git, a branch name cannot be checked
    if only is not None and known and not any(r in _PUSHED or _matches(r, branches) for r in only):
        return f"`only: {shown(only)}` (no push, merge request or branch of the repository)"
    if never is not None and {"branches", "tags"} <= set(never) | (
        {"branches"} if "pushes" in never else set()
    ):
        return f"`except: {shown(never)}` (every pipeline a push starts)"
    return ""


def _allows_failure(job: dict[str, Any]) -> str:
    value = job.get("allow_failure")
    if value is True or isinstance(value, dict):
        return f"`allow_failure: {shown(value)}`"
    rules = job.get("rules")
    for rule in rules if isinstance(rules, list) else []:
        if isinstance(rule, dict) and rule.get("allow_failure") not in (None, False):
            return f"`allow_failure: {shown(rule['allow_failure'])}` in a rule"
    return ""


def _script(value: Any, fallback_line: int) -> list[tuple[str, int]]:
    """The lines of a `script:` value, each with its line in the file."""
    items = value if isinstance(value, list) else [value]
    lines = getattr(value, "lines", None) or [fallback_line] * len(items)
    out: list[tuple[str, int]] = []
    for item, line in zip(items, lines, strict=False):
        if isinstance(item, list):  # nested lists (from !reference)
            out += _script(item, line)
        elif isinstance(item, str | int | float) and not isinstance(item, bool):
            out += [
                (text, line + i if "\n" in str(item) else line)
                for i, text in enumerate(str(item).split("\n"))
            ]
    return out


def gitlab_runs(data: dict[str, Any], name: str, branches: tuple[str, ...] = ()) -> list[PytestRun]:
    """The pytest runs of every job, masked where the job cannot fail or never runs."""
    workflow = data.get("workflow")
    never_all = ""
    if isinstance(workflow, dict) and _never({"rules": workflow.get("rules")}):
        never_all = f"{name}:{line_of(workflow, 'rules')}: `workflow: rules` never start a pipeline"
    env0 = env_of(data.get("variables"), {})
    default_value = data.get("default")
    default: dict[str, Any] = default_value if isinstance(default_value, dict) else {}
    before = default.get("before_script", data.get("before_script"))
    after = default.get("after_script", data.get("after_script"))
    runs: list[PytestRun] = []
    for job_name, raw in data.items():
        if not isinstance(job_name, str) or job_name in _GLOBALS or job_name.startswith("."):
            continue  # a hidden job (`.name`) runs only through `extends`
        if not isinstance(raw, dict):
            continue
        job = _extended(data, raw)
        if "script" not in job:
            continue
        env = env_of(job.get("variables"), env0)
        line = line_of(data, job_name)
        main = _script(job.get("before_script", before), line) + _script(job["script"], line)
        job_runs = located(shell_runs(main, env, pipefail=True)[0], name)
        after_runs = located(
            shell_runs(_script(job.get("after_script", after), line), env, pipefail=True)[0], name
        )
        job_runs += _masked(after_runs, f"{name}:{line}: `after_script` never fails the job {job_name}")
        never = _never(job) or _only_except(job, branches)
        failure = _allows_failure(job)
        if never:
            where = (
                line_of(raw, "when")
                or line_of(raw, "rules")
                or line_of(raw, "only")
                or line_of(raw, "except")
                or line
            )
            job_runs = _masked(job_runs, f"{name}:{where}: {never} keeps the job {job_name} from running")
        elif failure:
            where = line_of(raw, "allow_failure") or line_of(raw, "rules") or line
            job_runs = _masked(job_runs, f"{name}:{where}: {failure} on the job {job_name}")
        runs += job_runs
    return _masked(runs, never_all) if never_all else runs
