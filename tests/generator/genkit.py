"""Test kit of the generator tests: a small project and renderer units made for the tests.

The engine tests run their own units (passed to `generate_project(units=...)`, or patched
over `load_units` for CLI runs) so they do not depend on the product's renderer units.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import minimal_spec_text, write_tree
from mlprod.generator import engine
from mlprod.generator.base import Artifact, Context, Kind
from mlprod.generator.safe import md, py, yaml_scalar

from mlprod.cli import main

FILES = ["gen/a.py", "gen/b.yaml", "gen/c.md", "gen/d.ipynb", "gen/e.json", "gen/f.py"]
MANAGED = [".gitignore", "PR.md"]


def _notebook(title: str) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {md(title)}"),
        nbformat.v4.new_code_cell(f"X = {py(title)}"),
    ]
    return nbformat.writes(nb)


def sample_unit(ctx: Context) -> list[Artifact]:
    """Files of every kind whose content follows the spec's project title."""
    title = ctx.spec.project.title or ctx.spec.project.name
    return [
        Artifact("gen/a.py", f'"""Generated."""\n\nTITLE = {py(title)}\n', Kind.PYTHON, "pipeline"),
        Artifact("gen/b.yaml", f"title: {yaml_scalar(title)}\nitems: [1, 2]\n", Kind.YAML, "release"),
        Artifact("gen/c.md", f"# {md(title)}\n", Kind.MARKDOWN),
        Artifact("gen/d.ipynb", _notebook(title), Kind.NOTEBOOK, "bias"),
        Artifact("gen/e.json", '{"title": ' + yaml_scalar(title) + "}\n", Kind.TEXT),
        Artifact("gen/f.py", "VALUE = 1\n", Kind.PYTHON),
        Artifact(".gitignore", ".mlprod/generate.lock\n", Kind.TEXT, managed=True),
        Artifact("PR.md", f"- [ ] {md(title)} checked\n", Kind.MARKDOWN, managed=True),
    ]


UNITS = {"sample": sample_unit}


def spec_text(title: str = "First title") -> str:
    """The minimal spec with a project title (the test unit renders it)."""
    return minimal_spec_text().replace("  name: churn\n", f"  name: churn\n  title: {title}\n")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder holding the minimal spec; returns the spec path."""
    root = tmp_path / "proj"
    write_tree(root, {"mlprod.yaml": spec_text()})
    return root / "mlprod.yaml"


def set_title(spec: Path, title: str) -> None:
    spec.write_text(spec_text(title), encoding="utf-8")


def generate(spec: Path, **kwargs: object) -> engine.GenerateReport:
    kwargs.setdefault("units", UNITS)
    return engine.generate_project(spec, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run `mlprod <args>` in-process with the test units; return (code, stdout, stderr)."""
    monkeypatch.setattr(engine, "load_units", lambda: dict(UNITS))
    monkeypatch.delenv("MLPROD_DEBUG", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run
