"""The generated CI jobs pass on a fresh clone: the committed example and a new `mlprod demo`.

One clean virtual environment per session runs every job with the generated install line
unchanged (`pip install "mlprod[checks]==<version>"`): a wheel of the working tree is built
once and served through PIP_FIND_LINKS, so that line installs this very code. The example
is its committed files only (`git ls-files`) in a repository of its own, as a user who
copies it has; `mlprod ci run` then clones HEAD, so nothing untracked travels.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import build_wheel

from mlprod import __version__

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "credit"
GIT = ("-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false")
TODAY = "2026-11-27"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(OMP_NUM_THREADS="1", MLPROD_TODAY=TODAY, MPLBACKEND="Agg", **extra)
    return env


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the wheel of the working tree (built from a copy of the sources)."""
    wheel = build_wheel(tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("wheels"))
    assert wheel.name == f"mlprod-{__version__}-py3-none-any.whl"
    return wheel.parent


@pytest.fixture(scope="session")
def job_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the jobs' virtual environment lives (the first job creates and fills it)."""
    return tmp_path_factory.mktemp("job") / "venv"


def _commit_all(root: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", *GIT, "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", *GIT, "commit", "-q", "-m", "project"], cwd=root, check=True)


@pytest.fixture(scope="session")
def example_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's tracked files (as committed or staged) in a repository of their own."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "."], cwd=EXAMPLE, capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout of mlprod: the committed example is unknown")
    root = tmp_path_factory.mktemp("example") / "credit"
    for rel in filter(None, listed.stdout.split("\0")):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(EXAMPLE / rel, root / rel)
    _commit_all(root)
    return root


@pytest.fixture(scope="session")
def demo_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh `mlprod demo` repository (the demo commits it itself)."""
    base = tmp_path_factory.mktemp("demo")
    proc = subprocess.run(
        [sys.executable, "-m", "mlprod", "demo", "demo"],
        cwd=base,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return base / "demo"


@pytest.mark.parametrize("provider", ["github", "gitlab"])
@pytest.mark.parametrize("project", ["example_repo", "demo_repo"])
def test_generated_job_passes_on_a_fresh_clone(
    project: str, provider: str, request: pytest.FixtureRequest, wheelhouse: Path, job_venv: Path
) -> None:
    root: Path = request.getfixturevalue(project)
    links = " ".join(filter(None, [str(wheelhouse), os.environ.get("PIP_FIND_LINKS", "")]))
    artifacts = root.parent / f"artifacts-{provider}"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlprod",
            "ci",
            "run",
            "--provider",
            provider,
            "--venv",
            str(job_venv),
            "--artifacts",
            str(artifacts),
        ],
        cwd=root,
        env=_env(PIP_FIND_LINKS=links),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Install ... ok" in out or 'pip install "mlprod[checks]==' in out  # the install line ran
    assert proc.stdout.rstrip().splitlines()[-1].startswith("the CI job your push will run: passed (")
    # The job ran this working tree's mlprod, installed from the wheel by the generated line.
    shown = subprocess.run(
        [
            str(job_venv / "bin" / "python"),
            "-I",
            "-c",
            "import mlprod; print(mlprod.__file__, mlprod.__version__)",
        ],
        capture_output=True,
        text=True,
    ).stdout
    assert str(job_venv) in shown and __version__ in shown
    cases = list(ET.parse(artifacts / "junit.xml").getroot().iter("testcase"))
    assert len(cases) > 50
    failing = [c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None]
    assert failing == []
    if provider == "github":  # the uploaded reports were copied
        assert (
            artifacts / f"mlprod-reports-py{sys.version_info[0]}.{sys.version_info[1]}" / "junit.xml"
        ).is_file()
    score = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlprod",
            "score",
            "--results",
            str(artifacts / "junit.xml"),
            "--format",
            "json",
        ],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
    )
    report = json.loads(score.stdout)
    assert report["total"] == 20, score.stdout
    assert all(c["tests"]["failed"] == 0 for c in report["concerns"])
    assert (
        subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
        == ""
    )
