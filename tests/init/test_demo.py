"""`mlprod demo` end to end (slow, but run in CI): the whole value in one command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.slow


def test_demo_runs_end_to_end_and_scores_at_least_18(tmp_path):
    env = dict(os.environ, MLPROD_TODAY="2026-11-27", OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    env.pop("PYTEST_ADDOPTS", None)
    # Inside another pytest project whose settings would break the demo's tests: the demo
    # has its own pytest root (pytest.ini), so they do not apply.
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = "--no-such-option"\n')
    folder = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "mlprod", "demo", str(folder)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Traceback" not in out
    for step in ("prepare", "lock", "record", "generate", "evaluate", "mlprod ci run"):
        assert step in out, step
    assert "MODEL_CARD.md" in out  # says what to open next
    # It ends with the generated CI job, run on a clone of the demo's commit.
    last = proc.stdout.rstrip().splitlines()[-1]
    match = re.fullmatch(r"the CI job your push will run: passed \((\d+) tests(, (\d+) skipped)?\)", last)
    assert match, last
    junit = folder / "reports" / "ci-run" / "junit.xml"
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    assert int(match[1]) == len(cases) > 50
    assert not any(c.find("failure") is not None or c.find("error") is not None for c in cases)
    # Evidence is committed: data splits, models, the lock, the golden file, the pytest root.
    tracked = subprocess.run(["git", "ls-files"], cwd=folder, capture_output=True, text=True).stdout.split()
    for rel in ("data/train.csv", "models/model.joblib", "mlprod.lock", "tests/golden/predictions.csv"):
        assert rel in tracked, rel
    collect = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/mlprod/test_release.py", "-q", "-p", "no:cacheprovider"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    assert collect.returncode == 0, collect.stdout + collect.stderr

    score = subprocess.run(
        [sys.executable, "-m", "mlprod", "score", "--results", str(junit), "--format", "json"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    report = json.loads(score.stdout)
    assert report["total"] >= 18, score.stdout
    assert report["passed"] is True
    assert all(c["tests"]["failed"] == 0 for c in report["concerns"]), score.stdout
    # the demo's repository has everything committed
    status = subprocess.run(["git", "status", "--porcelain"], cwd=folder, capture_output=True, text=True)
    assert status.stdout.strip() == ""

    again = subprocess.run(
        [sys.executable, "-m", "mlprod", "demo", str(folder)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 3
    assert "already holds an mlprod project" in again.stderr
