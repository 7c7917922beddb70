"""`mlprod monitor` runs only the notebooks mlprod generated, and writes reports safely.

The committed credit example carries its generated notebooks and manifest, so these tests
need no data and start no kernel: every refusal comes before anything runs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlprod.cli import main
from mlprod.commands.monitor import _write_reports, verify_notebooks
from mlprod.errors import RefusedError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "credit"
NOTEBOOKS = ["baseline", "bias", "drift", "infrastructure"]


@pytest.fixture
def credit(tmp_path: Path) -> Path:
    root = tmp_path / "credit"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("data", "__pycache__", "reports"))
    return root


def _monitor(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["monitor", "--spec", str(root / "mlprod.yaml"), *args])
    return code, capsys.readouterr().err


def _add_cell(path: Path, source: str) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = {"cell_type": "code", "execution_count": None, "id": "x", "metadata": {}, "outputs": []}
    nb["cells"].append({**cell, "source": source})
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def test_generated_notebooks_pass_with_their_exact_text(credit: Path) -> None:
    paths = [credit / "monitoring" / f"{n}.ipynb" for n in NOTEBOOKS]
    sources = verify_notebooks(credit, paths, allow_edited=False)
    assert {p.name: t for p, t in sources.items()} == {p.name: p.read_text(encoding="utf-8") for p in paths}


def test_a_cell_added_to_a_notebook_is_refused_before_anything_runs(
    credit: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _add_cell(credit / "monitoring/baseline.ipynb", "import os; os.system('curl evil')")
    code, err = _monitor(credit, capsys)
    assert code == 3, err
    assert "monitoring/baseline.ipynb: was edited since mlprod generated it" in err
    assert "--allow-edited" in err and "mlprod generate" in err and "Traceback" not in err
    assert not (credit / "monitoring/reports").exists()  # nothing ran, nothing was written


def test_a_symlinked_notebook_to_outside_the_project_is_refused(
    credit: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "evil.ipynb"
    shutil.copy(credit / "monitoring/drift.ipynb", outside)
    (credit / "monitoring/zz_extra.ipynb").symlink_to(outside)
    code, err = _monitor(credit, capsys)
    assert code == 3 and "monitoring/zz_extra.ipynb: is a symlink" in err
    # naming it alone is refused too
    code, err = _monitor(credit, capsys, "--notebook", "zz_extra")
    assert code == 3 and "zz_extra.ipynb" in err


def test_a_regular_notebook_mlprod_did_not_generate_is_refused(
    credit: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(credit / "monitoring/drift.ipynb", credit / "monitoring/mine.ipynb")
    code, err = _monitor(credit, capsys, "--notebook", "mine")
    assert code == 3 and "monitoring/mine.ipynb: is not a notebook mlprod generated" in err


def test_a_symlinked_notebooks_folder_is_refused(
    credit: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.move(credit / "monitoring", tmp_path / "elsewhere")
    (credit / "monitoring").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    code, err = _monitor(credit, capsys, "--notebook", "drift")
    assert code == 3 and "monitoring/drift.ipynb" in err and "symlinked parent (monitoring)" in err


def test_allow_edited_runs_them_and_says_so(credit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = credit / "monitoring/baseline.ipynb"
    _add_cell(path, "X = 1")
    with pytest.raises(RefusedError, match="was edited"):
        verify_notebooks(credit, [path], allow_edited=False)
    sources = verify_notebooks(credit, [path], allow_edited=True)
    assert sources[path] == path.read_text(encoding="utf-8")
    assert "running it anyway (--allow-edited): monitoring/baseline.ipynb" in capsys.readouterr().err


def test_crlf_checkout_of_a_generated_notebook_is_not_an_edit(credit: Path) -> None:
    path = credit / "monitoring/drift.ipynb"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert verify_notebooks(credit, [path], allow_edited=False)


def test_reports_are_written_safely(credit: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbconvert = pytest.importorskip("nbconvert")

    # the page itself is nbconvert's business (its templates need not be installed here)
    class Exporter:
        def from_notebook_node(self, nb: object) -> tuple[str, dict[str, object]]:
            return "<html><head></head><body>report</body></html>", {}

    monkeypatch.setattr(nbconvert, "HTMLExporter", Exporter)
    nb = nbformat.read(credit / "monitoring/drift.ipynb", as_version=4)
    out = "monitoring/reports/2026-12-01"
    assert _write_reports(nb, credit, out, "drift") == [f"{out}/drift.ipynb", f"{out}/drift.html"]
    assert _write_reports(nb, credit, out, "drift")  # a re-run replaces its own reports
    # a file mlprod did not write is not overwritten
    (credit / out / "drift.html").write_text("my notes", encoding="utf-8")
    with pytest.raises(RefusedError, match="did not write it"):
        _write_reports(nb, credit, out, "drift")
    assert (credit / out / "drift.html").read_text(encoding="utf-8") == "my notes"
    # a planted symlink is never written through
    outside = tmp_path / "outside.html"
    outside.write_text("precious", encoding="utf-8")
    (credit / out / "drift.html").unlink()
    (credit / out / "drift.html").symlink_to(outside)
    with pytest.raises(RefusedError, match="symlink"):
        _write_reports(nb, credit, out, "drift")
    assert outside.read_text(encoding="utf-8") == "precious"
