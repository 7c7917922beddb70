"""Output names longer than the file system holds (with mlprod's temporary name) are refused at the line.

The reported edge case: a legal 253-byte model-card name passed `validate`, but `generate`
could never write it, since its temporary name `.<name>.mlprod-tmp-<pid>` exceeds 255 bytes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import minimal_spec_text
from mlprod.generator import writer
from mlprod.generator.engine import generate_project
from mlprod.schema.names import MAX_FILE_NAME, NAME_MAX, PID_DIGITS

from mlprod.cli import main


def _spec(tmp_path: Path, outputs: str) -> Path:
    spec = tmp_path / "mlprod.yaml"
    spec.write_text(minimal_spec_text() + "outputs:\n" + outputs, encoding="utf-8")
    return spec


def test_the_limit_is_the_temporary_name_of_the_longest_pid() -> None:
    assert len(writer.temp_name("a" * MAX_FILE_NAME, int("9" * PID_DIGITS)).encode()) == NAME_MAX
    pid_max = Path("/proc/sys/kernel/pid_max")
    if pid_max.exists():
        assert len(pid_max.read_text().strip()) <= PID_DIGITS


@pytest.mark.parametrize(
    ("outputs", "size"),
    [
        ("  model_card: " + "c" * 250 + ".md\n", 253),  # the case
        ("  model_card: docs/" + "é" * 117 + ".md\n", 237),  # bytes, not characters
        ("  tests: " + "t" * 256 + "\n", 256),
        ("  notebooks: a/" + "n" * 300 + "/b\n", 300),
    ],
)
def test_validate_refuses_names_too_long_at_their_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], outputs: str, size: int
) -> None:
    spec = _spec(tmp_path, outputs)
    line = spec.read_text(encoding="utf-8").splitlines().index(outputs.rstrip("\n")) + 1
    assert main(["validate", "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:{line}:" in err and f"is {size} bytes" in err and "shorten it" in err
    assert main(["generate", "--spec", str(spec)]) == 2  # refused before anything is written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlprod.yaml"]


def test_the_longest_allowed_name_is_written(tmp_path: Path) -> None:
    name = "c" * (MAX_FILE_NAME - 3) + ".md"
    spec = _spec(tmp_path, f"  model_card: {name}\n")
    assert main(["validate", "--spec", str(spec)]) == 0
    generate_project(spec)
    assert (tmp_path / name).is_file()
