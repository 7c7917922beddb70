"""`generate` killed or interrupted mid-write, a read-only manifest, a folder swapped for a symlink.

The SIGTERM and SIGKILL cases run the real process with the test units and the test hook
MLPROD_TEST_PAUSE (the writer waits at the named point to be killed); the test synchronises
on the files the run leaves (its temporary files, the journal, a replaced target), never on
a sleep. Each one then runs `generate` again without `--force` and asserts it succeeds,
leaves no temporary file, and `generate --check` agrees.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from genkit import FILES, MANAGED, generate, set_title
from helpers import read_tree
from mlprod.generator import guard, writer
from mlprod.generator.manifest import JOURNAL_PATH, MANIFEST_PATH

from mlprod.errors import RefusedError

_RUN = textwrap.dedent(
    """
    import sys
    sys.path[:0] = [{here!r}, {tests!r}]
    import genkit
    from mlprod.generator import engine
    engine.load_units = lambda: dict(genkit.UNITS)
    from mlprod.cli import main
    sys.exit(main(["generate", "--spec", sys.argv[1]]))
    """
)


def _temps(root: Path) -> list[str]:
    return sorted(p for p in read_tree(root) if writer.TMP_MARK in p)


def _start(project: Path, tmp_path: Path, pause: str) -> subprocess.Popen[bytes]:
    here = Path(__file__).parent
    script = tmp_path / "run_generate.py"
    script.write_text(_RUN.format(here=str(here), tests=str(here.parent)))
    env = {**os.environ, "MLPROD_TEST_PAUSE": pause}
    return subprocess.Popen(
        [sys.executable, str(script), str(project)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _wait_for(proc: subprocess.Popen[bytes], ready: Callable[[], bool]) -> None:
    """Poll the files the run leaves until `ready()`; the process must still be running."""
    deadline = time.monotonic() + 60
    while not ready():
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"generate ended (exit {proc.returncode}) before the pause: {err.decode()}")
        assert time.monotonic() < deadline, "the run never reached its pause"
        time.sleep(0.02)


def _manifest_temp_written(root: Path, proc: subprocess.Popen[bytes]) -> bool:
    """The run's manifest temporary file is the last one it writes before the journal."""
    return (root / ".mlprod" / writer.temp_name("manifest.json", proc.pid)).exists()


def _two_versions(project: Path) -> tuple[dict[str, bytes], str, str]:
    """Generate the first title; return the tree and both spec texts (spec left at the second)."""
    generate(project)
    old = read_tree(project.parent)
    first = project.read_text()
    set_title(project, "Second title")
    return old, first, project.read_text()


def _recovers(project: Path, cli, expected: dict[str, bytes]) -> str:  # type: ignore[no-untyped-def]
    """The next `generate` succeeds without --force, cleans up, and --check agrees."""
    root = project.parent
    code, out, said = cli("generate", "--spec", str(project))
    assert code == 0, said
    assert "does not own" not in said and "edited by hand" not in out + said
    assert _temps(root) == [] and not (root / JOURNAL_PATH).exists()
    after = read_tree(root)
    for rel in FILES + MANAGED:
        assert after[rel] == expected[rel], rel
    code, _, err = cli("generate", "--check", "--spec", str(project))
    assert code == 0, err
    return said


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_between_temporary_writes_and_replaces_cleans_up(
    project: Path, tmp_path: Path, cli, sig: signal.Signals
) -> None:
    root = project.parent
    old, first, _ = _two_versions(project)
    proc = _start(project, tmp_path, "temps")
    try:
        _wait_for(proc, lambda: _manifest_temp_written(root, proc) and (root / JOURNAL_PATH).exists())
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and f"interrupted by {sig.name}".encode() in err
    assert b"Traceback" not in err
    assert _temps(root) == []  # the handler's exception ran the cleanup
    assert not (root / JOURNAL_PATH).exists() and not (root / writer.LOCK_PATH).exists()
    after = read_tree(root)
    assert all(after[rel] == old[rel] for rel in FILES + MANAGED)
    project.write_text(first)  # the sequence: restore the spec, generate again
    _recovers(project, cli, old)


def test_sigkill_between_temporary_writes_and_replaces_recovers(project: Path, tmp_path: Path, cli) -> None:
    root = project.parent
    old, first, _ = _two_versions(project)
    proc = _start(project, tmp_path, "temps")
    try:
        _wait_for(proc, lambda: _manifest_temp_written(root, proc) and (root / JOURNAL_PATH).exists())
        proc.kill()
    finally:
        proc.wait(timeout=60)
    left = _temps(root)
    assert len(left) == 9  # eight files (headers carry the spec hash) and the manifest: no cleanup ran
    project.write_text(first)
    err = _recovers(project, cli, old)
    assert f"removed {len(left)} temporary file(s) left by an interrupted mlprod run" in err
    assert f"(process {proc.pid}, no longer running)" in err


