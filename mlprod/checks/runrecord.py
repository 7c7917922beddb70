"""Run records: what a run of the generated suite proves, written by the generated conftest.

Every run records the suite fingerprint (which suite ran), the git commit and dirty flag
(annotations only), and per test its concern, its node id in the suite's own form
(`<path relative to the spec folder>::<test>[<id>]`), its outcome and whether it judged
anything. The record goes to the git-ignored `.mlprod/last-run.json` on every run and, when
`--junitxml` is given, into the JUnit file as properties (`mlprod_fingerprint`,
`mlprod_commit`, `mlprod_dirty` on the test suite; `mlprod_concern`, `mlprod_nodeid`,
`mlprod_judged` on each test case). `mlprod score` reads either.

This module imports nothing from pytest: the conftest passes pytest's reports in, and
`RunRecorder` reads only their plain attributes.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .formats import dumps_json

#: The run record's path, relative to the spec folder (git-ignored by the managed block).
RUN_RECORD_PATH = ".mlprod/last-run.json"
#: The version of the record's layout; readers refuse any other.
FORMAT = 1
OUTCOMES = ("passed", "failed", "skipped", "error")
#: JUnit property names.
PROP_FINGERPRINT = "mlprod_fingerprint"
PROP_COMMIT = "mlprod_commit"
PROP_DIRTY = "mlprod_dirty"
PROP_CONCERN = "mlprod_concern"
PROP_NODEID = "mlprod_nodeid"
PROP_JUDGED = "mlprod_judged"
_MESSAGE_CHARS = 2000


class RunRecordError(ValueError):
    """A run record that cannot be read: missing, not JSON, another format or a wrong shape."""


def normalise_newlines(data: bytes) -> bytes:
    """`data` with CRLF and lone CR line ends turned into LF (a Windows checkout hashes alike)."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def suite_fingerprint(mlprod_version: str, spec_text: str, files: Mapping[str, bytes]) -> str:
    """The suite's identity: sha256 hex over mlprod's version, the spec's text, and for each
    path in sorted order the path (POSIX, relative to the spec folder) and its LF-normalised
    bytes. `files` are the generated test files and their conftest.

    Every field is length-prefixed, so no two different inputs share a byte stream.
    """
    digest = hashlib.sha256(b"mlprod-suite-fingerprint/1\0")

    def field(data: bytes) -> None:
        digest.update(f"{len(data)}:".encode())
        digest.update(data)

    field(mlprod_version.encode())
    field(normalise_newlines(spec_text.encode("utf-8")))
    for path in sorted(files):
        field(path.encode("utf-8"))
        field(normalise_newlines(files[path]))
    return digest.hexdigest()


def read_suite_files(root: Path, paths: Iterable[str]) -> dict[str, bytes]:
    """{path: bytes} of the suite's files under `root`; a missing file hashes as empty."""
    out: dict[str, bytes] = {}
    for rel in paths:
        try:
            out[rel] = (root / rel).read_bytes()
        except OSError:
            out[rel] = b""
    return out


def fingerprint_on_disk(root: Path, mlprod_version: str, spec_file: str, paths: Iterable[str]) -> str:
    """`suite_fingerprint` of the spec and suite files as they are on disk under `root`."""
    try:
        spec_text = (root / spec_file).read_bytes().decode("utf-8", errors="replace")
    except OSError:
        spec_text = ""
    return suite_fingerprint(mlprod_version, spec_text, read_suite_files(root, paths))


def git_state(root: Path) -> tuple[str | None, bool | None]:
    """(HEAD commit, whether files under `root` differ from it); (None, None) outside git."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *args],
                capture_output=True,
                text=True,
                timeout=20,
                env=env,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    head = git("rev-parse", "--verify", "-q", "HEAD")
    if head is None or not head.strip():
        return None, None
    status = git("status", "--porcelain", "--", ".")
    return head.strip(), (None if status is None else bool(status.strip()))


def run_entry(
    nodeid: str, concern: str | None, outcome: str, judged: bool, message: str = ""
) -> dict[str, Any]:
    """One test of a run record."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    return {
        "nodeid": nodeid,
        "concern": concern,
        "outcome": outcome,
        "judged": bool(judged),
        "message": message[:_MESSAGE_CHARS],
    }


