"""`mlprod validate`: summary, JSON, missing file, no writes, no user code, lean start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import credit_spec_text, minimal_spec_text, read_tree, write_tree

from mlprod.cli import main

HEAVY = (
    "pandas",
    "numpy",
    "scipy",
    "sklearn",
    "jinja2",
    "nbformat",
    "nbclient",
    "cookiecutter",
    "matplotlib",
)


def test_valid_spec_prints_one_line_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    write_tree(tmp_path, {"mlprod.yaml": credit_spec_text()})
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 0  # default path ./mlprod.yaml
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and not err
    assert out.startswith("mlprod.yaml: valid. credit_default: 10/10 concerns declared")
    assert "4 stages, 5 cohorts, 4 datasets." in out


def test_json_summary_counts_match_the_spec(tmp_path: Path, capsys) -> None:
    write_tree(tmp_path, {"spec.yaml": minimal_spec_text()})
    assert main(["validate", str(tmp_path / "spec.yaml"), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {
        "valid": True,
        "file": str(tmp_path / "spec.yaml"),
        "project": "churn",
        "concerns": ["privacy"],
        "manual": ["privacy"],
        "stages": 0,
        "cohorts": 0,
        "datasets": 2,
    }


def test_all_problems_are_reported_at_once(tmp_path: Path, capsys) -> None:
    text = (
        credit_spec_text()
        .replace("task: binary_classification", "task: binary")
        .replace("dataset: test\n  strategies", "dataset: tset\n  strategies")
        .replace("min_each: 1", "min_each: 7")
    )
    write_tree(tmp_path, {"mlprod.yaml": text})
    assert main(["validate", str(tmp_path / "mlprod.yaml")]) == 2
    err = capsys.readouterr().err
    assert "project.task:" in err and "score.min_each:" in err
    assert "2 problems found; nothing was written." in err  # rules run only once fields are valid


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_missing_file_exits_2_with_init_hint(tmp_path: Path, capsys, fmt: str) -> None:
    assert main(["validate", str(tmp_path / "nope.yaml"), "--format", fmt]) == 2
    out, err = capsys.readouterr()
    assert "mlprod init" in out + err
    assert "Traceback" not in out + err
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_not_a_spec(tmp_path: Path, capsys) -> None:
    assert main(["validate", str(tmp_path)]) == 2
    assert "folder" in capsys.readouterr().err


def test_validate_never_imports_project_code(tmp_path: Path, capsys) -> None:
    """`model.load` and stage `run` name a module that would write a file when imported."""
    marker = tmp_path / "imported.txt"
    spec = (
        credit_spec_text()
        .replace("credit.model:load_model", "evil_mod:load")
        .replace("credit.pipeline:ingest", "evil_mod:ingest")
    )
    write_tree(
        tmp_path,
        {
            "mlprod.yaml": spec,
            "evil_mod.py": f"open({str(marker)!r}, 'w').write('x')\ndef load(): pass\ndef ingest(x): pass\n",
        },
    )
    before = read_tree(tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        assert main(["validate", str(tmp_path / "mlprod.yaml")]) == 0
    finally:
        sys.path.remove(str(tmp_path))
    assert "evil_mod" not in sys.modules
    assert not marker.exists()
    assert read_tree(tmp_path) == before


def test_start_up_imports_no_heavy_library(tmp_path: Path) -> None:
    """A fresh process: after `mlprod validate` none of the data/templating stacks is loaded."""
    write_tree(tmp_path, {"mlprod.yaml": credit_spec_text()})
    code = (
        "import sys\nfrom mlprod.cli import main\n"
        "rc = main(['validate', 'mlprod.yaml'])\n"
        f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print('HEAVY', heavy, rc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY [] 0" in proc.stdout


def test_importtime_shows_no_heavy_library(tmp_path: Path) -> None:
    write_tree(tmp_path, {"mlprod.yaml": minimal_spec_text()})
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mlprod", "validate", "mlprod.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    imported = {
        line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "import time:" in line
    }
    assert "mlprod.schema.models" in imported  # the probe itself works
    assert not {m for m in imported if m.split(".")[0] in HEAVY}


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_an_unreadable_spec_is_an_io_error_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, fmt: str
) -> None:
    spec = tmp_path / "mlprod.yaml"
    spec.write_text(minimal_spec_text(), encoding="utf-8")

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)  # chmod 000 does not stop root
    assert main(["validate", str(spec), "--format", fmt]) == 3
    out, err = capsys.readouterr()
    assert "cannot read" in out + err and "Permission denied" in out + err
    assert "permissions" in out + err  # says what to do next
    assert "Traceback" not in out + err
    if fmt == "json":
        assert json.loads(out)["valid"] is False


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path, capsys) -> None:
    os.mkfifo(tmp_path / "mlprod.yaml")
    assert main(["validate", str(tmp_path / "mlprod.yaml")]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_a_file_as_parent_folder_is_a_missing_spec(tmp_path: Path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("x\n")
    assert main(["validate", str(tmp_path / "notes.txt" / "mlprod.yaml")]) == 2
    err = capsys.readouterr().err
    assert "no spec file" in err and "Traceback" not in err


def test_spec_option_works_like_the_other_commands(tmp_path, capsys):
    from mlprod.cli import main

    spec = tmp_path / "svc.yaml"
    spec.write_text(
        (Path(__file__).resolve().parents[1] / "fixtures" / "reference" / "minimal.mlprod.yaml").read_text()
    )
    assert main(["validate", "--spec", str(spec)]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["validate", str(spec), "--spec", str(tmp_path / "other.yaml")]) == 2
    assert "two spec files" in capsys.readouterr().err
