"""File-safety refusals and crash safety of `generate` (with the test units)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from genkit import FILES, MANAGED, generate, set_title
from helpers import read_tree
from mlprod.generator import writer
from mlprod.generator.engine import Action
from mlprod.generator.manifest import MANIFEST_PATH

from mlprod.errors import RefusedError


def _temps(root: Path) -> list[str]:
    return [p for p in read_tree(root) if writer.TMP_MARK in p]


def test_symlink_target_pointing_out_of_the_project_is_refused(project: Path, tmp_path: Path, cli) -> None:
    root = project.parent
    outside = tmp_path / "outside.py"
    outside.write_text("precious = 1\n")
    (root / "gen").mkdir()
    (root / "gen/a.py").symlink_to(outside)
    code, _, err = cli("generate", "--spec", str(project))
    assert code == 3 and "gen/a.py is a symlink" in err and "Traceback" not in err
    assert outside.read_text() == "precious = 1\n"
    assert not (root / MANIFEST_PATH).exists()
    code, _, err = cli("generate", "--check", "--spec", str(project))
    assert code == 3 and "symlink" in err  # --check refuses to read through it too


def test_symlinked_parent_folder_is_refused(project: Path, tmp_path: Path, cli) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (project.parent / "gen").symlink_to(outside, target_is_directory=True)
    code, _, err = cli("generate", "--spec", str(project))
    assert code == 3 and "gen/a.py has a symlinked parent (gen)" in err
    assert list(outside.iterdir()) == []


def test_symlinked_mlprod_folder_is_refused(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (project.parent / ".mlprod").symlink_to(outside, target_is_directory=True)
    with pytest.raises(RefusedError, match="symlink"):
        generate(project)
    assert list(outside.iterdir()) == []


def test_read_only_folder_is_exit_3_with_a_clear_message(
    project: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project.parent
    (root / "gen").mkdir()
    os.chmod(root / "gen", 0o555)
    if os.geteuid() == 0:  # root ignores permissions: make the folder refuse like a read-only one
        real_open = os.open

        gen_temps = tuple(f".{Path(rel).name}{writer.TMP_MARK}" for rel in FILES)

        def deny(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
            # files are created by name, relative to their folder's handle (dir_fd)
            if str(path).startswith(gen_temps) and flags & os.O_CREAT:
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", deny)
    try:
        code, _, err = cli("generate", "--spec", str(project))
    finally:
        os.chmod(root / "gen", 0o755)
    assert code == 3 and "cannot write gen/" in err and "Permission denied" in err
    assert "Traceback" not in err
    assert _temps(root) == [] and not (root / ".mlprod/generate.lock").exists()
    assert list((root / "gen").iterdir()) == []


def test_live_lock_refuses_a_concurrent_run(project: Path, cli) -> None:
    root = project.parent
    (root / ".mlprod").mkdir()
    (root / ".mlprod/generate.lock").write_text(json.dumps({"pid": os.getpid()}))
    code, _, err = cli("generate", "--spec", str(project))
    assert code == 3 and "another mlprod generate is running" in err
    assert not (root / "gen").exists()
    assert (root / ".mlprod/generate.lock").exists()  # someone else's lock is left alone


def test_stale_locks_are_taken_over(project: Path) -> None:
    root = project.parent
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    lock = root / ".mlprod/generate.lock"
    lock.parent.mkdir()
    lock.write_text(json.dumps({"pid": int(dead.stdout)}))  # that process has exited
    assert generate(project).written
    assert not lock.exists()
    set_title(project, "Second title")
    lock.write_text(json.dumps({"pid": os.getpid()}))
    old = time.time() - writer.STALE_LOCK_SECONDS - 60
    os.utime(lock, (old, old))  # alive but older than the limit
    assert generate(project).written


def _fail_on_call(monkeypatch: pytest.MonkeyPatch, name: str, n: int) -> None:
    """Make the n-th call of os.<name> fail with ENOSPC."""
    real = getattr(os, name)
    calls = {"n": 0}

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == n:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, failing)


@pytest.mark.parametrize("name", ["write", "replace"])
def test_enospc_on_the_third_write_leaves_old_or_new_content(
    project: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    root = project.parent
    generate(project)
    old = read_tree(root)
    set_title(project, "Second title")
    new_root = root.parent / "fresh"
    new_root.mkdir()
    (new_root / "mlprod.yaml").write_bytes(project.read_bytes())
    generate(new_root / "mlprod.yaml")
    new = read_tree(new_root)
    with monkeypatch.context() as m:
        _fail_on_call(m, name, 3)
        with pytest.raises(RefusedError, match="No space left on device"):
            generate(project)
    after = read_tree(root)
    assert _temps(root) == []
    assert not (root / ".mlprod/generate.lock").exists()
    for rel in FILES + MANAGED:
        assert after[rel] in (old[rel], new[rel]), rel
    if name == "write":  # failed while writing temporary files: nothing was replaced
        assert all(after[rel] == old[rel] for rel in FILES + MANAGED)
    else:
        assert any(after[rel] == new[rel] for rel in FILES + MANAGED)
    # the next run recovers without calling anything a hand edit
    generate(project)
    assert {rel: data for rel, data in read_tree(root).items() if rel != "mlprod.yaml"} == {
        rel: data for rel, data in new.items() if rel != "mlprod.yaml"
    }


_SLOW_WRITE = textwrap.dedent(
    """
    import os, time
    _real_write = os.write
    _state = {"n": 0}

    def _slow_write(fd, data):
        # The 3rd file: write half of it, say so, then hang until killed.
        if len(data) > 40:
            _state["n"] += 1
            if _state["n"] == 3:
                _real_write(fd, bytes(data[: len(data) // 2]))
                open(os.environ["MLPROD_TEST_READY"], "w").close()
                time.sleep(60)
        return _real_write(fd, data)

    os.write = _slow_write
    """
)

_RUN_WITH_TEST_UNITS = textwrap.dedent(
    """
    import sys
    sys.path[:0] = [{here!r}, {tests!r}]
    import genkit
    from mlprod.generator import engine
    engine.load_units = lambda: dict(genkit.UNITS)
    from mlprod.cli import main
    main(["generate", "--spec", sys.argv[1]])
    """
)


def test_process_killed_mid_generate_leaves_no_partial_file(project: Path, tmp_path: Path) -> None:
    root = project.parent
    generate(project)
    old = read_tree(root)
    set_title(project, "Second title")
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_SLOW_WRITE)
    script = tmp_path / "run.py"
    here = str(Path(__file__).parent)
    script.write_text(_RUN_WITH_TEST_UNITS.format(tests=str(Path(here).parent), here=here))
    ready = tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": str(hook), "MLPROD_TEST_READY": str(ready)}
    proc = subprocess.Popen([sys.executable, str(script), str(project)], env=env)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert proc.poll() is None, "generate finished before the hook fired"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.kill()  # SIGKILL: no cleanup runs
    finally:
        proc.wait()
    after = read_tree(root)
    for rel in FILES + MANAGED:
        assert after[rel] == old[rel], rel  # the kill came while writing temporary files
    assert _temps(root)  # the half-written temporary file is the only trace
    # the next run takes the dead process's lock over and clears its temporary files
    assert generate(project).written
    assert _temps(root) == []
    assert b"Second title" in (root / "gen/a.py").read_bytes()


# --- the spec's outputs paths (real renderer units) ------------------------------------------


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ("  model_card: mlprod.yaml\n", "is the spec file itself"),
        ("  model_card: ./mlprod.yaml\n", "is the spec file itself"),
        ("  model_card: MLProd.YAML\n", "is the spec file itself"),  # one file on macOS
        ("  model_card: .mlprod/card.md\n", "inside .mlprod/"),
        ("  tests: .mlprod\n", "inside .mlprod/"),
        ("  notebooks: .mlprod/nb\n", "inside .mlprod/"),
        ("  model_card: .gitignore\n", "already generates another file"),
        ("  model_card: .gitignore/card.md\n", "is inside .gitignore"),
        ("  model_card: card.md/\n", "names a folder"),
        ('  model_card: "a\\u2028b.md"\n', "control or line-break character"),
    ],
)
def test_bad_outputs_paths_are_spec_errors_even_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], outputs: str, message: str
) -> None:
    """Exit 2 with the located setting; never exit 4, and --force never overwrites the spec."""
    from helpers import minimal_spec_text

    from mlprod.cli import main

    text = minimal_spec_text() + "outputs:\n" + outputs
    spec = tmp_path / "mlprod.yaml"
    spec.write_text(text, encoding="utf-8")
    code = main(["generate", "--force", "--spec", str(spec)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{spec}:" in err and "outputs." in err and message in err and "Traceback" not in err
    assert spec.read_text(encoding="utf-8") == text
    assert sorted(read_tree(tmp_path)) == ["mlprod.yaml"]


def test_model_card_path_is_normalised(tmp_path: Path) -> None:
    from helpers import minimal_spec_text
    from mlprod.generator.engine import generate_project

    spec = tmp_path / "mlprod.yaml"
    spec.write_text(minimal_spec_text() + "outputs:\n  model_card: ./docs//card.md\n", encoding="utf-8")
    report = generate_project(spec)
    assert "docs/card.md" in report.paths(Action.CREATE) and (tmp_path / "docs/card.md").is_file()
