"""GitHub event filters (`branches`, `paths` and their `-ignore` forms) read as GitHub
reads them, against the repository: a push or pull-request trigger counts only when some
branch of the repository passes its branch filter and a change of the generated suite
(its test files or the spec) passes its path filter.

Patterns are GitHub's filter globs: `*` matches within a path segment, `**` across
segments, `?` and `+` repeat the preceding character (zero or one, one or more), `[...]`
is a class, and a leading `!` excludes what earlier patterns included (the last matching
pattern decides).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_FILTERED = ("push", "pull_request", "pull_request_target")


@dataclass(frozen=True)
class RepoFacts:
    """What a filter is matched against: branch names and the suite's files (from the top)."""

    branches: tuple[str, ...] = ()
    suite: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()  # per workflow, the reusable workflows its jobs call

    def called_names(self, name: str) -> set[str]:
        """{"workflow_call"} when a workflow of the repository calls the workflow `name`."""
        return {"workflow_call"} if any(name in c.split() for c in self.calls) else set()


def _regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out, i = out + ".*", i + 2
            continue
        if c == "*":
            out += "[^/]*"
        elif c in "?+":
            out += c if out and not out.endswith((".*", "[^/]*")) else re.escape(c)
        elif c == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            out, i = out + "[" + pattern[i + 1 : end].replace("\\", "\\\\") + "]", end + 1
            continue
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out + r"\Z")


def _included(value: str, patterns: list[str]) -> bool:
    """Ordered patterns: the last one that matches `value` decides (`!` excludes)."""
    verdict = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _regex(pattern[1:] if negated else pattern).match(value):
            verdict = not negated
    return verdict


def _patterns(value: Any) -> list[str] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    return [str(v) for v in items if isinstance(v, str | int | float)]


def _passes(config: dict[str, Any], key: str, values: tuple[str, ...]) -> bool:
    """Does one of `values` pass the `key` / `key-ignore` filters of an event?"""
    only, ignore = _patterns(config.get(key)), _patterns(config.get(f"{key}-ignore"))
    if only is None and ignore is None:
        return True
    return any(
        (only is None or _included(v, only)) and (ignore is None or not _included(v, ignore)) for v in values
    )


def filtered_out(on: Any, facts: RepoFacts) -> dict[str, str]:
    """`{event: why}` for each push/pull-request trigger whose filters let no run through."""
    out: dict[str, str] = {}
    if not isinstance(on, dict):
        return out
    for event in _FILTERED:
        config = on.get(event)
        if not isinstance(config, dict):
            continue
        if (
            event == "push"
            and not {"branches", "branches-ignore", "paths", "paths-ignore"} & set(config)
            and {"tags", "tags-ignore"} & set(config)
        ):
            continue  # tags only: runs on tags
        if facts.branches and not _passes(config, "branches", facts.branches):
            out[event] = f"`{event}` branch filters match no branch of the repository"
        elif facts.suite and not _passes(config, "paths", facts.suite):
            out[event] = f"`{event}` path filters match no file of the generated suite or the spec"
    return out
