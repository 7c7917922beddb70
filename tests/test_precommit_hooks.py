"""This repository's `.pre-commit-hooks.yaml`: valid for pre-commit, and the hooks run.

The end-to-end test copies the package sources into a fresh git repository (pre-commit
installs hooks from a commit, and the checkout's own git state is not ours to change),
then runs `pre-commit try-repo` against a copy of the example spec, which installs the
hook environment with pip (needs the package index; skipped when it is unreachable).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import credit_spec_text

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / ".pre-commit-hooks.yaml"


def test_manifest_is_valid_for_pre_commit() -> None:
    clientlib = pytest.importorskip("pre_commit.clientlib")
    hooks = {h["id"]: h for h in clientlib.load_manifest(str(HOOKS))}
    assert set(hooks) == {"mlprod-validate", "mlprod-generate-check"}
    assert hooks["mlprod-validate"]["entry"] == "mlprod validate"
    assert hooks["mlprod-generate-check"]["entry"] == "mlprod generate --check"
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["pass_filenames"] is False
    import re

    files = re.compile(hooks["mlprod-validate"]["files"])
    assert files.search("mlprod.yaml") and files.search("sub/mlprod.yml")
    assert not files.search("other.yaml") and not files.search("notmlprod.yaml")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.mark.slow
def test_try_repo_runs_validate_hook(tmp_path: Path) -> None:
    exe = shutil.which("pre-commit") or str(Path(sys.executable).with_name("pre-commit"))
    if not Path(exe).exists() or shutil.which("git") is None:
        pytest.skip("pre-commit or git not installed")
    repo = tmp_path / "mlprod-repo"
    repo.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, repo / name)
    for folder in ("mlprod", "schema", "generator", "templates"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=ignore)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "hooks")

    project = tmp_path / "project"
    project.mkdir()
    (project / "mlprod.yaml").write_text(credit_spec_text(), encoding="utf-8")
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        # Let the hook's virtualenv see the installed dependencies and build without an
        # isolated build env, so pip installs only the hook itself (seconds, not minutes).
        "VIRTUALENV_SYSTEM_SITE_PACKAGES": "1",
        "PIP_NO_BUILD_ISOLATION": "1",
    }

    def try_repo() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [exe, "try-repo", str(repo), "mlprod-validate", "--files", "mlprod.yaml"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    ok = try_repo()
    if ok.returncode != 0 and "mlprod validate" not in ok.stdout:
        pytest.skip(f"pre-commit could not install the hook environment (offline?): {ok.stdout[-500:]}")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "mlprod validate" in ok.stdout and "Passed" in ok.stdout

    # The same hook fails on an invalid spec and shows the located problem.
    (project / "mlprod.yaml").write_text(
        credit_spec_text().replace("task: binary", "tsk: binary"), encoding="utf-8"
    )
    bad = try_repo()
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout and "mlprod.yaml:" in bad.stdout and "tsk" in bad.stdout
