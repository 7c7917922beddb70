"""The notebooks unit: valid nbformat 4.5, fixed ids, no outputs, parameters cell, safe values."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest
import yaml
from helpers import credit_spec_text, minimal_spec_text
from injection_corpus import CORPUS, corpus_spec_text
from mlprod.generator.base import Context
from mlprod.generator.engine import finish, generate_project
from mlprod.generator.units.notebooks import NOTEBOOKS, render_notebooks
from mlprod.schema import load_spec

NAMES = sorted(NOTEBOOKS)


def _render(tmp_path: Path, text: str) -> dict[str, str]:
    """{path: finished notebook text} for a spec text, as the engine would write it."""
    spec_path = tmp_path / "mlprod.yaml"
    spec_path.write_text(text, encoding="utf-8")
    loaded = load_spec(spec_path)
    ctx = Context(loaded.spec, loaded.sha256, "0.0.test", loaded.root)
    return {a.path: finish(a, ctx) for a in render_notebooks(ctx)}


def _without(text: str, *sections: str) -> str:
    spec = yaml.safe_load(text)
    for s in sections:
        spec.pop(s, None)
    return yaml.safe_dump(spec, sort_keys=False)


def test_credit_spec_gives_four_valid_notebooks(tmp_path: Path) -> None:
    out = _render(tmp_path, credit_spec_text())
    assert sorted(out) == [f"monitoring/{n}" for n in NAMES]
    for path, text in out.items():
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
        assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
        assert [c.id for c in nb.cells] == [f"cell-{i:03d}" for i in range(len(nb.cells))]
        assert nb.cells[0].cell_type == "markdown" and "What to look for" in nb.cells[0].source
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.outputs == [] and c.execution_count is None for c in code)
        tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path
        params = ast.parse(tagged[0].source)
        names = {t.id for node in params.body if isinstance(node, ast.Assign) for t in node.targets}
        assert {"ROOT", "SPEC_FILE", "DATASETS"} <= names
        for node in params.body:  # papermill parameters are plain literals
            ast.literal_eval(node.value)
        assert nb.metadata.kernelspec.name == "python3"
        assert "DO NOT EDIT" in nb.metadata.mlprod.header
        assert code[-1].source.strip() == "summary.emit()"


def test_concerns_match_the_rubric(tmp_path: Path) -> None:
    spec_path = tmp_path / "mlprod.yaml"
    spec_path.write_text(credit_spec_text(), encoding="utf-8")
    loaded = load_spec(spec_path)
    ctx = Context(loaded.spec, loaded.sha256, "0.0.test", loaded.root)
    concerns = {a.path.rsplit("/", 1)[1]: a.concern for a in render_notebooks(ctx)}
    from mlprod.score import rubric

    assert concerns == rubric.NOTEBOOKS


@pytest.mark.parametrize(
    ("removed", "expected"),
    [
        (("drift",), ["baseline", "bias", "infrastructure"]),
        (("fairness",), ["baseline", "drift", "infrastructure"]),
        (("infrastructure", "baseline"), ["bias", "drift"]),
        (("drift", "fairness", "infrastructure", "baseline"), []),
    ],
)
def test_only_declared_sections_get_a_notebook(
    tmp_path: Path, removed: tuple[str, ...], expected: list[str]
) -> None:
    out = _render(tmp_path, _without(credit_spec_text(), *removed))
    assert sorted(Path(p).stem for p in out) == expected


def test_minimal_spec(tmp_path: Path) -> None:
    out = _render(tmp_path, minimal_spec_text())
    for text in out.values():
        nbformat.validate(nbformat.reads(text, as_version=4))


def test_infrastructure_needs_log_or_latency(tmp_path: Path) -> None:
    spec = yaml.safe_load(credit_spec_text())
    spec["infrastructure"] = {"memory": {"max_mb": 100}, "scaling": spec["infrastructure"]["scaling"]}
    out = _render(tmp_path, yaml.safe_dump(spec, sort_keys=False))
    assert "monitoring/infrastructure.ipynb" not in out


def test_outputs_folder_is_followed(tmp_path: Path) -> None:
    spec = yaml.safe_load(credit_spec_text())
    spec["outputs"]["notebooks"] = "ops/notebooks"
    out = _render(tmp_path, yaml.safe_dump(spec, sort_keys=False))
    assert sorted(out) == [f"ops/notebooks/{n}" for n in NAMES]


def test_deterministic_bytes(tmp_path: Path) -> None:
    """Two generations (through the engine, written to disk) give identical bytes."""
    trees = []
    for run in ("a", "b"):
        root = tmp_path / run
        root.mkdir()
        (root / "mlprod.yaml").write_text(credit_spec_text(), encoding="utf-8")
        generate_project(root / "mlprod.yaml", units={"notebooks": render_notebooks})
        trees.append({p.name: p.read_bytes() for p in sorted((root / "monitoring").glob("*.ipynb"))})
    assert len(trees[0]) == 4 and trees[0] == trees[1]
    for data in trees[0].values():
        assert data.endswith(b"\n") and b"\r" not in data
        nbformat.validate(nbformat.reads(data.decode(), as_version=4))


@pytest.mark.parametrize("evil", [*CORPUS, "col'\"\n{{ x }}<script>alert(1)</script>"])
def test_injection_stays_data(tmp_path: Path, evil: str) -> None:
    text = corpus_spec_text(credit_spec_text(), evil)
    try:
        out = _render(tmp_path, text)
    except Exception as exc:  # the schema may refuse a string (NUL, control characters): fine
        from mlprod.errors import SpecError

        assert isinstance(exc, SpecError), exc
        return
    spec = yaml.safe_load(text)
    feature, target = spec["data"]["features"][0], spec["data"]["target"]
    for path, content in out.items():
        nb = nbformat.reads(content, as_version=4)
        nbformat.validate(nb)
        env: dict[str, object] = {}
        for cell in nb.cells:
            if cell.cell_type == "code":
                tree = ast.parse(cell.source)  # never broken by the value
                if "parameters" in cell.metadata.get("tags", []) or cell.source.startswith("# Settings"):
                    for node in tree.body:  # the literal cells evaluate back to the spec's values
                        env[node.targets[0].id] = ast.literal_eval(node.value)
            else:
                assert "<script>" not in cell.source
                assert "{{" not in cell.source
                assert "\n- evil" not in cell.source
        config = env["CONFIG"]
        assert config["features"][0] == feature and config["target"] == target
        if path.endswith("drift.ipynb"):
            assert env["FEATURES"][0] == feature and env["TARGET"] == target
        title = nb.cells[0].source.splitlines()[0]
        assert title.startswith("# ") and "\n" not in title
    json.dumps(out)
