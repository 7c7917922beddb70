"""The one YAML emitter (`yamltext`) and `init --existing` on names YAML would misread.

Reproduces the reported break: a column named `on`, `no`, `off`, `Yes`, `true` or `null`
(or a project folder named `on`) made `init --existing` exit 2, and an emoji was written as
a surrogate-pair escape that the C YAML parser rejects.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml
from mlprod.generator.yamltext import yaml_float, yaml_str, yaml_value
from mlprod.schema import load_spec
from mlprod.schema.loader import parse_yaml_text

from mlprod.cli import main

WORDS = ["y", "n", "yes", "no", "true", "false", "on", "off", "null"]
CASES = [*sorted({v for w in WORDS for v in (w, w.capitalize(), w.upper())}), "~"]
ODD = [
    "😀 score",  # outside the basic plane
    "🚀",
    "مبلغ القرض",  # right to left
    "שם‎",  # with a right-to-left mark
    "e\u0301te\u0301",  # combining marks
    "${{ secrets.TOKEN }}",
    "{{ 7*7 }}",
    "new\nline",
    "tab\there",
    "line\u2028sep",
    "nel\x85x",
    "bom\ufeff",
    "1.10",
    "012",
    "1e-05",
    "1:30",
    "2026-01-01",
    ".inf",
    "*star",
    "&anchor",
    "!tag",
    "|pipe",
    ">fold",
    "%pct",
    "@at",
    "`tick",
    "- dash",
    "key: value",
    "#hash",
    "a #b",
    "  padded ",
    '"quoted"',
    "back\\slash",
    "[list]",
    "{map}",
    "comma,name",
    "?question",
    "<<",
]
CORPUS = CASES + ODD


@pytest.mark.parametrize("text", CORPUS)
def test_every_string_reads_back_exactly(text: str) -> None:
    doc = f"k: {yaml_str(text)}\nl: [{yaml_str(text)}, x]\n{yaml_str(text)}: 1\n"
    for loader in (yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        data = yaml.load(doc, Loader=loader)
        assert data == {"k": text, "l": [text, "x"], text: 1}, loader
    parsed = parse_yaml_text(doc, "t.yaml")  # mlprod's own loader: no "quote it" problem
    assert parsed.data == {"k": text, "l": [text, "x"], text: 1}
    assert "\\ud83d" not in yaml_str(text)  # never a surrogate-pair escape


def test_plain_names_stay_plain_and_non_bmp_is_literal() -> None:
    assert yaml_str("credit_default") == "credit_default"
    assert yaml_str("data/train.csv") == "data/train.csv"
    assert yaml_str("on") == '"on"' and yaml_str("NULL") == '"NULL"'
    assert yaml_str("😀") == '"😀"'


@pytest.mark.parametrize("value", [1e-05, 1e20, -2.5e-300, 0.1, 3.0, 1.5e16, -0.0])
def test_floats_read_back_as_floats_in_yaml_1_1(value: float) -> None:
    text = yaml_float(value)
    for loader in (yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        read = yaml.load(f"v: {text}", Loader=loader)["v"]
        assert isinstance(read, float) and read == value and math.copysign(1, read) == math.copysign(1, value)
    with pytest.raises(ValueError, match="finite"):
        yaml_float(math.inf)


def test_values_nest() -> None:
    data = {"on": [True, None, 1, "no"], "k": {"y": 1.0e-5}}
    assert yaml.safe_load(yaml_value(data)) == data


def test_init_existing_round_trips_every_column_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The corpus as column names through `init --existing`; validate passes, names come back."""
    folder = tmp_path / "on"  # a project folder named `on` too
    folder.mkdir()
    n = 60
    columns: dict[str, list[object]] = {}
    for i, name in enumerate(CORPUS):
        if i % 3 == 0:  # text with few values: a `values` list and a cohort
            columns[name] = [CASES[(i + k) % len(CASES)] for k in range(3)] * (n // 3)
        elif i % 3 == 1:  # few integers: a cohort
            columns[name] = [k % 3 for k in range(n)]
        else:  # small floats (written like 1.0e-05)
            columns[name] = [1e-05 * (k + 1) for k in range(n)]
    columns["target"] = [k % 2 for k in range(n)]
    df = pd.DataFrame(columns)
    df.to_parquet(folder / "data.parquet")
    spec_path = folder / "mlprod.yaml"
    data = str(folder / "data.parquet")
    code = main(["init", "--existing", str(folder), "--data", data, "--target", "target"])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert main(["validate", "--spec", str(spec_path)]) == 0, capsys.readouterr()
    spec = load_spec(spec_path).spec
    assert spec.project.name == "on"
    assert spec.data.features == CORPUS
    assert set(spec.data.columns) == set(CORPUS)
    for i, name in enumerate(CORPUS):
        expect = spec.data.columns[name]
        if i % 3 == 0:
            assert expect.values == sorted(set(columns[name])), name  # type: ignore[type-var]
        elif i % 3 == 2:
            assert expect.min == 1e-05 and expect.max == pytest.approx(6e-04), name
    assert {c.by for c in spec.cohorts} >= {name for i, name in enumerate(CORPUS) if i % 3 != 2}
    assert "\\ud83d" not in spec_path.read_text(encoding="utf-8")


def test_init_existing_refuses_a_symlinked_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    pd.DataFrame({"x": [1.5, 2.5] * 5, "y": [0, 1] * 5}).to_csv(folder / "d.csv", index=False)
    outside = tmp_path / "victim.yaml"
    outside.write_text("precious\n")
    (folder / "mlprod.yaml").symlink_to(outside)
    code = main(["init", "--existing", str(folder), "--data", str(folder / "d.csv"), "--target", "y"])
    assert code == 3 and outside.read_text() == "precious\n", capsys.readouterr()


@pytest.mark.parametrize("template", ["minimal", "credit"])
def test_template_writes_names_through_the_emitter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], template: str
) -> None:
    """`on` is a valid project name; the template must not write it as a boolean."""
    folder = tmp_path / "p"
    assert main(["init", str(folder), "--name", "on", "--no-input", "--template", template]) == 0
    capsys.readouterr()
    assert main(["validate", "--spec", str(folder / "mlprod.yaml")]) == 0, capsys.readouterr()
    assert load_spec(folder / "mlprod.yaml").spec.project.name == "on"


def test_template_never_writes_through_a_planted_symlink(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    outside = tmp_path / "victim.yaml"
    outside.write_text("precious\n")
    (folder / "mlprod.yaml").symlink_to(outside)
    code = main(["init", str(folder), "--name", "churn", "--no-input", "--template", "minimal", "--force"])
    assert code == 3 and "mlprod.yaml is a symlink" in capsys.readouterr().err
    assert outside.read_text() == "precious\n"
