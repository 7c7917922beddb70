"""`mlprod monitor` on a prepared copy of examples/credit: executed notebooks, HTML, summary, exit codes."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from mlprod.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "credit"
DAY = "2026-11-27"
GENERATED = {"models", "logs", "monitoring", ".mlprod", "tests", "__pycache__", ".github", "deploy"}
DERIVED = {"train.csv", "test.csv", "current.csv"}
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MLPROD_TODAY": DAY, "MPLBACKEND": "Agg"}


def _ignore(folder: str, names: list[str]) -> set[str]:
    here = Path(folder)
    skip = {n for n in names if n in GENERATED and here == EXAMPLE}
    if here.name == "data":
        skip |= {n for n in names if n in DERIVED}
    return skip


def _mlprod(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlprod", *args],
        cwd=root,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def credit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prepared copy of the credit example with its notebooks generated."""
    root = tmp_path_factory.mktemp("credit") / "credit"
    shutil.copytree(EXAMPLE, root, ignore=_ignore)
    subprocess.run(
        [sys.executable, "prepare.py"], cwd=root, env=ENV, check=True, capture_output=True, timeout=300
    )
    done = _mlprod(root, "generate")
    if done.returncode != 0:  # another unit is unfinished: render the notebooks alone
        from mlprod.generator.engine import generate_project
        from mlprod.generator.units.notebooks import render_notebooks

        generate_project(root / "mlprod.yaml", units={"notebooks": render_notebooks}, force=True)
    assert sorted(p.name for p in (root / "monitoring").glob("*.ipynb")) == [
        "baseline.ipynb",
        "bias.ipynb",
        "drift.ipynb",
        "infrastructure.ipynb",
    ]
    return root


def _outputs(nb) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


@pytest.mark.slow
def test_healthy_copy_runs_all_four_and_exits_0(credit: Path) -> None:
    start = time.monotonic()
    done = _mlprod(credit, "monitor")
    took = time.monotonic() - start
    assert done.returncode == 0, done.stdout + done.stderr
    assert took < 60, f"mlprod monitor took {took:.1f}s"
    reports = credit / "monitoring" / "reports" / DAY
    for name in ("drift", "bias", "infrastructure", "baseline"):
        nb = nbformat.read(reports / f"{name}.ipynb", as_version=4)
        nbformat.validate(nb)
        outs = _outputs(nb)
        assert not [o for o in outs if o.output_type == "error"], name
        pngs = [o for o in outs if "image/png" in o.get("data", {})]
        assert pngs and base64.b64decode(pngs[0].data["image/png"]).startswith(b"\x89PNG"), name
        assert any("application/vnd.mlprod.checks+json" in o.get("data", {}) for o in outs), name
        html = (reports / f"{name}.html").read_text(encoding="utf-8")
        assert "data:image/png;base64," in html  # standalone: images embedded
        assert f"{name}: " in done.stdout
    assert "no breach" in done.stdout
    assert "cells" in done.stderr  # one progress line per notebook
    # the generated notebooks themselves stay without outputs
    source = nbformat.read(credit / "monitoring" / "drift.ipynb", as_version=4)
    assert all(c.outputs == [] for c in source.cells if c.cell_type == "code")


@pytest.mark.slow
def test_seeded_drift_and_a_failing_cell_exit_1(credit: Path, tmp_path: Path) -> None:
    root = tmp_path / "drifted"
    shutil.copytree(credit, root, ignore=shutil.ignore_patterns("reports"))
    current = pd.read_csv(root / "data" / "current.csv")
    current["credit_amount"] = current["credit_amount"] * 3
    current["housing"] = "rent"
    current.to_csv(root / "data" / "current.csv", index=False)
    (root / "data" / "test.csv").unlink()  # the baseline notebook cannot score the model
    done = _mlprod(root, "monitor", "--notebook", "drift", "--notebook", "baseline.ipynb")
    assert done.returncode == 1, done.stdout + done.stderr
    breaches = [line for line in done.stdout.splitlines() if line.strip().startswith("BREACH")]
    assert any("credit_amount" in b for b in breaches) and any("housing" in b for b in breaches)
    assert "ERROR" in done.stdout and "test.csv" in done.stdout
    reports = root / "monitoring" / "reports" / DAY
    assert sorted(p.name for p in reports.iterdir()) == [
        "baseline.html",
        "baseline.ipynb",
        "drift.html",
        "drift.ipynb",
    ]
    errors = [
        o
        for o in _outputs(nbformat.read(reports / "baseline.ipynb", as_version=4))
        if o.output_type == "error"
    ]
    assert errors


def test_unknown_notebook_is_a_usage_error(
    credit: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(credit)
    assert main(["monitor", "--notebook", "nope"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "drift" in err and "Traceback" not in err


def test_bad_date_is_a_usage_error(credit: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(credit)
    assert main(["monitor", "--today", "27/11/2026"]) == 2


def test_no_notebooks_says_generate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(EXAMPLE / "mlprod.yaml", tmp_path / "mlprod.yaml")
    monkeypatch.chdir(tmp_path)
    assert main(["monitor"]) == 2
    assert "mlprod generate" in capsys.readouterr().err


def test_kernel_that_cannot_start_names_ipykernel(
    credit: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    import nbclient

    async def dead(self, **kwargs):
        raise RuntimeError("Kernel died before replying to kernel_info")

    real = importlib.util.find_spec
    monkeypatch.setattr(nbclient.NotebookClient, "async_execute", dead)
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "ipykernel" else real(n, *a))
    monkeypatch.chdir(credit)
    assert main(["monitor", "--notebook", "drift"]) == 3
    err = capsys.readouterr().err
    assert "ipykernel" in err and "Traceback" not in err
