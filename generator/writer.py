"""The only code that touches the filesystem for `generate`: safe paths, lock, atomic writes.

- Every target is a relative POSIX path that resolves inside the project root; a symlink
  at the target or at any parent folder inside the root is refused.
- A file is written to a temporary file in the same folder, fsynced, then `os.replace`d over
  the target, so a crash leaves the old or the new content, never half of it.
- `.mlprod/generate.lock` (O_CREAT|O_EXCL) refuses a concurrent `generate`.
- Managed blocks (`# >>> mlprod` ... `# <<< mlprod`) are spliced into user-owned files.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath

from mlprod.errors import RefusedError

LOCK_PATH = ".mlprod/generate.lock"
STALE_LOCK_SECONDS = 600
TMP_MARK = ".mlprod-tmp-"


def check_rel_path(rel: str) -> PurePosixPath:
    """`rel` as a safe relative path; ValueError when it could leave the root."""
    if not rel or "\\" in rel or "\x00" in rel or rel.startswith("/"):
        raise ValueError(f"{rel!r} is not a relative POSIX path")
    p = PurePosixPath(rel)
    if any(part in ("", ".", "..", ".git") for part in rel.split("/")):
        raise ValueError(f"{rel!r} has an empty, '.', '..' or '.git' component")
    return p


def safe_target(root: Path, rel: str) -> Path:
    """The absolute target of `rel` under `root`; refuses symlinks at the target or a parent.

    Folders that do not exist yet are fine (they are created by `write_atomic`).
    """
    try:
        parts = check_rel_path(rel).parts
    except ValueError as exc:
        raise RefusedError(f"unsafe target path: {exc}") from None
    current = root
    for i, part in enumerate(parts):
        current = current / part
        try:
            st = current.lstat()
        except FileNotFoundError:
            break
        except OSError as exc:
            raise RefusedError(f"cannot inspect {rel}: {exc.strerror or exc}") from None
        if stat.S_ISLNK(st.st_mode):
            parent = "/".join(parts[: i + 1])
            what = "is a symlink" if i == len(parts) - 1 else f"has a symlinked parent ({parent})"
            raise RefusedError(f"{rel} {what}; refusing to write through it")
        if i < len(parts) - 1 and not stat.S_ISDIR(st.st_mode):
            raise RefusedError(f"{rel}: {'/'.join(parts[: i + 1])} is not a folder")
        if i == len(parts) - 1 and not stat.S_ISREG(st.st_mode):
            raise RefusedError(f"{rel} exists and is not a regular file")
    target = root.joinpath(*parts)
    if not os.path.abspath(target).startswith(os.path.abspath(root) + os.sep):
        raise RefusedError(f"{rel} resolves outside the project root")
    return target


def read_text(target: Path) -> str | None:
    """The current text of a (checked) target, or None when absent."""
    try:
        with open(target, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RefusedError(f"cannot read {target}: {exc.strerror or exc}") from None
    return data.decode("utf-8", errors="surrogateescape")


def _mkdirs(root: Path, rel: str) -> None:
    """Create the parent folders of `rel`, one at a time, refusing symlinks."""
    current = root
    for part in PurePosixPath(rel).parts[:-1]:
        current = current / part
        try:
            os.mkdir(current)
        except FileExistsError:
            if current.is_symlink() or not current.is_dir():
                raise RefusedError(f"{current.relative_to(root)} is not a plain folder") from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def write_temp(root: Path, rel: str, text: str) -> Path:
    """Write `text` to a new temporary file beside the target of `rel`; fsync it."""
    target = safe_target(root, rel)
    try:
        _mkdirs(root, rel)
    except OSError as exc:
        raise RefusedError(f"cannot create the folder of {rel}: {exc.strerror or exc}") from None
    tmp = target.with_name(f".{target.name}{TMP_MARK}{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        raise RefusedError(f"cannot write {rel}: {exc.strerror or exc}") from None
    try:
        try:
            _write_all(fd, text.encode("utf-8", errors="surrogateescape"))
            os.fsync(fd)
        finally:
            os.close(fd)
        if target.exists():  # keep the mode of a file the user may have made executable
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
    except OSError as exc:
        remove_quietly(tmp)
        raise RefusedError(f"cannot write {rel}: {exc.strerror or exc}") from None
    return tmp


def commit_temp(tmp: Path, root: Path, rel: str) -> None:
    """Move a temporary file over its target (atomic on POSIX)."""
    target = safe_target(root, rel)
    try:
        os.replace(tmp, target)
    except OSError as exc:
        remove_quietly(tmp)
        raise RefusedError(f"cannot write {rel}: {exc.strerror or exc}") from None


def remove_file(root: Path, rel: str) -> None:
    """Delete a generated file (after the caller checked it is unchanged)."""
    target = safe_target(root, rel)
    try:
        os.unlink(target)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise RefusedError(f"cannot remove {rel}: {exc.strerror or exc}") from None


def remove_quietly(path: Path) -> None:
    with suppress(OSError):
        os.unlink(path)


def clean_stale_temps(folder: Path) -> None:
    """Remove temporary files a killed `generate` left behind (we hold the lock)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name.startswith(".") and TMP_MARK in name:
            remove_quietly(folder / name)


