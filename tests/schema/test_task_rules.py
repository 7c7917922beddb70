"""`validate` refuses, at its line, every written setting that has no meaning for the task.

Each spec below writes every task-inapplicable setting once; a `#! path=token` marker at
the end of a line names the finding expected there and the token its column points at.
The refusal names the allowed values, and nothing is written.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlprod.cli import main

HEAD = """version: 1
project:
  name: demo
  task: {task}
{project}data:
  target: y
{data}  features: [a, b]
  datasets:
    train: {{path: data/train.csv}}
    test: {{path: data/test.csv}}
model:
  load: demo.model:load
{model}pipeline:
  stages:
    - {{name: fit, run: demo.fit:fit, inputs: [train]}}
cohorts:
  - {{name: a_band, by: a}}
"""

REGRESSION = (
    HEAD.format(
        task="regression",
        project="  metrics_k: 2   #! project.metrics_k=2\n",
        data="  positive_label: 1   #! data.positive_label=1\n",
        model="  predict: predict_proba   #! model.predict=predict_proba\n"
        "  threshold: 0.5   #! model.threshold=0.5\n",
    )
    + """fairness:
  protected: [a_band]
  max_gap:
    recall: 0.1   #! fairness.max_gap.recall=0.1
    mae: 5.0
    roc_auc: 0.2   #! fairness.max_gap.roc_auc=0.2
  min:
    accuracy: 0.7   #! fairness.min.accuracy=0.7
    log_loss: 0.7   #! fairness.min.log_loss=0.7
    r2: 0.1
  demographic_parity_difference: 0.1   #! fairness.demographic_parity_difference=0.1
  equalized_odds_difference: 0.2   #! fairness.equalized_odds_difference=0.2
baseline:
  metric: roc_auc   #! baseline.metric=roc_auc
  strategies:
    - prior   #! baseline.strategies[0]=prior
    - mean
    - stratified   #! baseline.strategies[2]=stratified
    - most_frequent   #! baseline.strategies[3]=most_frequent
    - uniform   #! baseline.strategies[4]=uniform
    - median
reproducibility:
  retrain:
    stage: fit
    dataset: train
    metric: precision   #! reproducibility.retrain.metric=precision
explainability:
  top_k: 1
  class_label: 3   #! explainability.class_label=3
collaboration:
  regression: {previous: models/old.joblib, tolerance: 2.5}
"""
)

BINARY = (
    HEAD.format(
        task="binary_classification",
        project="  metrics_k: 5   #! project.metrics_k=5\n",
        data="",
        model="  threshold: 0.4\n",
    )
    + """fairness:
  protected: [a_band]
  max_gap:
    rmse: 1.0   #! fairness.max_gap.rmse=1.0
    recall: 0.1
  min:
    mae: 0.7   #! fairness.min.mae=0.7
    r2: 0.1   #! fairness.min.r2=0.1
    roc_auc: 0.6
  demographic_parity_difference: 0.1
baseline:
  metric: rmse   #! baseline.metric=rmse
  strategies:
    - prior
    - mean   #! baseline.strategies[1]=mean
    - median   #! baseline.strategies[2]=median
reproducibility:
  retrain:
    stage: fit
    dataset: train
    metric: mae   #! reproducibility.retrain.metric=mae
explainability:
  top_k: 1
  class_label: "no"   #! explainability.class_label="no"
collaboration:
  regression:
    previous: models/old.joblib
    tolerance: 0.5   #! collaboration.regression.tolerance=0.5
"""
)

MULTICLASS = (
    HEAD.format(
        task="multiclass_classification",
        project="  metrics_k: 2\n",
        data="  positive_label: setosa   #! data.positive_label=setosa\n",
        model="  threshold: 0.5   #! model.threshold=0.5\n",
    )
    + """fairness:
  protected: [a_band]
  max_gap:
    precision: 0.1   #! fairness.max_gap.precision=0.1
    recall: 0.1   #! fairness.max_gap.recall=0.1
    f1: 0.1   #! fairness.max_gap.f1=0.1
    selection_rate: 0.1   #! fairness.max_gap.selection_rate=0.1
    false_positive_rate: 0.1   #! fairness.max_gap.false_positive_rate=0.1
    false_negative_rate: 0.1   #! fairness.max_gap.false_negative_rate=0.1
    accuracy: 0.1
  min:
    rmse: 0.7   #! fairness.min.rmse=0.7
    brier: 0.3   #! fairness.min.brier=0.3
    balanced_accuracy: 0.6
baseline:
  metric: roc_auc   #! baseline.metric=roc_auc
  strategies: [prior, most_frequent, stratified, uniform]
reproducibility:
  retrain:
    stage: fit
    dataset: train
    metric: mae   #! reproducibility.retrain.metric=mae
collaboration:
  regression:
    previous: models/old.joblib
    tolerance: 0.5   #! collaboration.regression.tolerance=0.5