def make_record(
    mlprod_version: str,
    fingerprint: str,
    commit: str | None,
    dirty: bool | None,
    tests: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """A run record (format 1); tests sorted by node id."""
    return {
        "format": FORMAT,
        "mlprod_version": mlprod_version,
        "fingerprint": fingerprint,
        "commit": commit,
        "dirty": dirty,
        "tests": sorted((dict(t) for t in tests), key=lambda t: str(t["nodeid"])),
    }


def write_run_record(root: Path, record: Mapping[str, Any]) -> Path:
    """Write `record` to `<root>/.mlprod/last-run.json` atomically (docs/formats.md: sorted
    keys, indent 2; the temporary name matches the managed .gitignore's `.*.mlprod-tmp-*`)."""
    path = root / RUN_RECORD_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.mlprod-tmp-{os.getpid()}")
    tmp.write_text(dumps_json(record), encoding="utf-8", newline="\n")
    os.replace(tmp, path)
    return path


def read_run_record(path: Path | str) -> dict[str, Any]:
    """The run record at `path`, checked for shape; RunRecordError says what is wrong."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RunRecordError(f"{path}: cannot read the run record ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunRecordError(f"{path}: not a run record (invalid JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RunRecordError(f"{path}: not a run record of format {FORMAT}")
    if not isinstance(data.get("fingerprint"), str) or not isinstance(data.get("tests"), list):
        raise RunRecordError(f"{path}: a run record needs a fingerprint and a list of tests")
    for i, t in enumerate(data["tests"]):
        if (
            not isinstance(t, dict)
            or not isinstance(t.get("nodeid"), str)
            or t.get("outcome") not in OUTCOMES
            or not isinstance(t.get("judged"), bool)
        ):
            raise RunRecordError(f"{path}: tests[{i}] needs a nodeid, an outcome in {OUTCOMES} and judged")
    return data


# --- the recorder the generated conftest drives ------------------------------------------------


class RunRecorder:
    """Collects pytest's reports into a run record (on the xdist controller, or a plain run).

    The conftest calls `suite_properties()` once, `test_properties(...)` per test before its
    teardown report is made (so JUnit carries them), `add(report)` for each log report,
    and `write()` at the end of the session.
    """

    def __init__(self, root: Path, mlprod_version: str, spec_file: str, suite_files: Iterable[str]) -> None:
        self.root = root
        self.version = mlprod_version
        self.fingerprint = fingerprint_on_disk(root, mlprod_version, spec_file, suite_files)
        self.commit, self.dirty = git_state(root)
        self._tests: dict[str, dict[str, Any]] = {}

    def suite_properties(self) -> list[tuple[str, str]]:
        """The JUnit test-suite properties of this run."""
        props = [(PROP_FINGERPRINT, self.fingerprint)]
        if self.commit is not None:
            props.append((PROP_COMMIT, self.commit))
        if self.dirty is not None:
            props.append((PROP_DIRTY, "true" if self.dirty else "false"))
        return props

    def add(self, report: Any) -> None:
        """Fold one pytest report (setup, call or teardown) into its test's entry."""
        props = dict(getattr(report, "user_properties", ()) or ())
        nodeid = str(props.get(PROP_NODEID) or report.nodeid)
        entry = self._tests.setdefault(
            nodeid,
            {
                "nodeid": nodeid,
                "concern": props.get(PROP_CONCERN),
                "outcome": "passed",
                "judged": True,
                "message": "",
            },
        )
        if props.get(PROP_CONCERN) is not None:
            entry["concern"] = props[PROP_CONCERN]
        outcome = phase_outcome(report)
        if outcome is None or entry["outcome"] in ("error", "failed"):
            return  # a later phase never hides an earlier failure
        entry["outcome"] = outcome
        entry["message"] = report_message(report)
        if outcome != "passed":
            entry["judged"] = outcome == "failed"

    @property
    def tests_seen(self) -> int:
        """How many generated tests reported so far."""
        return len(self._tests)

    def record(self) -> dict[str, Any]:
        """The run record of the reports added so far."""
        tests = [run_entry(**t) for t in self._tests.values()]
        return make_record(self.version, self.fingerprint, self.commit, self.dirty, tests)

    def write(self) -> Path:
        """Write the run record to `.mlprod/last-run.json`."""
        return write_run_record(self.root, self.record())


def phase_outcome(report: Any) -> str | None:
    """What one phase report says about its test: None when it changes nothing."""
    when = getattr(report, "when", "call")
    if report.skipped:
        return "skipped"
    if report.failed:
        return "failed" if when == "call" else "error"
    return "passed" if when == "call" else None


def report_message(report: Any) -> str:
    """The skip reason or the failure text of a report; empty when it passed."""
    if report.passed:
        return ""
    longrepr = getattr(report, "longrepr", None)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, "Skipped: why")
        text = str(longrepr[2])
        return text.removeprefix("Skipped: ")
    return str(getattr(report, "longreprtext", "") or longrepr or "")
