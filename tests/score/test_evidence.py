"""Evidence readers: git state, the in-memory render, JUnit files and run records."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from scorekit import ALL

from mlprod.errors import UsageError
from mlprod.score.git import read_git
from mlprod.score.results import gather, read_junit

# --- git -------------------------------------------------------------------------------------


def test_git_state_sees_tracked_staged_modified_and_renamed(project):
    project.write({"a.txt": "a", "b.txt": "b", "c.txt": "c", "sub/d.txt": "d"})
    project.commit()
    project.write({"a.txt": "changed", "new.txt": "n", "untracked.txt": "u"})
    project.git("add", "new.txt")
    project.git("mv", "b.txt", "b2.txt")
    state = read_git(project.root)
    assert state.available
    assert state.committed("c.txt") and state.committed("sub/d.txt")
    assert not state.committed("a.txt")  # modified
    assert not state.committed("new.txt")  # staged, never committed
    assert not state.committed("b2.txt")  # renamed, not committed
    assert not state.committed("untracked.txt")


def test_git_state_in_a_subfolder_uses_project_relative_paths(project):
    project.write({"svc/x.txt": "x", "y.txt": "y", ".gitignore": "*.lock\n"})
    project.commit()
    (project.root / "svc/x.txt").write_text("changed")
    state = read_git(project.root / "svc")
    assert state.prefix == "svc/"
    assert "x.txt" in state.tracked and "y.txt" not in state.tracked
    assert not state.committed("x.txt")
    assert state.ignored(["mlprod.lock", "x.txt"]) == {"mlprod.lock"}


# --- currency by content ---------------------------------------------------------------------


def test_the_render_is_the_proof_not_the_manifest(full):
    """`assert True` tests with their hashes rewritten in the manifest: caught by the re-render."""
    import hashlib
    import json

    full.record()
    manifest_path = full.root / ".mlprod/manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for entry in manifest["files"]:
        if entry["path"].startswith("tests/mlprod/test_"):
            text = "def test_ok():\n    assert True\n"
            (full.root / entry["path"]).write_text(text)
            entry["sha256"] = hashlib.sha256(text.encode()).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    full.commit("assert True everywhere")
    report = full.score()
    assert report.total == 10
    row = report.concerns[0]
    assert row.why.startswith("not what `mlprod generate` writes now: tests/mlprod/test_pipeline.py")


def test_a_managed_block_is_compared_inside_its_markers(full):
    full.record()
    template = full.root / ".github/pull_request_template.md"
    text = template.read_text()
    template.write_text("Our own intro.\n\n" + text + "\nOur own footer.\n")
    full.commit("edit outside the block")
    assert full.row("collaboration").level == 2
    template.write_text(text.replace("- [ ]", "- [x]", 1))
    full.commit("edit inside the block")
    row = full.row("collaboration")
    assert row.level == 1
    assert "not what `mlprod generate` writes now: .github/pull_request_template.md" in row.why


def test_the_shared_conftest_is_part_of_every_concern(full):
    full.record()
    full.write({"tests/mlprod/conftest.py": "collect_ignore_glob = ['*']\n"})
    full.commit("skip everything")
    report = full.score()
    assert all(r.level == 1 for r in report.concerns)
    assert "not what `mlprod generate` writes now: tests/mlprod/conftest.py" in report.concerns[3].why


def test_windows_line_endings_from_git_autocrlf_keep_level_2(full):
    full.record()
    full.git("config", "core.autocrlf", "true")
    test = full.root / "tests/mlprod/test_pipeline.py"
    test.unlink()
    full.git("checkout", "--", "tests/mlprod/test_pipeline.py")
    assert b"\r\n" in test.read_bytes()
    assert full.git("status", "--porcelain") == ""
    assert full.row("pipeline").level == 2


def test_an_untracked_manifest_no_longer_matters(full):
    """The manifest is generate's cache: it proves nothing and is not required."""
    full.record()
    full.git("rm", "-q", "--cached", ".mlprod/manifest.json")
    full.commit("untrack the manifest")
    assert full.score().total == 20


