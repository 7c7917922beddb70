"""The one safe writer of every command outside `generate` (`writer.write_file`), and the badge.

Reproduces the reported breaks: `score --badge` writing through a planted symlink (the
temporary file or the target) and silently overwriting a user's file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from mlprod.generator import writer

from mlprod.commands.score import write_badge
from mlprod.errors import RefusedError
from mlprod.score.badge import render_badge


def _mine(data: bytes) -> bool:
    return data.startswith(b"# mine")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    return project


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    return int(done.stdout)


def test_writes_creates_folders_and_replaces_its_own_file(root: Path) -> None:
    writer.write_file(root, "out/a.txt", "# mine 1\n", owned=_mine)
    writer.write_file(root, "out/a.txt", "# mine 2\n", owned=_mine)
    assert (root / "out/a.txt").read_text() == "# mine 2\n"
    assert sorted(os.listdir(root / "out")) == ["a.txt"]


def test_a_file_mlprod_did_not_write_needs_force(root: Path) -> None:
    (root / "notes.txt").write_text("my notes")
    with pytest.raises(RefusedError, match=r"notes\.txt exists and mlprod did not write it"):
        writer.write_file(root, "notes.txt", "# mine\n", owned=_mine)
    assert (root / "notes.txt").read_text() == "my notes"
    writer.write_file(root, "notes.txt", "# mine\n", owned=_mine, force=True)
    assert (root / "notes.txt").read_text() == "# mine\n"


def test_symlinked_target_folder_or_temporary_file_is_never_followed(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    (root / "link.txt").symlink_to(outside)
    with pytest.raises(RefusedError, match=r"link\.txt is a symlink"):
        writer.write_file(root, "link.txt", "# mine\n", owned=_mine, force=True)
    (root / "dir").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(RefusedError, match=r"symlinked parent \(dir\)"):
        writer.write_file(root, "dir/x.txt", "# mine\n", owned=_mine, force=True)
    # a planted temporary name (ours, guessed): removed as a link, never written through
    (root / writer.temp_name("t.txt")).symlink_to(outside)
    writer.write_file(root, "t.txt", "# mine\n", owned=_mine)
    assert outside.read_text() == "precious"
    assert (root / "t.txt").read_text() == "# mine\n" and not (root / "t.txt").is_symlink()
    assert not (root / writer.temp_name("t.txt")).exists()


def test_paths_outside_the_project_are_refused(root: Path, tmp_path: Path) -> None:
    with pytest.raises(RefusedError, match="outside the project"):
        writer.project_rel(root, tmp_path / "badge.svg")
    with pytest.raises(RefusedError, match="outside the project"):
        writer.project_rel(root, root / ".." / "badge.svg")
    assert writer.project_rel(root, root / "docs" / "badge.svg") == "docs/badge.svg"
    with pytest.raises(RefusedError, match=r"'\.git'"):
        writer.project_rel(root, root / ".git" / "hooks" / "pre-commit")


def test_stale_temporaries_of_the_target_are_removed(root: Path) -> None:
    pid = _dead_pid()
    stale = root / writer.temp_name("a.txt", pid)
    stale.write_text("half")
    other = root / writer.temp_name("b.txt", pid)
    other.write_text("half")
    removed = writer.write_file(root, "a.txt", "# mine\n", owned=_mine)
    assert removed == [stale.name] and not stale.exists() and other.exists()
    assert "(process " + str(pid) in writer.stale_note(removed)


# --- the badge (the reported break) -----------------------------------------------------------


def _report(total: int = 18) -> SimpleNamespace:
    return SimpleNamespace(total=total, max=20, failing=0)


def test_badge_through_a_planted_symlink_is_refused(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "victim.txt"
    outside.write_text("precious")
    (root / ".badge.svg.tmp").symlink_to(outside)  # the plant (the old temporary name)
    (root / writer.temp_name("badge.svg")).symlink_to(outside)  # and the current one
    write_badge(root / "badge.svg", _report(), root)  # type: ignore[arg-type]
    assert outside.read_text() == "precious"
    assert not (root / "badge.svg").is_symlink()
    assert (root / "badge.svg").read_text() == render_badge(18, 20)
    write_badge(root / "badge.svg", _report(3), root)  # type: ignore[arg-type]  # its own badge: replaced
    assert (root / "badge.svg").read_text() == render_badge(3, 20)
    (root / "badge.svg").unlink()
    (root / "badge.svg").symlink_to(outside)
    with pytest.raises(RefusedError, match=r"badge\.svg is a symlink"):
        write_badge(root / "badge.svg", _report(), root)  # type: ignore[arg-type]
    assert outside.read_text() == "precious"


def test_badge_never_overwrites_a_user_file_or_leaves_the_project(root: Path, tmp_path: Path) -> None:
    (root / "notes.txt").write_text("my notes")
    with pytest.raises(RefusedError, match=r"notes\.txt exists and mlprod did not write it"):
        write_badge(root / "notes.txt", _report(), root)  # type: ignore[arg-type]
    assert (root / "notes.txt").read_text() == "my notes"
    with pytest.raises(RefusedError, match="outside the project"):
        write_badge(tmp_path / "badge.svg", _report(), root)  # type: ignore[arg-type]
    assert not (tmp_path / "badge.svg").exists()


def test_badge_cli_refuses_a_foreign_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from helpers import minimal_spec_text

    from mlprod.cli import main

    (tmp_path / "mlprod.yaml").write_text(minimal_spec_text())
    (tmp_path / "notes.txt").write_text("my notes")
    code = main(["score", "--spec", str(tmp_path / "mlprod.yaml"), "--badge", str(tmp_path / "notes.txt")])
    err = capsys.readouterr().err
    assert code == 3 and "notes.txt exists and mlprod did not write it" in err and "Traceback" not in err
    assert (tmp_path / "notes.txt").read_text() == "my notes"


# --- evaluate --html and lock go through it too ------------------------------------------------


def test_evaluate_html_target_is_checked_before_any_work(root: Path, tmp_path: Path) -> None:
    from mlprod.commands.evaluate import HTML_MARKS, _html_target

    with pytest.raises(RefusedError, match="outside the project"):
        _html_target(root, tmp_path / "card.html", False)
    (root / "notes.html").write_text("<p>mine</p>")
    with pytest.raises(RefusedError, match="not a model card page mlprod wrote"):
        _html_target(root, root / "notes.html", False)
    assert _html_target(root, root / "notes.html", True) == "notes.html"  # --force
    (root / "card.html").write_text(f"<html>{HTML_MARKS[0]}</html>")
    assert _html_target(root, root / "card.html", False) == "card.html"
    outside = tmp_path / "victim.html"
    outside.write_text("precious")
    (root / "link.html").symlink_to(outside)
    with pytest.raises(RefusedError, match="symlink"):
        _html_target(root, root / "link.html", True)


def test_lock_is_never_written_through_a_symlink(root: Path, tmp_path: Path) -> None:
    from mlprod.commands.lock import _write

    outside = tmp_path / "victim.lock"
    outside.write_text("precious")
    (root / "mlprod.lock").symlink_to(outside)
    with pytest.raises(RefusedError, match="symlink"):
        _write(root, {"datasets": {}, "artifacts": {}, "python": "3.11"})
    assert outside.read_text() == "precious"
    (root / "mlprod.lock").unlink()
    assert _write(root, {"datasets": {}, "artifacts": {}, "python": "3.11"}) == ["new lock file"]
