"""Run records of the generated suite, end to end on the credit example.

The plan's node ids (manifest `suite.tests`, `suite_node_ids`) equal what pytest collects;
a real run writes `.mlprod/last-run.json` and JUnit properties whose fingerprint equals
the manifest's, with node ids in the suite's own form whatever pytest's rootdir; a check
with nothing to judge is recorded as a skip with `judged: false`; under pytest-xdist the
controller writes the record.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from suitekit import EXAMPLE, FRESH, mlprod, not_judged, run

from mlprod import __version__
from mlprod.checks.runrecord import RUN_RECORD_PATH, read_run_record

pytestmark = pytest.mark.slow


def _manifest_suite(root: Path) -> dict:
    return json.loads((root / ".mlprod" / "manifest.json").read_text(encoding="utf-8"))["suite"]


def _junit(path: Path) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """(suite properties, {mlprod_nodeid: testcase properties}) of a JUnit file."""
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    top = suite.find("properties")
    props = {p.get("name"): p.get("value") for p in (top if top is not None else [])}
    cases = {}
    for case in suite.iter("testcase"):
        cp = {p.get("name"): p.get("value") for p in case.iter("property")}
        cases[cp["mlprod_nodeid"]] = cp
    return props, cases


def _pytest(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", *args],
        cwd,
        timeout=300,
        **env,
    )


def test_plan_node_ids_equal_what_pytest_collects(tmp_path: Path) -> None:
    from mlprod.generator.base import Context
    from mlprod.generator.units.suites import suite_node_ids
    from mlprod.schema import load_spec

    root = tmp_path / "credit"
    shutil.copytree(EXAMPLE, root, ignore=FRESH)
    proc = _pytest(root, "--collect-only", "--rootdir=.", "tests/mlprod")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    collected = sorted(line for line in proc.stdout.splitlines() if "::" in line)
    # a collection (an IDE's discovery) runs nothing: it writes no run record
    assert not (root / RUN_RECORD_PATH).exists()
    loaded = load_spec(root / "mlprod.yaml")
    ctx = Context(loaded.spec, loaded.sha256, __version__, loaded.root, loaded.path.name)
    planned = suite_node_ids(ctx)
    assert sorted(i for ids in planned.values() for i in ids) == collected
    assert _manifest_suite(root)["tests"] == planned


def test_a_run_records_its_suite_in_junit_and_last_run(credit_copy: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=credit_copy, check=True)
    subprocess.run(["git", "add", "-A"], cwd=credit_copy, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "c"],
        cwd=credit_copy,
        check=True,
    )
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=credit_copy, check=True, capture_output=True, text=True
    ).stdout.strip()
    junit = credit_copy.parent / "junit-outside.xml"
    # run from the parent folder: pytest's node ids then start with credit/, the record's do not
    proc = _pytest(
        credit_copy.parent,
        f"--junitxml={junit}",
        "credit/tests/mlprod/test_release.py",
        "credit/tests/mlprod/test_privacy.py",
        PYTHONDONTWRITEBYTECODE="1",  # no __pycache__ beside the committed files
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    suite = _manifest_suite(credit_copy)
    record = read_run_record(credit_copy / RUN_RECORD_PATH)
    assert record["fingerprint"] == suite["fingerprint"]
    assert (record["commit"], record["dirty"], record["mlprod_version"]) == (head, False, __version__)
    expected = sorted(suite["tests"]["release"] + suite["tests"]["privacy"])
    assert [t["nodeid"] for t in record["tests"]] == expected
    for t in record["tests"]:  # the predict stage's PII scan has no text column: not judged
        judged = not not_judged(t["nodeid"].split("/")[-1])
        assert (t["outcome"], t["judged"]) == (("passed", True) if judged else ("skipped", False)), t
    assert {t["concern"] for t in record["tests"]} == {"release", "privacy"}
    props, cases = _junit(junit)
    assert props == {
        "mlprod_fingerprint": suite["fingerprint"],
        "mlprod_commit": head,
        "mlprod_dirty": "false",
    }
    assert sorted(cases) == expected
    for nodeid, c in cases.items():
        assert c["mlprod_judged"] == ("false" if not_judged(nodeid.split("/")[-1]) else "true"), nodeid
    # the record is git-ignored: the run leaves the checkout clean
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=credit_copy, check=True, capture_output=True, text=True
    ).stdout
    assert status == ""


def test_a_check_with_nothing_to_judge_is_a_recorded_skip(credit_copy: Path) -> None:
    spec = credit_copy / "mlprod.yaml"
    spec.write_text(
        spec.read_text(encoding="utf-8").replace("  min_rows: 100\n", "  min_rows: 100000\n"),
        encoding="utf-8",
    )
    assert "min_rows: 100000" in spec.read_text(encoding="utf-8")
    gen = mlprod(credit_copy, "generate")
    assert gen.returncode == 0, gen.stdout + gen.stderr
    junit = credit_copy / "junit-skip.xml"
    proc = _pytest(
        credit_copy, f"--junitxml={junit}", "-k", "drift_within_cohort", "tests/mlprod/test_bias.py"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    record = read_run_record(credit_copy / RUN_RECORD_PATH)
    assert record["fingerprint"] == _manifest_suite(credit_copy)["fingerprint"]
    tests = record["tests"]
    assert len(tests) == 5 and all(t["outcome"] == "skipped" and not t["judged"] for t in tests)
    assert all("nothing to judge" in t["message"] and "100000 needed" in t["message"] for t in tests)
    _, cases = _junit(junit)
    assert {c["mlprod_judged"] for c in cases.values()} == {"false"}


def test_under_xdist_the_controller_writes_the_record(credit_copy: Path) -> None:
    pytest.importorskip("xdist")
    junit = credit_copy / "junit-xdist.xml"
    proc = _pytest(
        credit_copy, "-p", "xdist", "-n", "1", f"--junitxml={junit}", "tests/mlprod/test_release.py"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    suite = _manifest_suite(credit_copy)
    record = read_run_record(credit_copy / RUN_RECORD_PATH)
    assert record["fingerprint"] == suite["fingerprint"]
    assert [t["nodeid"] for t in record["tests"]] == suite["tests"]["release"]
    props, cases = _junit(junit)
    assert props["mlprod_fingerprint"] == suite["fingerprint"]
    assert sorted(cases) == suite["tests"]["release"]
