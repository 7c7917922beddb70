"""What pytest reads besides the generated suite when CI runs it: the config file's
`addopts`, the conftest files of the folders that hold the tests folder, and any Python
file in the tests folder that `generate` does not write (pytest imports it in the same
session, so a module-level patch of `ensure` turns every check into a pass).

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
from collections.abc import Iterable
from fnmatch import fnmatch
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


def _options(path: Path) -> dict[str, str] | None:
    """The options of a pytest config file; None when the file is not pytest's config."""
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
        return {k: " ".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in options.items()}
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    section = _INI_SECTIONS[path.name]
    if not parser.has_section(section):
        return {} if path.name in ("pytest.ini", ".pytest.ini") else None
    return dict(parser.items(section))


def _collected(nodeid: str, options: dict[str, str]) -> bool:
    """Does pytest collect the test function of `nodeid` under `python_files`/`python_functions`
    (glob patterns, or prefixes for functions, as pytest matches them)?"""
    file, _, name = nodeid.partition("::")
    function = name.split("[", 1)[0].rsplit("::", 1)[-1]
    files = options.get("python_files", "test_*.py *_test.py").split()
    functions = options.get("python_functions", "test").split()
    base = file.rsplit("/", 1)[-1]
    in_file = any(fnmatch(base, p) or fnmatch(file, p) for p in files)
    return in_file and any(
        function.startswith(p) or (any(c in p for c in "*?[") and fnmatch(function, p)) for p in functions
    )


def _line(path: Path, word: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next((i for i, text in enumerate(lines, 1) if text.lstrip().startswith(word)), 0)


def config_problems(
    root: Path, tests_dir: str, top: Path, nodeids: Iterable[str] = (), rendered: Iterable[str] | None = None
) -> list[str]:
    """`FILE:LINE: construct` for what pytest's config or a conftest above the generated
    tests does to every run of them ([] when nothing does). Paths are shown from `root`."""
    tests = (root / tests_dir).resolve()
    folders = _folders(tests, top.resolve())
    problems: list[str] = []
    for folder in folders:
        names = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")
        found = next(((folder / n, o) for n in names if (o := _options(folder / n)) is not None), None)
        if found is not None:
            path, options = found
            problem = selection_problem(split_words(options.get("addopts", "")))
            if problem:
                problems.append(f"{_shown(path, root)}:{_line(path, 'addopts')}: addopts {problem}")
            left_out = [n for n in nodeids if not _collected(n, options)]
            if left_out:
                key = "python_files" if "python_files" in options else "python_functions"
                where = f"{_shown(path, root)}:{_line(path, key)}"
                problems.append(
                    f"{where}: `python_files`/`python_functions` do not collect {len(left_out)}"
                    f" generated tests (first: {left_out[0]})"
                )
            break
    if rendered is not None:  # the generated tests folder holds what generate writes, nothing else
        written = set(rendered)
        extra = sorted(
            rel
            for path in tests.rglob("*.py")
            if (rel := Path(os.path.relpath(path, root.resolve())).as_posix()) not in written
        )
        if extra:
            more = f" and {len(extra) - 1} more" if len(extra) > 1 else ""
            problems.append(
                f"{extra[0]}{more}: not written by generate, in {tests_dir}: pytest imports it in the same"
                " session, where it can change any test's outcome"
            )
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
