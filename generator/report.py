"""What `generate` did or would do: one action per path, a diff and a summary."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from .manifest import MANIFEST_PATH, Entry


class Mode(StrEnum):
    WRITE = "write"  # write files (the default)
    CHECK = "check"  # write nothing; the report says what is stale
    DRY_RUN = "dry-run"  # write nothing; the report lists the actions


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REMOVE = "remove"  # no longer generated and unchanged: deleted (or its block removed)
    LEAVE = "leave"  # no longer generated but edited by hand: left in place
    REFUSE = "refuse"  # hand-edited or foreign: not overwritten without --force


@dataclass
class FileAction:
    """What generate does (or would do) to one path."""

    path: str
    action: Action
    reason: str = ""
    old: str | None = None  # the whole file now (None: absent)
    new: str | None = None  # the whole file afterwards (None: deleted)
    entry: Entry | None = None  # its manifest entry afterwards (None: not recorded)


@dataclass
class GenerateReport:
    """The outcome of `generate_project`; `written` says whether files were written."""

    root: Path
    mode: Mode
    actions: list[FileAction] = field(default_factory=list)
    manifest_old: str | None = None
    manifest_new: str = ""
    written: bool = False
    notes: list[str] = field(default_factory=list)  # said on stderr (e.g. leftovers removed)

    def paths(self, action: Action) -> list[str]:
        return [a.path for a in self.actions if a.action == action]

    @property
    def refused(self) -> list[FileAction]:
        return [a for a in self.actions if a.action == Action.REFUSE]

    @property
    def changed(self) -> bool:
        """True when the files on disk are not what the spec generates (stale)."""
        return self.manifest_old != self.manifest_new or any(
            a.action != Action.UNCHANGED for a in self.actions
        )

    def diff(self) -> str:
        """A unified diff from the files on disk to the generated ones."""
        out: list[str] = []
        items = [(a.path, a.old, a.new) for a in self.actions if a.action != Action.UNCHANGED]
        if self.manifest_old != self.manifest_new:
            items.append((MANIFEST_PATH, self.manifest_old, self.manifest_new))
        for path, old, new in items:
            if old == new:
                continue
            out.extend(
                difflib.unified_diff(
                    (old or "").splitlines(keepends=True),
                    (new or "").splitlines(keepends=True),
                    fromfile=f"a/{path}" if old is not None else "/dev/null",
                    tofile=f"b/{path}" if new is not None else "/dev/null",
                )
            )
        no_eol = "\n\\ No newline at end of file\n"
        return "".join(line if line.endswith("\n") else line + no_eol for line in out)

    def summary(self) -> str:
        """Counts and names, one line per file that changes."""
        done = self.written or self.mode == Mode.WRITE
        words = _DONE if done else _TODO
        counts = {a: len(self.paths(a)) for a in Action}
        parts = [f"{counts[a]} {words[a]}" for a in Action if counts[a] or a in _ALWAYS]
        lines = [f"mlprod generate: {', '.join(parts)}."]
        for a in self.actions:
            if a.action != Action.UNCHANGED:
                note = f" ({a.reason})" if a.reason else ""
                lines.append(f"  {words[a.action]:<16} {a.path}{note}")
        return "\n".join(lines)


_ALWAYS = (Action.CREATE, Action.UPDATE, Action.UNCHANGED, Action.REMOVE)
_DONE = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.UNCHANGED: "unchanged",
    Action.REMOVE: "removed",
    Action.LEAVE: "left in place",
    Action.REFUSE: "refused",
}
_TODO = {
    Action.CREATE: "to create",
    Action.UPDATE: "to update",
    Action.UNCHANGED: "unchanged",
    Action.REMOVE: "to remove",
    Action.LEAVE: "to leave in place",
    Action.REFUSE: "to refuse",
}
