"""The injection corpus through every product renderer unit.

For each hostile string, the spec carries it in every free-text field and column name;
each unit's output (with the header, validated by the engine) must have the same shape as
for a benign placeholder: same Python AST node types, same YAML structure; Markdown shows
the text escaped. A unit may refuse a value (RefusedError) only where it would be evaluated
(`${{ }}` in a GitHub workflow).
"""

from __future__ import annotations

import ast
import collections
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import credit_spec_text
from injection_corpus import CORPUS, PLACEHOLDER, corpus_spec_text
from mlprod.generator.base import Artifact, Context, Kind
from mlprod.generator.engine import finish, load_units
from mlprod.schema import parse_spec_text, spec_hash

from mlprod import __version__
from mlprod.errors import RefusedError

UNITS = load_units()


def _ctx(text: str, root: Path) -> Context:
    return Context(parse_spec_text(text), spec_hash(text), __version__, root, "mlprod.yaml")


def _render(fn, ctx: Context) -> dict[str, tuple[Artifact, str]]:
    return {a.path: (a, finish(a, ctx)) for a in fn(ctx)}


def _py_shape(text: str) -> collections.Counter[str]:
    return collections.Counter(type(node).__name__ for node in ast.walk(ast.parse(text)))


def _yaml_shape(value: Any) -> Any:
    if isinstance(value, dict):
        return sorted((repr(_yaml_shape(k)), repr(_yaml_shape(v))) for k, v in value.items())
    if isinstance(value, list):
        return [_yaml_shape(v) for v in value]
    return type(value).__name__


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, tuple[Artifact, str]]]:
    root = tmp_path_factory.mktemp("baseline")
    ctx = _ctx(corpus_spec_text(credit_spec_text(), PLACEHOLDER), root)
    return {name: _render(fn, ctx) for name, fn in UNITS.items()}


@pytest.mark.parametrize("unit_name", sorted(UNITS))
@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_corpus_is_data_in_every_unit(unit_name: str, index: int, baseline, tmp_path: Path) -> None:
    s = CORPUS[index]
    ctx = _ctx(corpus_spec_text(credit_spec_text(), s), tmp_path)
    try:
        files = _render(UNITS[unit_name], ctx)  # finish() parses every file or raises
    except RefusedError:
        assert "${{" in s, f"{unit_name} refused {s!r}"
        return
    want = baseline[unit_name]
    assert sorted(files) == sorted(want)
    for path, (art, text) in files.items():
        if art.kind == Kind.PYTHON:
            assert _py_shape(text) == _py_shape(want[path][1]), path
        elif art.kind == Kind.YAML:
            load = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            assert _yaml_shape(yaml.load(text, Loader=load)) == _yaml_shape(
                yaml.load(want[path][1], Loader=load)
            ), path
        elif art.kind == Kind.MARKDOWN:
            assert "<script>" not in text and "\nevil: true" not in text, path
        elif art.kind == Kind.TEXT:
            assert text.count("\n") == want[path][1].count("\n"), path  # no injected lines


def test_the_checks_catch_a_naive_unit(baseline, tmp_path: Path) -> None:
    """A unit that pastes spec text into code is caught by the engine or the shape checks."""
    from mlprod.generator.engine import GenerateError

    def naive(ctx: Context) -> list[Artifact]:
        title = ctx.spec.project.title or ""
        return [
            Artifact("a.py", f'TITLE = "{title}"\n', Kind.PYTHON),
            Artifact("b.yaml", f"title: {title}\n", Kind.YAML),
        ]

    want = _render(naive, _ctx(corpus_spec_text(credit_spec_text(), PLACEHOLDER), tmp_path))
    caught = 0
    for s in CORPUS:
        try:
            files = _render(naive, _ctx(corpus_spec_text(credit_spec_text(), s), tmp_path))
        except GenerateError:
            caught += 1
            continue
        load = yaml.SafeLoader
        caught += _py_shape(files["a.py"][1]) != _py_shape(want["a.py"][1]) or _yaml_shape(
            yaml.load(files["b.yaml"][1], Loader=load)
        ) != _yaml_shape(yaml.load(want["b.yaml"][1], Loader=load))
    assert caught >= len(CORPUS) // 2