"""
)

ALLOWED = {
    "regression": "rmse, mae, r2",
    "binary_classification": "roc_auc, accuracy",
    "multiclass_classification": "f1_macro",
}
_MARK = re.compile(r"#! (.*)$")
_LINE = re.compile(r"^mlprod\.yaml:(\d+):(\d+): (\S+): (.*)$")


def _expected(text: str) -> dict[tuple[int, str], str]:
    """(line, dotted path) -> the token the column must point at, from the markers."""
    out = {}
    for n, line in enumerate(text.splitlines(), start=1):
        m = _MARK.search(line)
        if m:
            for item in m.group(1).split(";"):
                path, token = item.strip().split("=")
                out[(n, path)] = token
    return out


def _validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, text: str) -> tuple[int, str]:
    (tmp_path / "mlprod.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code = main(["validate", "mlprod.yaml"])
    _, err = capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlprod.yaml"], "validate wrote a file"
    return code, err


@pytest.mark.parametrize(
    "task,text",
    [
        ("regression", REGRESSION),
        ("binary_classification", BINARY),
        ("multiclass_classification", MULTICLASS),
    ],
    ids=["regression", "binary", "multiclass"],
)
def test_every_inapplicable_setting_is_refused_at_its_line(
    task: str, text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    code, err = _validate(tmp_path, monkeypatch, capsys, text)
    assert code == 2, err
    lines = text.splitlines()
    found = {}
    for row in err.splitlines():
        m = _LINE.match(row)
        if m:
            found[(int(m.group(1)), m.group(3))] = (int(m.group(2)), m.group(4))
    expected = _expected(text)
    assert set(found) == set(expected), err
    for (line, path), token in expected.items():
        col, message = found[(line, path)]
        assert lines[line - 1][col - 1 :].startswith(token), (path, col)
        assert task.split("_")[0] in message or "binary_classification" in message, message
    metric_messages = [
        msg for (_, p), (_, msg) in found.items() if p.endswith(".metric") or "max_gap" in p or ".min." in p
    ]
    assert metric_messages and all(ALLOWED[task] in msg for msg in metric_messages)
    assert "problems found; nothing was written" in err


def test_strategy_and_threshold_messages_name_the_allowed_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    _, err = _validate(tmp_path, monkeypatch, capsys, REGRESSION)
    assert "DummyRegressor strategies: mean, median" in err
    assert "model.threshold: a decision threshold applies to binary_classification only" in err
    _, err = _validate(tmp_path, monkeypatch, capsys, MULTICLASS)
    assert "use precision_macro or precision[<label>]" in err
    assert "use roc_auc_ovr" in err


def _strip(text: str) -> str:
    """The spec without its refused lines: what remains is valid for the task."""
    return "\n".join(line for line in text.splitlines() if "#!" not in line) + "\n"


@pytest.mark.parametrize("text", [REGRESSION, BINARY, MULTICLASS], ids=["regression", "binary", "multiclass"])
def test_the_same_spec_without_the_refused_settings_validates(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    code, err = _validate(tmp_path, monkeypatch, capsys, _strip(text))
    assert code == 0, err


@pytest.mark.parametrize(
    "task,metric,strategy,threshold",
    [
        ("binary_classification", "roc_auc", "prior", 0.5),
        ("multiclass_classification", "accuracy", "prior", None),
        ("regression", "rmse", "mean", None),
    ],
)
def test_defaults_depend_on_the_task_and_are_never_refused(
    task: str, metric: str, strategy: str, threshold: float | None
) -> None:
    from mlprod.schema import parse_spec_text

    text = (
        f"version: 1\nproject: {{name: demo, task: {task}}}\n"
        "data: {target: y, features: [a], datasets: {train: {path: t.csv}, test: {path: s.csv}}}\n"
        "model: {load: demo.model:load}\n"
        "pipeline: {stages: [{name: fit, run: demo.fit:fit, inputs: [train]}]}\n"
        "baseline: {mode: manual}\nreproducibility: {mode: manual, retrain: {stage: fit, dataset: train}}\n"
    )
    spec = parse_spec_text(text)
    assert spec.baseline is not None and spec.reproducibility is not None
    assert spec.baseline.metric.value == metric
    assert [s.value for s in spec.baseline.strategies] == [strategy]
    assert spec.reproducibility.retrain is not None and spec.reproducibility.retrain.metric.value == metric
    assert spec.model.threshold == threshold
    assert "metric" not in spec.baseline.model_fields_set  # still "not written"


def test_the_regression_spec_in_the_docs_validates() -> None:
    from mlprod.schema import parse_spec_text

    docs = Path(__file__).resolve().parents[2] / "docs" / "tasks.md"
    block = re.search(r"```yaml\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    assert block is not None
    spec = parse_spec_text(block.group(1))
    assert spec.project.task.value == "regression" and spec.model.threshold is None
