"""Evidence readers: CI command detection, managed blocks, git state, real pytest JUnit."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlprod.generator.evidence import (
    ManifestFile,
    command_runs_tests,
    config_runs_tests,
    file_state,
    read_git,
    read_manifest,
    read_results,
)

TESTS = {"tests/mlprod"}


@pytest.mark.parametrize(
    ("line", "env", "expected"),
    [
        ("pytest tests/mlprod", {}, True),
        ("python -m pytest ./tests/mlprod/ --junitxml=r.xml", {}, True),
        ("pytest -q tests/mlprod/test_bias.py", {}, True),
        ("pytest tests/mlprod::test_x", {}, True),
        ('pytest "$MLPROD_TESTS"', {"MLPROD_TESTS": "tests/mlprod"}, True),
        ("pytest ${{ env.MLPROD_TESTS }}", {"MLPROD_TESTS": "./tests/mlprod"}, True),
        ("pytest $MLPROD_TESTS", {"MLPROD_TESTS": "tests/unit"}, False),
        ("pytest $MLPROD_TESTS", {}, False),
        ("pytest tests/unit", {}, False),
        ("pytest tests/mlprod_old", {}, False),
        ("echo pytest tests/mlprod-ish", {}, False),
        ("ls tests/mlprod", {}, False),
        ("# pytest tests/mlprod", {}, False),
        ("pip install pytest && pytest tests/mlprod", {}, True),
    ],
)
def test_command_runs_tests(line, env, expected):
    assert command_runs_tests(line, TESTS, env) is expected


def test_config_reads_run_steps_scripts_and_env():
    github = {
        "env": {"MLPROD_TESTS": "tests/mlprod"},
        "jobs": {"t": {"steps": [{"run": "pip install .\npytest \\\n  $MLPROD_TESTS"}]}},
    }
    assert config_runs_tests(github, TESTS)
    gitlab = {
        "job": {"variables": {"MLPROD_TESTS": {"value": "tests/mlprod"}}, "script": ["pytest $MLPROD_TESTS"]}
    }
    assert config_runs_tests(gitlab, TESTS)
    assert not config_runs_tests({"jobs": {"t": {"steps": [{"name": "pytest tests/mlprod"}]}}}, TESTS)
    assert not config_runs_tests(None, TESTS)


def test_managed_block_is_hashed_with_its_markers(tmp_path):
    block = "# >>> mlprod\n* @team\n# <<< mlprod\n"
    (tmp_path / "CODEOWNERS").write_text("docs/ @docs\n\n" + block + "extra/ @me\n")
    entry = ManifestFile(
        "CODEOWNERS", hashlib.sha256(block.encode()).hexdigest(), "text", "collaboration", True
    )
    assert file_state(tmp_path, entry) == "ok"
    (tmp_path / "CODEOWNERS").write_text("other/ @them\n" + block)  # outside the block: still ok
    assert file_state(tmp_path, entry) == "ok"
    (tmp_path / "CODEOWNERS").write_text(block.replace("@team", "@else"))
    assert file_state(tmp_path, entry) == "edited"
    (tmp_path / "CODEOWNERS").write_text("no block\n")
    assert file_state(tmp_path, entry) == "missing"


def test_a_damaged_manifest_is_reported_not_raised(tmp_path):
    (tmp_path / ".mlprod").mkdir()
    (tmp_path / ".mlprod/manifest.json").write_text("{not json")
    manifest = read_manifest(tmp_path)
    assert manifest is not None and manifest.problem.startswith(".mlprod/manifest.json is unreadable")
    assert read_manifest(tmp_path / "nowhere") is None


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
    project.write({"svc/x.txt": "x", "y.txt": "y"})
    project.commit()
    (project.root / "svc/x.txt").write_text("changed")
    state = read_git(project.root / "svc")
    assert state.prefix == "svc/"
    assert "x.txt" in state.tracked and "y.txt" not in state.tracked
    assert not state.committed("x.txt")


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
    counts, unmapped = read_results(out)
    assert counts["bias"].as_dict() == {"passed": 1, "failed": 1, "skipped": 2}  # xfail reports as skipped
    assert counts["release"].passed == 1
    assert unmapped == 0


def test_read_results_missing_file_raises_usage_error(tmp_path):
    from mlprod.errors import UsageError

    with pytest.raises(UsageError, match="not found"):
        read_results(Path(tmp_path / "nope.xml"))
