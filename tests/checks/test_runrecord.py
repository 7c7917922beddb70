"""Run records: the suite fingerprint, the record's reader and writer, and the recorder."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from mlprod.checks.runrecord import (
    RUN_RECORD_PATH,
    RunRecorder,
    RunRecordError,
    fingerprint_on_disk,
    git_state,
    make_record,
    read_run_record,
    run_entry,
    suite_fingerprint,
    write_run_record,
)

FILES = {"tests/mlprod/test_bias.py": b"x = 1\n", "tests/mlprod/conftest.py": b"import pytest\n"}


def _by_hand(version: str, spec: str, files: dict[str, bytes]) -> str:
    """The documented layout, computed independently: length-prefixed fields in sorted path order."""
    parts = [version.encode(), spec.encode()]
    for path in sorted(files):
        parts += [path.encode(), files[path]]
    body = b"".join(f"{len(p)}:".encode() + p for p in parts)
    return hashlib.sha256(b"mlprod-suite-fingerprint/1\0" + body).hexdigest()


def test_fingerprint_matches_the_documented_layout() -> None:
    assert suite_fingerprint("0.1.0", "version: 1\n", FILES) == _by_hand("0.1.0", "version: 1\n", FILES)


def test_fingerprint_ignores_order_and_line_endings() -> None:
    base = suite_fingerprint("0.1.0", "a: 1\n", FILES)
    reordered = dict(reversed(list(FILES.items())))
    crlf = {p: b.replace(b"\n", b"\r\n") for p, b in FILES.items()}
    assert suite_fingerprint("0.1.0", "a: 1\n", reordered) == base
    assert suite_fingerprint("0.1.0", "a: 1\r\n", crlf) == base


@pytest.mark.parametrize(
    ("version", "spec", "files"),
    [
        ("0.1.1", "a: 1\n", FILES),
        ("0.1.0", "a: 2\n", FILES),
        ("0.1.0", "a: 1\n", {**FILES, "tests/mlprod/test_bias.py": b"x = 2\n"}),
        ("0.1.0", "a: 1\n", {"tests/mlprod/test_other.py": b"x = 1\n", "tests/mlprod/conftest.py": b""}),
        ("0.1.0", "a: 1\n", {"tests/mlprod/conftest.py": b"import pytest\n"}),
    ],
    ids=["version", "spec", "content", "path", "file-removed"],
)
def test_fingerprint_changes_with_any_input(version: str, spec: str, files: dict[str, bytes]) -> None:
    assert suite_fingerprint(version, spec, files) != suite_fingerprint("0.1.0", "a: 1\n", FILES)


def test_fingerprint_on_disk_reads_the_spec_and_files(tmp_path: Path) -> None:
    (tmp_path / "tests" / "mlprod").mkdir(parents=True)
    for path, data in FILES.items():
        (tmp_path / path).write_bytes(data)
    (tmp_path / "mlprod.yaml").write_text("a: 1\n", encoding="utf-8")
    assert fingerprint_on_disk(tmp_path, "0.1.0", "mlprod.yaml", FILES) == suite_fingerprint(
        "0.1.0", "a: 1\n", FILES
    )


def test_record_round_trip(tmp_path: Path) -> None:
    tests = [
        run_entry("b::t", "bias", "skipped", False, "nothing to judge"),
        run_entry("a::t", "release", "passed", True),
    ]
    record = make_record("0.1.0", "f" * 64, "c" * 40, True, tests)
    path = write_run_record(tmp_path, record)
    assert path == tmp_path / RUN_RECORD_PATH
    back = read_run_record(path)
    assert back == record and [t["nodeid"] for t in back["tests"]] == ["a::t", "b::t"]
    assert not list(path.parent.glob(".*mlprod-tmp*"))


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{", "invalid JSON"),
        ('{"format": 2, "fingerprint": "x", "tests": []}', "format 1"),
        ('{"format": 1, "tests": []}', "fingerprint"),
        (
            '{"format": 1, "fingerprint": "x", "tests": [{"nodeid": "a", "outcome": "won", "judged": true}]}',
            r"tests\[0\]",
        ),
        ('{"format": 1, "fingerprint": "x", "tests": [{"nodeid": "a", "outcome": "passed"}]}', r"tests\[0\]"),
    ],
    ids=["json", "format", "fingerprint", "outcome", "judged"],
)
def test_read_refuses_what_is_not_a_record(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "last-run.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RunRecordError, match=why):
        read_run_record(path)


def test_read_of_a_missing_record_says_so(tmp_path: Path) -> None:
    with pytest.raises(RunRecordError, match="cannot read"):
        read_run_record(tmp_path / "nope.json")


def test_run_entry_refuses_an_unknown_outcome() -> None:
    with pytest.raises(ValueError, match="outcome"):
        run_entry("a", None, "xpassed", True)


def _report(nodeid: str, when: str, outcome: str, longrepr: object = None) -> SimpleNamespace:
    props = [("mlprod_concern", "bias"), ("mlprod_nodeid", f"tests/mlprod/{nodeid}")]
    return SimpleNamespace(
        nodeid=nodeid,
        when=when,
        passed=outcome == "passed",
        failed=outcome == "failed",
        skipped=outcome == "skipped",
        longrepr=longrepr,
        longreprtext=str(longrepr or ""),
        user_properties=props,
    )


def test_recorder_folds_phases_into_one_outcome_per_test(tmp_path: Path) -> None:
    rec = RunRecorder(tmp_path, "0.1.0", "mlprod.yaml", [])
    reports = [
        _report("t.py::ok", "setup", "passed"),
        _report("t.py::ok", "call", "passed"),
        _report("t.py::ok", "teardown", "passed"),
        _report("t.py::idle", "setup", "passed"),
        _report("t.py::idle", "call", "skipped", ("t.py", 3, "Skipped: nothing to judge: too few rows")),
        _report("t.py::idle", "teardown", "passed"),
        _report("t.py::bad", "setup", "passed"),
        _report("t.py::bad", "call", "failed", "recall gap 0.5 > 0.2"),
        _report("t.py::bad", "teardown", "failed", "teardown broke"),
        _report("t.py::broken", "setup", "failed", "fixture error"),
        _report("t.py::broken", "teardown", "passed"),
    ]
    for r in reports:
        rec.add(r)
    tests = {t["nodeid"].split("::")[1]: t for t in rec.record()["tests"]}
    assert {k: (t["outcome"], t["judged"]) for k, t in tests.items()} == {
        "ok": ("passed", True),
        "idle": ("skipped", False),
        "bad": ("failed", True),
        "broken": ("error", False),
    }
    assert tests["idle"]["message"] == "nothing to judge: too few rows"
    assert tests["bad"]["message"] == "recall gap 0.5 > 0.2"
    assert all(t["concern"] == "bias" and t["nodeid"].startswith("tests/mlprod/") for t in tests.values())


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_git_state_reads_head_and_dirty(tmp_path: Path) -> None:
    assert git_state(tmp_path) == (None, None)
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("a\n", encoding="utf-8")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "a")
    head = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert git_state(tmp_path) == (head, False)
    (tmp_path / "a.txt").write_text("b\n", encoding="utf-8")
    assert git_state(tmp_path) == (head, True)
    rec = RunRecorder(tmp_path, "0.1.0", "mlprod.yaml", [])
    assert dict(rec.suite_properties()) == {
        "mlprod_fingerprint": rec.fingerprint,
        "mlprod_commit": head,
        "mlprod_dirty": "true",
    }
    json.dumps(rec.record())
