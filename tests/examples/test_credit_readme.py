"""The credit example's README: the commands it shows exist as shown, its numbers match the spec.

The README is also the README of every `mlprod init --template credit` project, so a
wrong path or option there is the first thing a new user runs into.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
from mlprod.schema import load_spec

from mlprod.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "credit"
README = (EXAMPLE / "README.md").read_text(encoding="utf-8")


def shown_commands() -> list[list[str]]:
    """The command lines of the README's ```sh blocks, comments removed, split like a shell."""
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    assert blocks, "the README shows no commands"
    lines = [line.split("  #", 1)[0].strip() for block in blocks for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line and not line.startswith("#")]


def _options(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The --help text of an mlprod command (which must exist)."""
    words = [w for w in argv if not w.startswith("-")]
    command = words[:2] if words[:1] == ["ci"] else words[:1]
    assert main([*command, "--help"]) == 0, f"`mlprod {' '.join(command)}` is not a command"
    return capsys.readouterr().out


def test_every_mlprod_command_and_option_shown_exists(capsys: pytest.CaptureFixture[str]) -> None:
    mlprod = [argv[1:] for argv in shown_commands() if argv[0] == "mlprod"]
    assert len(mlprod) >= 6
    for argv in mlprod:
        help_text = _options(argv, capsys)
        for word in argv:
            if word.startswith("--"):
                assert word.split("=", 1)[0] in help_text, f"`mlprod {' '.join(argv)}`: no option {word}"


def test_files_paths_and_reports_shown_match_the_spec() -> None:
    spec = load_spec(EXAMPLE / "mlprod.yaml").spec
    commands = shown_commands()
    for argv in commands:
        if argv[0] == "python":
            assert (EXAMPLE / argv[1]).is_file(), argv
        elif argv[0] == "export":
            assert all(re.fullmatch(r"[A-Z_]+=\S+", a) for a in argv[1:]), argv
    [pytest_line] = [argv for argv in commands if argv[0] == "pytest"]
    assert pytest_line[1] == spec.outputs.tests
    junit = next(a.split("=", 1)[1] for a in pytest_line if a.startswith("--junitxml="))
    [score] = [argv for argv in commands if argv[:2] == ["mlprod", "score"]]
    assert score[score.index("--results") + 1] == junit


def test_install_commands_quoted_work_from_where_they_say() -> None:
    installs = re.findall(r"`(pip install [^`]+)`", README)
    assert installs
    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    for command in installs:
        argv = shlex.split(command)
        target = argv[-1]
        assert "../" not in target, f"{command}: a relative path that is wrong from a project folder"
        extra = re.search(r"\[(\w+)\]", target)
        assert extra is None or extra[1] in extras, command
        if argv[2] == "-e":  # from a clone of mlprod: the clone's top has the pyproject
            assert target.startswith(".[")


def test_numbers_the_readme_quotes_from_the_spec_are_the_spec_s() -> None:
    """Budgets in ms and thresholds are not quoted unless they equal the spec's values."""
    spec = load_spec(EXAMPLE / "mlprod.yaml").spec
    infra = spec.infrastructure
    assert infra is not None
    budgets = {
        v
        for part in (infra.latency, infra.batch)
        for k, v in (part.model_dump() if part else {}).items()
        if k.endswith("_ms") and v is not None
    }
    for quoted in re.findall(r"(\d+(?:\.\d+)?) ?ms\b", README):
        assert float(quoted) in budgets, f"the README quotes {quoted} ms, which is no budget of the spec"
    bounds = (
        {spec.fairness.max_gap.get("recall"), spec.fairness.equalized_odds_difference}
        if spec.fairness
        else set()
    )
    for quoted in re.findall(r"bounds? (0\.\d+)", README):
        assert float(quoted) in bounds, f"the README quotes the bound {quoted}, which the spec does not have"