@pytest.mark.parametrize("restore", [True, False], ids=["spec-restored", "spec-kept"])
def test_sigkill_after_some_replaces_is_not_called_a_hand_edit(
    project: Path, tmp_path: Path, cli, restore: bool
) -> None:
    """Killed after 3 of 6 replaces: the manifest is old, the journal knows the new contents."""
    root = project.parent
    old, first, second = _two_versions(project)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "mlprod.yaml").write_text(second)
    generate(fresh / "mlprod.yaml")
    new = read_tree(fresh)
    proc = _start(project, tmp_path, "replaced:3")
    try:  # .gitignore, PR.md, gen/a.py are replaced first (path order)
        _wait_for(proc, lambda: (root / "gen/a.py").read_bytes() == new["gen/a.py"])
        proc.kill()
    finally:
        proc.wait(timeout=60)
    after = read_tree(root)
    replaced = sorted(rel for rel in FILES + MANAGED if after[rel] != old[rel])
    assert replaced == [".gitignore", "PR.md", "gen/a.py"]
    assert (root / JOURNAL_PATH).exists() and _temps(root)
    if restore:  # without the journal, the reported break: mlprod calls its own files hand-edited
        broken = tmp_path / "no-journal"
        shutil.copytree(root, broken)
        (broken / JOURNAL_PATH).unlink()
        (broken / "mlprod.yaml").write_text(first)
        code, _, err = cli("generate", "--spec", str(broken / "mlprod.yaml"))
        assert code == 3 and "refusing to overwrite 3 file(s)" in err and "edited by hand" in err
    # with it, the next run succeeds without --force
    if restore:
        project.write_text(first)
    _recovers(project, cli, old if restore else new)


def test_read_only_manifest_is_refused_before_any_replace(project: Path, cli) -> None:
    root = project.parent
    old, _, _ = _two_versions(project)
    os.chmod(root / MANIFEST_PATH, 0o444)
    try:
        code, _, err = cli("generate", "--spec", str(project))
        assert code == 3 and f"{MANIFEST_PATH} is read-only" in err and "nothing was written" in err
        assert read_tree(root) == {**old, "mlprod.yaml": project.read_bytes()}
        assert _temps(root) == [] and not (root / JOURNAL_PATH).exists()
    finally:
        os.chmod(root / MANIFEST_PATH, 0o644)
    assert generate(project).written  # writable again: the run is the normal one
    code, _, err = cli("generate", "--check", "--spec", str(project))
    assert code == 0, err


