"""Every broken spec in tests/fixtures/invalid exits 2 with its expected located lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlprod.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "invalid"
MINIMAL = "version: 1\nproject: {name: churn, task: binary_classification}\n"

# Fixtures too big to commit are built here; the rest are files.
GENERATED = {"yaml_too_large": lambda: (MINIMAL + "# " + "x" * 100 + "\n") * 11_000}


def _cases() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.expected"))


def _content(name: str) -> bytes:
    if name in GENERATED:
        return GENERATED[name]().encode()
    return (FIXTURES / f"{name}.yaml").read_bytes()


def _expected(name: str) -> list[str]:
    return (FIXTURES / f"{name}.expected").read_text(encoding="utf-8").splitlines()


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_enough_fixtures_and_each_has_a_spec() -> None:
    cases = _cases()
    assert len(cases) >= 30
    for name in cases:
        assert name in GENERATED or (FIXTURES / f"{name}.yaml").is_file(), name
        assert _expected(name), f"{name}.expected is empty"
    orphans = {p.stem for p in FIXTURES.glob("*.yaml")} - set(cases)
    assert not orphans, f"fixtures without .expected: {orphans}"


@pytest.mark.parametrize("name", _cases())
def test_invalid_fixture(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    (tmp_path / "mlprod.yaml").write_bytes(_content(name))
    before = _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    code = main(["validate", "mlprod.yaml"])
    out, err = capsys.readouterr()
    assert code == 2
    located = [line for line in err.splitlines() if line.startswith("mlprod.yaml:")]
    assert located == _expected(name)
    assert f"{len(located)} problem" in err
    assert "Traceback" not in out + err
    assert _tree(tmp_path) == before, "validate wrote or changed a file"


@pytest.mark.parametrize("name", _cases())
def test_invalid_fixture_json(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import json

    (tmp_path / "mlprod.yaml").write_bytes(_content(name))
    monkeypatch.chdir(tmp_path)
    code = main(["validate", "mlprod.yaml", "--format", "json"])
    out, _ = capsys.readouterr()
    assert code == 2
    report = json.loads(out)
    assert report["valid"] is False
    lines = [
        f"{p['file']}:{p['line']}:{p['col']}: " + (f"{p['path']}: " if p["path"] else "") + p["message"]
        for p in report["problems"]
    ]
    assert lines == _expected(name)
    assert all(p["line"] >= 1 and p["col"] >= 1 for p in report["problems"])


@pytest.mark.parametrize("name", ["yaml_duplicate_key", "schema_union_value_mapping"])
def test_invalid_fixture_subprocess(name: str, tmp_path: Path) -> None:
    """The installed console entry point, in a real process, behaves the same."""
    (tmp_path / "mlprod.yaml").write_bytes(_content(name))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mlprod", "validate", "mlprod.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    located = [line for line in proc.stderr.splitlines() if line.startswith("mlprod.yaml:")]
    assert located == _expected(name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlprod.yaml"]