# --- lock ------------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _lock_is_stale(path: Path) -> bool:
    """A lock older than STALE_LOCK_SECONDS, or whose process is gone, is stale."""
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return True
    if age > STALE_LOCK_SECONDS:
        return True
    try:
        pid = int(json.loads(path.read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False  # being written right now, or unreadable: respect it until it ages
    return not _pid_alive(pid)


@contextmanager
def generate_lock(root: Path) -> Iterator[None]:
    """Hold `.mlprod/generate.lock`; a live lock of another process is refused (exit 3)."""
    safe_target(root, LOCK_PATH)
    try:
        _mkdirs(root, LOCK_PATH)
    except OSError as exc:
        raise RefusedError(f"cannot create .mlprod/: {exc.strerror or exc}") from None
    path = root / LOCK_PATH
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for attempt in range(2):
        try:
            fd = os.open(path, flags, 0o644)
            break
        except FileExistsError:
            if attempt == 0 and _lock_is_stale(path):
                remove_quietly(path)  # a killed run: take its lock over
                continue
            raise RefusedError(
                "another mlprod generate is running (lock .mlprod/generate.lock)",
                hint="wait for it to finish; if none is running, delete .mlprod/generate.lock",
            ) from None
        except OSError as exc:
            raise RefusedError(f"cannot create {LOCK_PATH}: {exc.strerror or exc}") from None
    try:
        os.write(fd, json.dumps({"pid": os.getpid()}).encode())
    finally:
        os.close(fd)
    try:
        yield
    finally:
        remove_quietly(path)


# --- managed blocks --------------------------------------------------------------------


def find_block(text: str, start: str, end: str) -> tuple[int, int] | None:
    """(begin, stop) character offsets of the managed block in `text`, or None.

    The block runs from the start marker line through the end marker line and its newline.
    ValueError when the markers are damaged (unpaired, repeated or out of order).
    """
    # Lines end at "\n" only, as git and editors see them (str.splitlines would also break at
    # \x0c, \x85 or \u2028 and find a marker in the middle of a line).
    lines = text.split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    starts = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == start]
    ends = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == end]
    if not starts and not ends:
        return None
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError(f"its mlprod block markers are damaged ({start!r} ... {end!r})")
    begin = sum(len(line) for line in lines[: starts[0]])
    stop = sum(len(line) for line in lines[: ends[0] + 1])
    return begin, stop


def block_text(text: str, span: tuple[int, int]) -> str:
    """The block as written by mlprod (a missing final newline is not an edit)."""
    block = text[span[0] : span[1]]
    return block if block.endswith("\n") else block + "\n"


def lf(text: str) -> str:
    """`text` with `\\r\\n` line endings as `\\n` (how git stores a file checked out with CRLF)."""
    return text.replace("\r\n", "\n")


def uses_crlf(text: str) -> bool:
    """True when the first line of `text` ends with `\\r\\n` (a Windows or autocrlf checkout)."""
    first = text.find("\n")
    return first > 0 and text[first - 1] == "\r"


def splice_block(old: str | None, span: tuple[int, int] | None, block: str) -> str:
    """The file text with the block replaced, or appended when it has none.

    In a file with CRLF line endings the block is written with CRLF too, so the user's
    file keeps one line-ending style.
    """
    if old is None:
        return block
    eol = "\r\n" if uses_crlf(old) else "\n"
    if eol != "\n":
        block = block.replace("\n", eol)
    if span is None:
        if not old:
            return block
        sep = "" if old.endswith("\n") else eol
        return f"{old}{sep}{eol}{block}"
    return old[: span[0]] + block + old[span[1] :]


def remove_block(old: str, span: tuple[int, int]) -> str:
    """The file text without its managed block (and the blank line mlprod put before it)."""
    before, after = old[: span[0]], old[span[1] :]
    if not after:
        for eol in ("\r\n", "\n"):
            if before.endswith(eol * 2):
                before = before[: -len(eol)]
                break
    return before + after