def test_manifest_that_cannot_be_replaced_leaves_a_journal_the_next_run_uses(
    project: Path, monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    """Every file replaced, then the manifest write fails: the journal keeps them mlprod's own."""
    root = project.parent
    _two_versions(project)
    real = os.replace

    def no_manifest(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(dst) == "manifest.json":
            raise OSError(5, "Input/output error")
        return real(src, dst, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(os, "replace", no_manifest)
        with pytest.raises(RefusedError, match="Input/output error"):
            generate(project)
    assert (root / JOURNAL_PATH).exists() and _temps(root) == []
    assert b"Second title" in (root / "gen/a.py").read_bytes()
    code, _, err = cli("generate", "--spec", str(project))
    assert code == 0, err
    assert not (root / JOURNAL_PATH).exists()
    assert cli("generate", "--check", "--spec", str(project))[0] == 0


def test_folder_swapped_for_a_symlink_during_generate_cannot_redirect_a_write(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    """The issue's race, made deterministic: `gen` becomes a symlink after the checks."""
    root = project.parent
    _two_versions(project)
    outside = tmp_path / "outside"
    outside.mkdir()

    def swap(point: str) -> None:
        if point == "temps":
            (root / "gen").rename(root / "gen.moved")
            (root / "gen").symlink_to(outside, target_is_directory=True)

    monkeypatch.setattr(guard, "test_pause", swap)
    generate(project)
    assert list(outside.iterdir()) == []  # nothing reached the folder outside the project
    assert b"Second title" in (root / "gen.moved/a.py").read_bytes()  # the folder that was checked
    code, _, err = cli("generate", "--spec", str(project))  # the symlink itself is refused
    assert code == 3 and "gen/a.py has a symlinked parent (gen)" in err
    assert list(outside.iterdir()) == []


def test_file_swapped_for_a_symlink_before_its_replace_is_refused(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project.parent
    _two_versions(project)
    outside = tmp_path / "outside.py"
    outside.write_text("precious = 1\n")

    def swap(point: str) -> None:
        if point == "temps":
            (root / "gen/c.md").unlink()
            (root / "gen/c.md").symlink_to(outside)

    monkeypatch.setattr(guard, "test_pause", swap)
    with pytest.raises(RefusedError, match=r"gen/c\.md is a symlink"):
        generate(project)
    assert outside.read_text() == "precious = 1\n"
    assert (root / "gen/c.md").is_symlink() and _temps(root) == []


def test_stale_temporaries_of_dead_runs_are_removed_everywhere_and_said(project: Path, cli) -> None:
    """The issue's `--force removes only one`: leftovers in folders this run does not write."""
    root = project.parent
    generate(project)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    pid = int(dead.stdout)
    stale = [f"gen/.a.py{writer.TMP_MARK}{pid}", f".mlprod/.manifest.json{writer.TMP_MARK}{pid}"]
    live = f"gen/.f.py{writer.TMP_MARK}{os.getpid()}"  # a running process's file is left alone
    for rel in [*stale, live]:
        (root / rel).write_text("half")
    code, _, err = cli("generate", "--spec", str(project))
    assert code == 0
    assert f"removed 2 temporary file(s) left by an interrupted mlprod run (process {pid}" in err
    assert _temps(root) == [live]


def test_a_loop_flipping_a_folder_and_a_symlink_never_gets_a_write_outside(
    project: Path, tmp_path: Path
) -> None:
    """The issue's attack: a loop flips `gen` between the folder and a link outside, while
    `generate` runs again and again. Each run succeeds or refuses; nothing lands outside."""
    import threading

    root = project.parent
    generate(project)
    outside = tmp_path / "outside"
    outside.mkdir()
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                (root / "gen").rename(root / "gen.real")
                (root / "gen").symlink_to(outside, target_is_directory=True)
                (root / "gen").unlink()
                (root / "gen.real").rename(root / "gen")

    flipper = threading.Thread(target=flip)
    flipper.start()
    outcomes = []
    try:
        for i in range(30):
            set_title(project, f"Title {i}")
            try:
                generate(project)
                outcomes.append("written")
            except RefusedError:
                outcomes.append("refused")
    finally:
        stop.set()
        flipper.join()
    assert list(outside.iterdir()) == []
    assert len(outcomes) == 30


def test_two_interrupted_runs_in_a_row_still_recover(project: Path, tmp_path: Path, cli) -> None:
    """Run A is killed after 3 replaces, run B (another spec) at its temporary writes: the
    files A replaced must stay known when B's journal is written, so run C succeeds."""
    root = project.parent
    old, first, _ = _two_versions(project)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "mlprod.yaml").write_text(project.read_text())
    generate(fresh / "mlprod.yaml")
    second = read_tree(fresh)
    run_a = _start(project, tmp_path, "replaced:3")
    try:
        _wait_for(run_a, lambda: (root / "gen/a.py").read_bytes() == second["gen/a.py"])
        run_a.kill()
    finally:
        run_a.wait(timeout=60)
    journal_a = (root / JOURNAL_PATH).read_bytes()
    set_title(project, "Third title")
    run_b = _start(project, tmp_path, "temps")

    def b_journaled() -> bool:
        journal = root / JOURNAL_PATH
        return _manifest_temp_written(root, run_b) and journal.exists() and journal.read_bytes() != journal_a

    try:
        _wait_for(run_b, b_journaled)
        run_b.kill()
    finally:
        run_b.wait(timeout=60)
    assert (root / "gen/a.py").read_bytes() == second["gen/a.py"]  # B replaced nothing
    project.write_text(first)
    _recovers(project, cli, old)


# --- the sequence with the product's own renderer units -------------------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "credit"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_the_reported_sequence_on_the_credit_example(tmp_path: Path, sig: signal.Signals) -> None:
    """Edit the spec, generate, kill at the temporary writes, restore the spec, generate again."""
    root = tmp_path / "credit"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("data", "__pycache__", "reports"))
    spec = root / "mlprod.yaml"
    original = spec.read_text(encoding="utf-8")
    before = read_tree(root)

    def mlprod(*args: str, pause: str | None = None) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if k != "MLPROD_TEST_PAUSE"}
        if pause:
            env["MLPROD_TEST_PAUSE"] = pause
        cmd = [sys.executable, "-m", "mlprod", *args]
        return subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    spec.write_text(original + "# an edit\n", encoding="utf-8")
    proc = mlprod("generate", pause="temps")
    try:
        _wait_for(proc, lambda: _manifest_temp_written(root, proc) and (root / JOURNAL_PATH).exists())
        proc.send_signal(sig)
    finally:
        proc.communicate(timeout=60)
    assert _temps(root) if sig == signal.SIGKILL else not _temps(root)
    spec.write_text(original, encoding="utf-8")
    done = mlprod("generate")
    _, err = done.communicate(timeout=300)
    assert done.returncode == 0, err.decode()
    assert b"does not own" not in err and _temps(root) == [] and not (root / JOURNAL_PATH).exists()
    check = mlprod("generate", "--check")
    _, err = check.communicate(timeout=300)
    assert check.returncode == 0, err.decode()
    assert read_tree(root) == before  # the committed example, byte for byte
