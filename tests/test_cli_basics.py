"""The CLI skeleton: version, help, usage errors, exit codes, tracebacks only with --debug."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import mlprod
from mlprod import cli
from mlprod.cli import main
from mlprod.commands import validate as validate_cmd
from mlprod.errors import (
    CheckFailed,
    ExitCode,
    MlprodError,
    RefusedError,
    SpecError,
    SpecNotFound,
    UsageError,
)


@pytest.fixture(autouse=True)
def _no_debug_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # `--debug` sets MLPROD_DEBUG for the process; monkeypatch restores it after each test.
    monkeypatch.delenv("MLPROD_DEBUG", raising=False)


def test_version(capsys) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"mlprod {mlprod.__version__}"


def test_help_lists_validate(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: mlprod" in out and "validate" in out and "--debug" in out


def test_no_arguments_shows_help(capsys) -> None:
    assert main([]) == 0
    out, err = capsys.readouterr()
    assert "Usage: mlprod" in out + err and "Commands" in out + err


def test_command_help(capsys) -> None:
    assert main(["validate", "--help"]) == 0
    assert "--format" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["--no-such-option"],
        ["no-such-command"],
        ["validate", "--format", "xml"],
        ["validate", "a.yaml", "b.yaml"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "Usage" in out + err or "Error" in out + err


def test_exit_code_values_are_the_documented_contract() -> None:
    assert {c.name: int(c) for c in ExitCode} == {
        "OK": 0,
        "CHECK_FAILED": 1,
        "INVALID": 2,
        "REFUSED": 3,
        "INTERNAL": 4,
    }
    assert SpecError([]).exit_code == ExitCode.INVALID
    assert SpecNotFound("x").exit_code == UsageError("x").exit_code == ExitCode.INVALID
    assert RefusedError("x").exit_code == ExitCode.REFUSED
    assert CheckFailed("x").exit_code == ExitCode.CHECK_FAILED
    assert MlprodError("x").exit_code == ExitCode.INTERNAL


def _boom() -> int:
    raise ZeroDivisionError("boom inside a command")


def _patch_validate(monkeypatch: pytest.MonkeyPatch, replacement) -> None:
    # typer keeps a reference to the registered function: patch the module attribute the
    # loader reads and force a fresh registration on a fresh app.
    import typer

    monkeypatch.setattr(validate_cmd, "validate", replacement)
    fresh = typer.Typer(
        **{k: getattr(cli.app.info, k) for k in ("name", "help")},
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    fresh.callback()(cli._root)
    monkeypatch.setattr(cli, "app", fresh)
    monkeypatch.setattr(cli, "_registered", set())


def test_internal_error_without_debug_has_no_traceback(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    _patch_validate(monkeypatch, _boom)
    assert main(["validate"]) == ExitCode.INTERNAL
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "internal error: ZeroDivisionError: boom inside a command" in err
    assert "--debug" in err


def test_internal_error_with_debug_shows_traceback(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    _patch_validate(monkeypatch, _boom)
    assert main(["--debug", "validate"]) == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "ZeroDivisionError: boom inside a command" in err


def test_spec_error_exit_code_is_kept_with_debug(tmp_path: Path, capsys) -> None:
    (tmp_path / "mlprod.yaml").write_text("version: 2\n")
    assert main(["--debug", "validate", str(tmp_path / "mlprod.yaml")]) == ExitCode.INVALID
    assert "version" in capsys.readouterr().err


def test_console_script_in_a_real_process(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mlprod", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"mlprod {mlprod.__version__}"
    proc = subprocess.run(
        [sys.executable, "-m", "mlprod", "validate"], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert proc.returncode == 2
    assert "mlprod init" in proc.stderr and "Traceback" not in proc.stderr


def test_debug_does_not_leak_into_the_next_in_process_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """`--debug` sets MLPROD_DEBUG for its own run only; a later call shows no traceback."""
    (tmp_path / "mlprod.yaml").write_text("version: 2\n")
    assert main(["--debug", "validate", str(tmp_path / "mlprod.yaml")]) == ExitCode.INVALID
    capsys.readouterr()
    assert "MLPROD_DEBUG" not in os.environ
    _patch_validate(monkeypatch, _boom)
    assert main(["validate"]) == ExitCode.INTERNAL
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("argv", "choices"),
    [(["validate", "--format", "xml"], "text, json"), (["score", "--format", "xml"], "text, json, markdown")],
)
def test_a_bad_choice_is_one_plain_sentence(argv: list[str], choices: str, capsys) -> None:
    assert main(argv) == ExitCode.INVALID
    err = capsys.readouterr().err
    assert f"Invalid value for '--format': 'xml' is not a choice; use one of: {choices}." in err
    assert "Value error" not in err
