"""Helpers of the suites tests: run commands with a pinned environment, read JUnit reports."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "credit"
#: The multiclass example (tests/suites/test_chile_suite.py, test_defects_multiclass.py).
CHILE = REPO / "examples" / "chile"
TODAY = "2026-11-27"
#: What `mlprod generate` and a fresh checkout would not carry over from a working copy.
IGNORE = shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc", "junit*.xml")
#: What prepare, lock and record write: left out of the first copy, as in a fresh checkout.
FRESH = shutil.ignore_patterns(
    "__pycache__",
    ".pytest_cache",
    "*.pyc",
    "junit*.xml",
    "models",
    "logs",
    "train.csv",
    "test.csv",
    "current.csv",
    "mlprod.lock",
    "golden",
)


#: What turns a fresh checkout of an example into a project its generated tests run on.
PREPARE_STEPS = (
    ("prepare.py",),
    ("-m", "mlprod", "lock"),
    ("-m", "mlprod", "record"),
    ("-m", "mlprod", "generate", "--force"),
)


def prepare_copy(example: Path, root: Path) -> Path:
    """Copy `example` to `root` as a fresh checkout has it, then prepare, lock, record and generate."""
    shutil.copytree(example, root, ignore=FRESH)
    for args in PREPARE_STEPS:
        proc = run([sys.executable, *args], root, timeout=300)
        assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return root


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment of every subprocess: pinned today, one OpenMP thread, no user site noise."""
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MLPROD_TODAY=TODAY, MPLBACKEND="Agg")
    env.pop("PYTEST_ADDOPTS", None)
    env.update(extra)
    return env


def run(args: list[str], cwd: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command in `cwd` with the pinned environment; output captured as text."""
    return subprocess.run(
        args, cwd=cwd, env=subprocess_env(**env), capture_output=True, text=True, timeout=timeout, check=False
    )


def mlprod(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`mlprod <args>` in `root`, as a user would run it."""
    return run([sys.executable, "-m", "mlprod", *args], root, **env)


@dataclass
class Outcome:
    """One generated test's result from a JUnit XML report."""

    name: str  # file::test[id]
    status: str  # passed | failed | error | skipped
    message: str
    concern: str | None


def run_generated(
    root: Path, *files: str, **env: str
) -> tuple[dict[str, Outcome], subprocess.CompletedProcess[str]]:
    """Run the generated tests (all, or the named test files) with --junitxml; parse the outcomes."""
    junit = root / "junit-mlprod.xml"
    targets = [f"tests/mlprod/{f}" for f in files] or ["tests/mlprod"]
    proc = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            f"--junitxml={junit}",
            *targets,
        ],
        root,
        timeout=300,
        **env,
    )
    assert junit.is_file(), f"pytest wrote no report:\n{proc.stdout}\n{proc.stderr}"
    return parse_junit(junit), proc


def parse_junit(path: Path) -> dict[str, Outcome]:
    """{file::test[id]: Outcome} from a pytest JUnit XML file."""
    out: dict[str, Outcome] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        name = f"{module}.py::{case.get('name')}"
        status, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                status = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                message = f"{node.get('message', '')}\n{node.text or ''}"
                break
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        out[name] = Outcome(name, status, message, props.get("mlprod_concern"))
    return out


#: The example's generated tests that judge nothing there, each a skip with its reason:
#: drift within age_band (every band below drift.min_rows), the PII scan of the predict
#: stage (its output is an array of scores, no text), and the serving checks (no $MODEL_URL;
#: tests/serving runs them against a real server).
NOT_JUDGED = {
    "test_bias.py::test_drift_within_cohort[age_band]": "100 needed on both",
    "test_privacy.py::test_no_pii_values[predict]": "no text to scan",
}


def not_judged(name: str) -> bool:
    """True for a test of the example that is expected to skip as not judged."""
    return name in NOT_JUDGED or name.startswith("test_serving.py::")


#: The Chile example's generated tests that judge nothing there, each a skip with its reason:
#: the PII scan of the predict stage (its output is a probability matrix, no text) and the
#: serving checks (no $MODEL_URL).
CHILE_NOT_JUDGED = {
    "test_privacy.py::test_no_pii_values[predict]": "no text to scan",
}


def chile_not_judged(name: str) -> bool:
    """True for a test of the Chile example that is expected to skip as not judged."""
    return name in CHILE_NOT_JUDGED or name.startswith("test_serving.py::")
