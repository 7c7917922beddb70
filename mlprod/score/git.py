"""What git says about a project: tracked, changed and ignored files, and the commit.

Paths are relative to the project root (the spec's folder). Nothing here raises: a
missing git or a folder outside a repository is evidence too (`GitState.reason`).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class GitState:
    """Tracked and changed files under the project root; `reason` says why git is unavailable."""

    reason: str = ""
    toplevel: Path | None = None
    prefix: str = ""  # the project root relative to the repository top, "" or "sub/dir/"
    tracked: set[str] = field(default_factory=set)
    dirty: set[str] = field(default_factory=set)
    root: Path | None = None

    @property
    def available(self) -> bool:
        return not self.reason

    def committed(self, path: str) -> bool:
        return path in self.tracked and path not in self.dirty

    def ignored(self, paths: list[str]) -> set[str]:
        """Which of `paths` a `.gitignore` (or exclude file) ignores: one `git check-ignore`."""
        if not self.available or self.root is None or not paths:
            return set()
        try:
            out = subprocess.run(
                ["git", "-C", str(self.root), "check-ignore", "--no-index", "-z", "--stdin"],
                input=b"\0".join(p.encode("utf-8") for p in paths),
                capture_output=True,
                check=False,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError):
            return set()
        return {p for p in out.stdout.decode("utf-8", errors="replace").split("\0") if p}


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False, timeout=30)


def git_output(root: Path, *args: str) -> str | None:
    """The stdout of one git command, or None when it fails."""
    try:
        out = _git(root, *args)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.decode("utf-8", errors="replace") if out.returncode == 0 else None


def read_git(root: Path) -> GitState:
    """Tracked and changed files under `root`: three git calls for the whole project."""
    if shutil.which("git") is None:
        return GitState(reason="git is not installed, so nothing can be shown to be committed")
    try:
        top = _git(root, "rev-parse", "--show-toplevel", "--show-prefix")
        if top.returncode != 0:
            if b"dubious ownership" in top.stderr:
                return GitState(reason="git refuses the repository (dubious ownership: see safe.directory)")
            return GitState(reason="the project is not inside a git repository")
        lines = top.stdout.decode("utf-8", errors="replace").splitlines()
        toplevel = Path(lines[0])
        prefix = lines[1] if len(lines) > 1 else ""
        # ls-files lists paths relative to the current folder, limited to it.
        listed = _git(root, "ls-files", "-z")
        # porcelain paths are relative to the repository top, whatever the folder.
        status = _git(
            root, "status", "--porcelain", "-z", "--untracked-files=no", "--ignore-submodules", "--", "."
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return GitState(reason=f"git could not be run ({exc})")
    if listed.returncode != 0 or status.returncode != 0:
        message = (listed.stderr or status.stderr).decode("utf-8", errors="replace").strip()
        return GitState(reason=f"git failed: {message.splitlines()[0] if message else 'unknown error'}")
    tracked = {p for p in listed.stdout.decode("utf-8", errors="replace").split("\0") if p}
    return GitState(
        toplevel=toplevel,
        prefix=prefix,
        tracked=tracked,
        dirty=_dirty(status.stdout.decode("utf-8", errors="replace"), prefix),
        root=root,
    )


def _dirty(porcelain: str, prefix: str) -> set[str]:
    dirty: set[str] = set()
    entries = porcelain.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if "R" in code or "C" in code:
            i += 1  # the next entry is the rename's source path
        if prefix and path.startswith(prefix):
            path = path[len(prefix) :]
        dirty.add(path)
    return dirty
