"""The only code that writes project files: folder handles, temporary files, the lock, signals.

- Every target is a relative POSIX path inside the project root. The root is opened once;
  each folder below it is opened relative to its parent's handle with `O_NOFOLLOW`, and
  files are created, read, replaced and removed relative to those handles (`dir_fd`). A
  symlink at the target or at any folder is refused, and one swapped in while mlprod runs
  cannot redirect a write: the handle still names the folder that was checked.
- A file is written to `.<name>.mlprod-tmp-<pid>` in its own folder (`O_EXCL|O_NOFOLLOW`),
  fsynced, then `os.replace`d over the target: a crash leaves old or new content, never half.
- SIGTERM and SIGINT raise `Interrupted` while files are written (`guard.interruptible`), so
  the caller's cleanup runs; temporary files of processes that are gone are removed later
  (`ProjectDir.clean_stale_temps`). `.mlprod/generate.lock` is in `guard.py` too.
- `write_file` is the one safe writer of every command outside `generate`.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path, PurePosixPath

from mlprod.errors import RefusedError

from .blocks import block_text, find_block, lf, remove_block, splice_block, uses_crlf
from .guard import LOCK_PATH, STALE_LOCK_SECONDS, Interrupted, generate_lock, interruptible, pid_alive

__all__ = [
    "LOCK_PATH",
    "STALE_LOCK_SECONDS",
    "TMP_MARK",
    "Interrupted",
    "ProjectDir",
    "block_text",
    "check_rel_path",
    "find_block",
    "generate_lock",
    "interruptible",
    "lf",
    "project_rel",
    "remove_block",
    "splice_block",
    "stale_note",
    "temp_name",
    "uses_crlf",
    "write_file",
]

TMP_MARK = ".mlprod-tmp-"
_TMP_RE = re.compile(r"^\.(?P<name>.+)\.mlprod-tmp-(?P<pid>[0-9]+)$", re.DOTALL)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def temp_name(name: str, pid: int | None = None) -> str:
    """The temporary file name beside `name` (see `mlprod.schema.names` for its length limit)."""
    return f".{name}{TMP_MARK}{os.getpid() if pid is None else pid}"


def check_rel_path(rel: str) -> PurePosixPath:
    """`rel` as a safe relative path; ValueError when it could leave the root."""
    if not rel or "\\" in rel or "\x00" in rel or rel.startswith("/"):
        raise ValueError(f"{rel!r} is not a relative POSIX path")
    p = PurePosixPath(rel)
    if any(part in ("", ".", "..", ".git") for part in rel.split("/")):
        raise ValueError(f"{rel!r} has an empty, '.', '..' or '.git' component")
    return p


def project_rel(root: Path, path: Path) -> str:
    """A path given on the command line (relative to the working folder) as a path under `root`.

    RefusedError when it is outside the project: commands write only inside it.
    """
    target = os.path.abspath(path)
    for base, full in ((os.path.abspath(root), target), (os.path.realpath(root), _real_parent(target))):
        if full.startswith(base.rstrip(os.sep) + os.sep):
            rel = PurePosixPath(Path(full).relative_to(base)).as_posix()
            try:
                check_rel_path(rel)
            except ValueError as exc:
                raise RefusedError(f"cannot write {path}: {exc}") from None
            return rel
    raise RefusedError(
        f"{path} is outside the project ({root}); mlprod writes only inside the project folder",
        hint="give a path inside the folder of the spec",
    )


def _real_parent(path: str) -> str:
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


class ProjectDir:
    """The project root opened once, and its folders opened relative to it (never by path)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        try:
            fd = os.open(self.root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
        except OSError as exc:
            raise RefusedError(f"cannot open the project folder {self.root}: {_why(exc)}") from None
        self._fds: dict[tuple[str, ...], int] = {(): fd}

    def close(self) -> None:
        """Close every folder handle."""
        for fd in self._fds.values():
            with suppress(OSError):
                os.close(fd)
        self._fds.clear()

    def __enter__(self) -> ProjectDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- folders --------------------------------------------------------------------

    @staticmethod
    def parts(rel: str) -> tuple[str, ...]:
        """The components of a safe relative path; RefusedError for an unsafe one."""
        try:
            return check_rel_path(rel).parts
        except ValueError as exc:
            raise RefusedError(f"unsafe target path: {exc}") from None

    def folder(self, rel: str, create: bool = False) -> int | None:
        """The handle of the folder of `rel` (None when missing and not `create`)."""
        parts = self.parts(rel)[:-1]
        fd = self._fds[()]
        for i in range(len(parts)):
            key = parts[: i + 1]
            if key in self._fds:
                fd = self._fds[key]
                continue
            sub = self._open_folder(rel, key, fd, create)
            if sub is None:
                return None
            self._fds[key] = fd = sub
        return fd

    def _open_folder(self, rel: str, key: tuple[str, ...], parent: int, create: bool) -> int | None:
        flags = os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC
        for _attempt in range(2):
            try:
                return os.open(key[-1], flags, dir_fd=parent)
            except FileNotFoundError:
                if not create:
                    return None
                try:
                    os.mkdir(key[-1], 0o777, dir_fd=parent)
                except FileExistsError:
                    pass
                except OSError as exc:
                    raise RefusedError(f"cannot create the folder of {rel}: {_why(exc)}") from None
            except OSError as exc:
                raise self._folder_problem(rel, key, parent, exc) from None
        raise RefusedError(f"cannot open the folder of {rel}")  # pragma: no cover - a race lost twice

    @staticmethod
    def _folder_problem(rel: str, key: tuple[str, ...], parent: int, exc: OSError) -> RefusedError:
        folder = "/".join(key)
        try:
            st = os.stat(key[-1], dir_fd=parent, follow_symlinks=False)
        except OSError:
            return RefusedError(f"cannot open the folder of {rel}: {_why(exc)}")
        if stat.S_ISLNK(st.st_mode):
            return RefusedError(f"{rel} has a symlinked parent ({folder}); refusing to write through it")
        if not stat.S_ISDIR(st.st_mode):
            return RefusedError(f"{rel}: {folder} is not a folder")
        return RefusedError(f"cannot open the folder of {rel}: {_why(exc)}")

    # --- files ----------------------------------------------------------------------

    def stat(self, rel: str) -> os.stat_result | None:
        """The target's own status (None when absent); refuses a symlink or a non-file."""
        fd = self.folder(rel)
        if fd is None:
            return None
        return self._stat_in(fd, rel)

    def _stat_in(self, fd: int, rel: str) -> os.stat_result | None:
        try:
            st = os.stat(self.parts(rel)[-1], dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RefusedError(f"cannot inspect {rel}: {_why(exc)}") from None
        if stat.S_ISLNK(st.st_mode):
            raise RefusedError(f"{rel} is a symlink; refusing to write through it")
        if not stat.S_ISREG(st.st_mode):
            raise RefusedError(f"{rel} exists and is not a regular file")
        return st

    def read_bytes(self, rel: str) -> bytes | None:
        """The bytes of a regular file (None when absent); a symlink is refused, never followed."""
        fd = self.folder(rel)
        if fd is None or self._stat_in(fd, rel) is None:
            return None
        try:
            f = os.open(self.parts(rel)[-1], os.O_RDONLY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._stat_in(fd, rel)  # swapped for a symlink since: say so
            raise RefusedError(f"cannot read {rel}: {_why(exc)}") from None
        try:
            with os.fdopen(f, "rb") as fh:
                return fh.read()
        except OSError as exc:
            raise RefusedError(f"cannot read {rel}: {_why(exc)}") from None

    def read_text(self, rel: str) -> str | None:
        """The text of a file (None when absent)."""
        data = self.read_bytes(rel)
        return None if data is None else data.decode("utf-8", errors="surrogateescape")

    def write_temp(self, rel: str, data: bytes | str) -> str:
        """Write `data` to a new temporary file beside `rel`; fsync it; return its name."""
        raw = data.encode("utf-8", errors="surrogateescape") if isinstance(data, str) else data
        fd = self.folder(rel, create=True)
        assert fd is not None
        target = self._stat_in(fd, rel)
        tmp = temp_name(self.parts(rel)[-1])
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
        try:
            try:
                f = os.open(tmp, flags, 0o644, dir_fd=fd)
            except FileExistsError:  # left by an earlier process with our pid, or planted: never followed
                os.unlink(tmp, dir_fd=fd)
                f = os.open(tmp, flags, 0o644, dir_fd=fd)
        except OSError as exc:
            raise RefusedError(f"cannot write {rel}: {_why(exc)}") from None
        try:
            try:
                view = memoryview(raw)
                while view:
                    view = view[os.write(f, view) :]
                if target is not None:  # keep the mode of a file the user may have made executable
                    os.fchmod(f, stat.S_IMODE(target.st_mode))
                os.fsync(f)
            finally:
                os.close(f)
        except OSError as exc:
            self.remove_temp(rel, tmp)
            raise RefusedError(f"cannot write {rel}: {_why(exc)}") from None
        return tmp

    def commit(self, rel: str, tmp: str) -> None:
        """Move the temporary file over its target (atomic on POSIX), in the same folder handle."""
        fd = self.folder(rel)
        if fd is None:
            raise RefusedError(f"cannot write {rel}: its folder is gone")
        try:
            self._stat_in(fd, rel)  # a symlink put there since the temporary write is refused
            os.replace(tmp, self.parts(rel)[-1], src_dir_fd=fd, dst_dir_fd=fd)
        except OSError as exc:
            self.remove_temp(rel, tmp)
            raise RefusedError(f"cannot write {rel}: {_why(exc)}") from None
        except BaseException:
            self.remove_temp(rel, tmp)
            raise

    def write(self, rel: str, data: bytes | str) -> None:
        """Write one file atomically (temporary file, fsync, replace, fsync of the folder)."""
        self.commit(rel, self.write_temp(rel, data))
        fd = self.folder(rel)
        if fd is not None:
            with suppress(OSError):
                os.fsync(fd)

    def remove_temp(self, rel: str, tmp: str) -> None:
        """Delete a temporary file of ours (quietly)."""
        fd = self._fds.get(self.parts(rel)[:-1])
        if fd is not None:
            with suppress(OSError):
                os.unlink(tmp, dir_fd=fd)

    def unlink(self, rel: str) -> None:
        """Delete a file (after the caller checked it is mlprod's)."""
        fd = self.folder(rel)
        if fd is None or self._stat_in(fd, rel) is None:
            return
        try:
            os.unlink(self.parts(rel)[-1], dir_fd=fd)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise RefusedError(f"cannot remove {rel}: {_why(exc)}") from None

    def read_only(self, rel: str) -> bool:
        """True when an existing file was made read-only (no owner write bit), or is not writable."""
        st = self.stat(rel)
        if st is None:
            return False
        if not st.st_mode & stat.S_IWUSR:
            return True
        return os.geteuid() != 0 and not os.access(self.root / rel, os.W_OK)

    def clean_stale_temps(self, folders: Iterable[str], name: str | None = None) -> list[str]:
        """Remove `.*.mlprod-tmp-<pid>` files (of `name` only, when given) whose process is gone.

        `folders` are paths relative to the root ("" for the root). Returns the removed
        paths. A folder that is missing, or a symlink, is skipped.
        """
        removed: list[str] = []
        for folder in sorted(set(folders)):
            try:
                fd = self.folder(f"{folder}/x" if folder else "x")
            except RefusedError:
                continue
            if fd is None:
                continue
            try:
                names = os.listdir(fd)
            except OSError:
                continue
            for entry in sorted(names):
                m = _TMP_RE.match(entry)
                if not m or (name is not None and m["name"] != name) or pid_alive(int(m["pid"])):
                    continue
                with suppress(OSError):
                    os.unlink(entry, dir_fd=fd)
                    removed.append(f"{folder}/{entry}" if folder else entry)
        return removed


def stale_note(removed: list[str]) -> str:
    """What to tell the user about temporary files removed from a run that was killed."""
    pids = sorted({m["pid"] for r in removed if (m := _TMP_RE.match(r.rsplit("/", 1)[-1]))}, key=int)
    shown = ", ".join(removed[:5]) + (f", ... ({len(removed)} in all)" if len(removed) > 5 else "")
    return (
        f"note: removed {len(removed)} temporary file(s) left by an interrupted mlprod run "
        f"(process {', '.join(pids)}, no longer running): {shown}"
    )


# --- one file outside generate ----------------------------------------------------------


def write_file(
    root: Path,
    rel: str,
    data: bytes | str,
    *,
    owned: Callable[[bytes], bool] | None = None,
    force: bool = False,
    hint: str | None = None,
) -> list[str]:
    """Write one file of a command (badge, HTML card, reports, golden, lock, spec) safely.

    `rel` is under `root`; no symlinked folder, target or temporary file is followed; an
    existing file is replaced only when `owned(its bytes)` says mlprod wrote it, or with
    `force`. Returns the temporary files of killed runs it removed (for a note).
    """
    with interruptible(), ProjectDir(root) as pd:
        folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        removed = pd.clean_stale_temps([folder], name=pd.parts(rel)[-1])
        old = pd.read_bytes(rel)
        if old is not None and not force and (owned is None or not owned(old)):
            raise RefusedError(
                f"{rel} exists and mlprod did not write it; nothing was written",
                hint=hint or "choose another path, or delete the file first",
            )
        pd.write(rel, data)
    return removed