def test_an_untracked_spec_caps_at_1(full):
    full.record()
    full.write({".gitignore": "mlprod.yaml\n"})
    full.git("rm", "-q", "--cached", "mlprod.yaml")
    full.commit("untrack the spec")
    report = full.score()
    assert report.notes[0].startswith("uncommitted changes: mlprod.yaml")
    assert report.concerns[0].why == "uncommitted changes (see the note above)"


# --- evidence files: lock and golden predictions (issue 14) -----------------------------------


def test_an_ignored_lock_is_not_versioned(full):
    full.record()
    full.write({".gitignore": "/mlprod.lock\n"})
    full.git("rm", "-q", "--cached", "mlprod.lock")
    full.commit("ignore the lock")
    row = full.row("reproducibility")
    assert (row.level, row.why) == (1, "mlprod.lock is not versioned: .gitignore ignores it")
    assert row.fix == "remove mlprod.lock from .gitignore, then `git add mlprod.lock` and commit"
    assert full.score().total == 19


def test_an_uncommitted_lock_is_not_versioned(full):
    full.record()
    full.git("rm", "-q", "--cached", "mlprod.lock")
    full.git("commit", "-q", "-m", "drop the lock from git")  # the file stays, untracked
    row = full.row("reproducibility")
    assert (row.level, row.why) == (1, "mlprod.lock is not versioned: it is not committed")


def test_a_missing_lock_is_not_versioned(full):
    full.record()
    full.git("rm", "-q", "mlprod.lock")
    full.commit("delete the lock")
    row = full.row("reproducibility")
    assert (row.level, row.why) == (1, "mlprod.lock is not versioned: it does not exist")
    assert row.fix == "run `mlprod lock` and commit mlprod.lock"


def test_ignored_golden_predictions_are_not_versioned(project):
    project.credit(ci=True)
    project.commit()
    project.record()
    assert project.row("determinism").level == 2
    project.write({".gitignore": "/tests/golden/\n"})
    project.git("rm", "-q", "-r", "--cached", "tests/golden")
    project.commit("ignore the golden file")
    row = project.row("determinism")
    golden = "tests/golden/predictions.csv"
    assert (row.level, row.why) == (1, f"{golden} is not versioned: .gitignore ignores it")


# --- JUnit and run records ------------------------------------------------------------------


def test_real_pytest_junit_output_maps_to_concerns(tmp_path):
    """pytest's own JUnit writer, with the property a generated conftest records."""
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n"
        "@pytest.fixture(autouse=True)\n"
        "def _concern(request, record_property):\n"
        "    m = request.node.get_closest_marker('mlprod')\n"
        "    if m: record_property('mlprod_concern', m.kwargs['concern'])\n\n"
        "def pytest_configure(config):\n"
        "    config.addinivalue_line('markers', 'mlprod(concern): rubric concern')\n"
    )
    (tmp_path / "test_stuff.py").write_text(  # mapped by its property only
        "import pytest\npytestmark = pytest.mark.mlprod(concern='bias')\n"
        "def test_a(): pass\n"
        "def test_b(): assert False\n"
        "def test_c(): pytest.skip('no data')\n"
        "@pytest.mark.xfail\ndef test_d(): assert False\n"
    )
    (tmp_path / "test_release.py").write_text("def test_plain(): pass\n")  # no marker: by file name
    out = tmp_path / "r.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={out}", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        check=False,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},  # faster start-up
    )
    evidence = gather([out], tmp_path, "f" * 64)
    assert evidence.counts["bias"].as_dict() == {"passed": 1, "failed": 1, "skipped": 2}
    assert evidence.counts["release"].passed == 1
    assert evidence.unmapped.passed == 0
    assert evidence.refusals == [f"{out}: not a run of the generated suite (no mlprod_fingerprint)"]
    assert not evidence.proven


