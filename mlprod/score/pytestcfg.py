"""What pytest reads besides the generated suite when CI runs it: the config file's
`addopts` and the conftest files of the folders that hold the tests folder.

Both apply to every run of the generated tests, in CI as on a laptop: an `addopts` that
deselects (`-k nothing`) leaves tests out of every run, and a `conftest.py` in a folder
above the tests folder can change any test's outcome (a hook that turns failures into
passes, a patched `ensure`). pytest's own rules are followed: the config file is the
first of `pytest.ini`, `.pytest.ini`, `pyproject.toml` (with `[tool.pytest.ini_options]`),
`tox.ini` (with `[pytest]`), `setup.cfg` (with `[tool:pytest]`) found from the tests
folder upwards; a conftest applies to the tests below its folder.
"""

from __future__ import annotations

import configparser
import os
import tomllib
from pathlib import Path

from .shell import selection_problem, split_words

_INI_SECTIONS = {
    "pytest.ini": "pytest",
    ".pytest.ini": "pytest",
    "tox.ini": "pytest",
    "setup.cfg": "tool:pytest",
}


def _folders(tests: Path, top: Path) -> list[Path]:
    """The folders from `tests` up to `top` (both included), nearest first."""
    out = [tests]
    while out[-1] != top and out[-1].parent != out[-1]:
        out.append(out[-1].parent)
    return out if out[-1] == top else [tests]


def _addopts(path: Path) -> str | None:
    """The `addopts` of a pytest config file; None when the file is not pytest's config."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if path.name == "pyproject.toml":
        try:
            options = tomllib.loads(text).get("tool", {}).get("pytest", {}).get("ini_options")
        except tomllib.TOMLDecodeError:
            return None
        if not isinstance(options, dict):
            return None
        value = options.get("addopts", "")
        return " ".join(map(str, value)) if isinstance(value, list) else str(value)
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    section = _INI_SECTIONS[path.name]
    if not parser.has_section(section):
        return "" if path.name in ("pytest.ini", ".pytest.ini") else None
    return parser.get(section, "addopts", fallback="")


def _line(path: Path, word: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next((i for i, text in enumerate(lines, 1) if text.lstrip().startswith(word)), 0)


def config_problems(root: Path, tests_dir: str, top: Path) -> list[str]:
    """`FILE:LINE: construct` for what pytest's config or a conftest above the generated
    tests does to every run of them ([] when nothing does). Paths are shown from `root`."""
    tests = (root / tests_dir).resolve()
    folders = _folders(tests, top.resolve())
    problems: list[str] = []
    for folder in folders:
        names = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")
        found = next(((folder / n, a) for n in names if (a := _addopts(folder / n)) is not None), None)
        if found is not None:
            path, addopts = found
            problem = selection_problem(split_words(addopts))
            if problem:
                problems.append(f"{_shown(path, root)}:{_line(path, 'addopts')}: addopts {problem}")
            break
    for folder in folders[1:]:
        conftest = folder / "conftest.py"
        if conftest.is_file():
            problems.append(
                f"{_shown(conftest, root)}: a conftest above {tests_dir} applies to every generated test"
                " and can change its outcome"
            )
    return problems


def _shown(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root.resolve())).as_posix()
