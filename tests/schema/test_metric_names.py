"""Multiclass metric names in the spec: macro names and per-class `recall[<label>]` validate,
malformed ones are refused at their line, and bounds on them that cannot fail are refused."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlprod.schema import load_spec
from mlprod.schema.export import json_schema

from mlprod.errors import SpecError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "multiclass" / "mlprod.yaml"


def _spec(tmp_path: Path, fairness: dict[str, Any], baseline_metric: str = "f1_macro") -> Path:
    data = copy.deepcopy(yaml.safe_load(FIXTURE.read_text(encoding="utf-8")))
    data["fairness"].update(fairness)
    data["baseline"]["metric"] = baseline_metric
    path = tmp_path / "mlprod.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_the_multiclass_fixture_validates() -> None:
    spec = load_spec(FIXTURE).spec
    assert spec.project.task == "multiclass_classification" and spec.project.metrics_k == 2
    assert sorted(map(str, spec.fairness.max_gap)) == ["f1_macro", "recall[high]", "recall_macro"]


@pytest.mark.parametrize(
    "name", ["f1[mid]", "precision[3]", "recall[high risk]", "top_k_accuracy", "log_loss"]
)
def test_metric_names_are_accepted(tmp_path: Path, name: str) -> None:
    spec = load_spec(_spec(tmp_path, {"max_gap": {name: 0.2}}, baseline_metric=name)).spec
    assert [str(m) for m in spec.fairness.max_gap] == [name]
    assert str(spec.baseline.metric) == name and spec.baseline.metric.value == name


@pytest.mark.parametrize("name", ["recall[]", "recall[a]]", "accuracy[a]", "f1_micro", "recall[a[b]]"])
def test_malformed_metric_names_are_refused_at_their_line(tmp_path: Path, name: str) -> None:
    path = _spec(tmp_path, {"max_gap": {name: 0.2}})
    with pytest.raises(SpecError) as info:
        load_spec(path)
    (problem,) = info.value.problems
    assert problem.path == f"fairness.max_gap.{name}"
    assert "is not one of" in problem.message and "recall[<label>]" in problem.message
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "max_gap" in text)
    assert problem.line in (line, line + 1)


@pytest.mark.parametrize(
    ("fairness", "loc"),
    [
        ({"max_gap": {"recall[high]": 1.0}}, "fairness.max_gap.recall[high]"),
        ({"max_gap": {"f1_weighted": 1.0}}, "fairness.max_gap.f1_weighted"),
        ({"min": {"f1[low]": 0.0}}, "fairness.min.f1[low]"),
        ({"min": {"roc_auc_ovr": 0.5}}, "fairness.min.roc_auc_ovr"),
    ],
)
def test_bounds_on_multiclass_metrics_that_cannot_fail_are_refused(
    tmp_path: Path, fairness: dict[str, Any], loc: str
) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(_spec(tmp_path, fairness))
    assert [p.path for p in info.value.problems] == [loc]


def test_json_schema_describes_per_class_names() -> None:
    schema = json_schema()
    text = str(schema)
    assert "recall_macro" in text and "top_k_accuracy" in text
    pattern = next(
        p for p in re.findall(r"'pattern': '([^']*)'", text) if p.startswith("^(precision|recall|f1)")
    )
    assert re.fullmatch(pattern.replace("\\\\", "\\"), "recall[high]")