def test_junit_cases_map_by_property_then_by_file_or_classname(junit, tmp_path):
    path = junit(
        [
            ("bias", "tests.mlprod.test_privacy", "passed"),  # the property wins
            (None, "tests.mlprod.test_release", "failed"),
            (None, "tests.mlprod.test_release_extra", "passed"),  # not test_release
            (None, "tests.unit.test_other", "passed"),
            ("nonsense", "tests.foo", "passed"),
        ]
    )
    evidence = gather([path], tmp_path, "")
    assert evidence.counts["bias"].passed == 1
    assert evidence.counts["release"].failed == 1 and evidence.counts["release"].passed == 0
    assert "privacy" not in evidence.counts
    assert evidence.unmapped.passed == 3


def test_a_collection_error_maps_to_its_concern(tmp_path):
    path = tmp_path / "r.xml"
    path.write_text(  # what pytest writes when tests/mlprod/test_bias.py cannot be imported
        '<testsuites><testsuite name="pytest"><testcase classname="" name="tests.mlprod.test_bias">'
        '<error message="collection failure">ImportError</error></testcase></testsuite></testsuites>'
    )
    evidence = gather([path], tmp_path, "")
    assert evidence.counts["bias"].failed == 1 and evidence.unmapped.failed == 0


def test_junit_file_attribute_maps_a_case(tmp_path):
    path = tmp_path / "r.xml"
    path.write_text(
        '<testsuite><testcase classname="TestX" name="t" file="tests/mlprod/test_baseline.py"/></testsuite>'
    )
    assert gather([path], tmp_path, "").counts["baseline"].passed == 1


def test_read_junit_missing_file_raises_usage_error(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        read_junit(Path(tmp_path / "nope.xml"))


def test_a_large_results_file_is_streamed(tmp_path):
    import tracemalloc

    path = tmp_path / "big.xml"
    case = (
        '<testcase classname="tests.mlprod.test_bias" name="test_x[a|b-{i}]">'
        '<properties><property name="mlprod_concern" value="bias"/></properties>'
        "<system-out>" + "x" * 400 + "</system-out></testcase>"
    )
    path.write_text(
        "<testsuites><testsuite>"
        + "".join(case.format(i=i) for i in range(20000))
        + "</testsuite></testsuites>"
    )
    tracemalloc.start()
    try:
        result = read_junit(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(result.tests) == 20000
    assert peak < path.stat().st_size / 2  # not the whole tree in memory


def test_several_results_files_are_one_run(full):
    """The test job and the monitoring job: together they cover every concern."""
    tests = full.tests()
    bias = [t for t in tests if t["concern"] == "bias"]
    rest = [t for t in tests if t["concern"] != "bias"]
    first, second = full.junit(rest, name="test.xml"), full.junit(bias, name="monitor.xml")
    rows = {r.id: r for r in full.score(results=[first]).concerns}
    assert rows["bias"].level == 1
    assert rows["bias"].why.startswith("2 of 2 generated tests missing from the results (first: ")
    assert all(rows[c].level == 2 for c in ALL if c != "bias")
    assert full.score(results=[first, second]).total == 20


def test_a_failure_in_either_file_wins(full):
    tests = full.tests()
    failed = [dict(t, outcome="failed") if t["concern"] == "privacy" else t for t in tests]
    report = full.score(results=[full.junit(tests, name="a.xml"), full.junit(failed, name="b.xml")])
    assert report.failing == len([t for t in tests if t["concern"] == "privacy"])


def test_an_unreadable_run_record_is_a_note(full):
    full.write({".mlprod/last-run.json": "{not json"})
    report = full.score()
    assert report.notes[0].startswith(".mlprod/last-run.json is not usable: not a run record (invalid JSON")
    assert report.concerns[0].why == "no run of the current suite: run `pytest tests/mlprod`"
