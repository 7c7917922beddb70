"""The wheel holds every subpackage, the templates and the JSON Schema, and imports from itself."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import build_wheel

ROOT = Path(__file__).resolve().parents[1]
SUBPACKAGES = [
    "mlprod",
    "mlprod.schema",
    "mlprod.generator",
    "mlprod.checks",
    "mlprod.commands",
    "mlprod.templates",
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build from a copy of the sources, so the build leaves nothing in the checkout."""
    return build_wheel(tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("dist"))


def _names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def test_wheel_contains_every_subpackage(wheel: Path) -> None:
    names = _names(wheel)
    for package in SUBPACKAGES:
        assert f"{package.replace('.', '/')}/__init__.py" in names, package
    assert "mlprod/schema/mlprod.schema.json" in names
    assert "mlprod/py.typed" in names
    assert any(n.startswith("mlprod/templates/") and not n.endswith(".py") for n in names), (
        "no template files"
    )
    assert not any("__pycache__" in n or n.startswith(("tests/", "schema/", "generator/")) for n in names)
    assert any(n.endswith("entry_points.txt") for n in names)


def test_wheel_ships_every_source_file(wheel: Path) -> None:
    """Every module of the mapped folders is in the wheel under its package name."""
    names = _names(wheel)
    for folder, package in [
        ("mlprod", "mlprod"),
        ("schema", "mlprod/schema"),
        ("generator", "mlprod/generator"),
    ]:
        for path in (ROOT / folder).rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            rel = path.relative_to(ROOT / folder).as_posix()
            assert f"{package}/{rel}" in names, f"{folder}/{rel} is missing from the wheel"


def test_wheel_imports_and_validates(wheel: Path, tmp_path: Path) -> None:
    """Unpacked first on sys.path, the wheel's package imports, finds its data and validates."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    code = (
        "import importlib, json, mlprod\n"
        f"for m in {SUBPACKAGES!r}: importlib.import_module(m)\n"
        "assert mlprod.__file__.startswith(%r), mlprod.__file__\n"
        "import mlprod.schema, mlprod.templates\n"
        "assert mlprod.schema.__file__.startswith(%r), mlprod.schema.__file__\n"
        "from importlib.resources import files\n"
        "json.loads(files('mlprod.schema').joinpath('mlprod.schema.json').read_text())\n"
        "from mlprod.cli import main\n"
        "print('rc', main(['validate', 'nope.yaml']))\n"
    ) % (str(site), str(site))
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONNOUSERSITE": "1"}
    # The editable install's finder sits after the path finder, so PYTHONPATH wins; the
    # assertion on mlprod.__file__ proves the wheel's copy was imported.
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120
    )
    assert "rc 2" in proc.stdout, proc.stdout + proc.stderr
