"""Guards of a running mlprod process: the generate lock, signals, and the tests' pause point.

- `.mlprod/generate.lock` (O_CREAT|O_EXCL, relative to the `.mlprod` folder handle) refuses
  a concurrent `generate`; a lock whose process is gone, or older than STALE_LOCK_SECONDS,
  is taken over.
- `interruptible` turns SIGTERM and SIGINT into `Interrupted` while files are written, so
  the writers' cleanup runs (temporary files removed, the journal left consistent).
- `test_pause` lets tests kill a real process at a known point of the write phase.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import PurePosixPath
from types import FrameType
from typing import TYPE_CHECKING

from mlprod.errors import RefusedError

if TYPE_CHECKING:  # pragma: no cover
    from .writer import ProjectDir

LOCK_PATH = ".mlprod/generate.lock"
STALE_LOCK_SECONDS = 600
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGINT arrived while files were written; cleanup runs like for an exception."""


def pid_alive(pid: int) -> bool:
    """True when process `pid` exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


_installed = threading.local()


@contextmanager
def interruptible() -> Iterator[None]:
    """Turn SIGTERM and SIGINT into `Interrupted` while the block runs (main thread only).

    The exception unwinds through the writers' cleanup (temporary files removed, the journal
    left consistent). A second signal during that cleanup is ignored so the cleanup finishes.
    """
    if getattr(_installed, "on", False) or threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if fired:
            return
        fired.append(signum)
        raise Interrupted(f"interrupted by {signal.Signals(signum).name}")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    _installed.on = True
    try:
        yield
    finally:
        _installed.on = False
        for s, h in previous.items():
            signal.signal(s, h)
        if fired:  # the CLI layer turns the exception into exit 130 without a word: say what happened
            name = signal.Signals(fired[0]).name
            with suppress(OSError, ValueError):
                sys.stderr.write(f"mlprod: interrupted by {name}; temporary files removed\n")
                sys.stderr.flush()


def test_pause(point: str) -> None:
    """Tests only: when MLPROD_TEST_PAUSE names `point`, wait here (up to 2 minutes) to be killed."""
    if os.environ.get("MLPROD_TEST_PAUSE") == point:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.05)


def _lock_is_stale(pd: ProjectDir) -> bool:
    """A lock older than STALE_LOCK_SECONDS, or whose process is gone, is stale."""
    try:
        st = pd.stat(LOCK_PATH)
        data = pd.read_bytes(LOCK_PATH)
    except RefusedError:
        return False
    if st is None or data is None:
        return True
    if time.time() - st.st_mtime > STALE_LOCK_SECONDS:
        return True
    try:
        pid = int(json.loads(data.decode("utf-8"))["pid"])
    except (ValueError, KeyError, TypeError):
        return False  # being written right now, or unreadable: respect it until it ages
    return not pid_alive(pid)


@contextmanager
def generate_lock(pd: ProjectDir) -> Iterator[None]:
    """Hold `.mlprod/generate.lock`; a live lock of another process is refused (exit 3)."""
    fd = pd.folder(LOCK_PATH, create=True)
    assert fd is not None
    name = PurePosixPath(LOCK_PATH).name
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    for attempt in range(2):
        try:
            f = os.open(name, flags, 0o644, dir_fd=fd)
            break
        except FileExistsError:
            if attempt == 0 and _lock_is_stale(pd):
                with suppress(OSError):  # a killed run: take its lock over
                    os.unlink(name, dir_fd=fd)
                continue
            raise RefusedError(
                "another mlprod generate is running (lock .mlprod/generate.lock)",
                hint="wait for it to finish; if none is running, delete .mlprod/generate.lock",
            ) from None
        except OSError as exc:
            raise RefusedError(f"cannot create {LOCK_PATH}: {exc.strerror or exc}") from None
    try:
        os.write(f, json.dumps({"pid": os.getpid()}).encode())
    finally:
        os.close(f)
    try:
        yield
    finally:
        with suppress(OSError):
            os.unlink(name, dir_fd=fd)
