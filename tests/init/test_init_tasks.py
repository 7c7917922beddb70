"""`init --existing` infers the task from the target, and the spec it writes validates and generates.

2 distinct values: binary; 3 to 50 distinct text labels or whole numbers (also floats because
of a missing value): multiclass; other numbers: regression. The defaults it writes (baseline
metric, dummy strategy, threshold) are the task's, so `validate` never refuses them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlprod.generator.infer import infer_task
from mlprod.schema import load_spec

from mlprod.cli import main
from mlprod.errors import UsageError

N = 240


def _frame(target: pd.Series) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    x = {"x1": rng.normal(size=N), "x2": rng.integers(0, 9, N), "region": rng.choice(["n", "s"], N)}
    return pd.DataFrame({**x, "y": target})


def _labels(values: list, seed: int = 1) -> pd.Series:
    return pd.Series(np.random.default_rng(seed).choice(np.array(values, dtype=object), N))


def _with_nan(series: pd.Series) -> pd.Series:
    out = series.astype(float)
    out[::13] = np.nan
    return out


INT3 = pd.Series(np.random.default_rng(2).integers(0, 3, N))
CASES = {
    "strings": (_labels(["low", "mid", "high"]), "multiclass_classification"),
    "ints": (INT3, "multiclass_classification"),
    "ints_with_nan": (_with_nan(INT3), "multiclass_classification"),
    "two_strings": (_labels(["no", "yes"]), "binary_classification"),
    "floats": (pd.Series(np.random.default_rng(3).normal(50, 5, N)), "regression"),
    "many_ints": (pd.Series(np.random.default_rng(4).integers(0, 500, N)), "regression"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_infer_task(case: str) -> None:
    series, task = CASES[case]
    y = _frame(series)["y"]
    if case == "ints_with_nan":
        assert y.dtype == float and y.isna().any()  # pandas reads such a column as float
    got, positive, classes = infer_task(y.dropna())
    assert got == task
    assert (positive is not None) == (task == "binary_classification")
    if task == "multiclass_classification":
        assert len(classes) == 3
        if case == "ints_with_nan":
            assert classes == [0, 1, 2] and all(type(c) is int for c in classes)


def test_fifty_whole_numbers_are_classes_and_fifty_one_a_quantity() -> None:
    assert infer_task(pd.Series(list(range(50)) * 2))[0] == "multiclass_classification"
    assert infer_task(pd.Series(list(range(51)) * 2))[0] == "regression"
    assert infer_task(pd.Series([0.5, 1.5, 2.5] * 9))[0] == "regression"


def test_a_constant_target_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="single value"):
        infer_task(pd.Series(["a"] * 5, name="y"))


def _init(folder: Path, df: pd.DataFrame, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    folder.mkdir(parents=True, exist_ok=True)
    df.to_csv(folder / "data.csv", index=False)
    code = main(["init", "--existing", str(folder), "--data", str(folder / "data.csv"), "--target", "y"])
    out = capsys.readouterr()
    return code, out.out + out.err


def _generate(folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.chdir(folder)
    code = main(["generate"])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    return out.out


def test_regression_spec_validates_generates_and_has_no_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _init(tmp_path / "p", _frame(CASES["floats"][0]), capsys)
    assert code == 0, out
    text = (tmp_path / "p" / "mlprod.yaml").read_text()
    assert "threshold" not in text and "positive_label" not in text
    spec = load_spec(tmp_path / "p" / "mlprod.yaml").spec
    assert spec.project.task.value == "regression" and spec.model.threshold is None
    assert spec.baseline is not None and spec.baseline.metric.value == "rmse"
    assert [s.value for s in spec.baseline.strategies] == ["mean"]
    _generate(tmp_path / "p", monkeypatch, capsys)
    assert (tmp_path / "p" / "tests" / "mlprod").is_dir()


@pytest.mark.parametrize("case", ["strings", "ints", "ints_with_nan"])
def test_three_class_spec_validates_and_generates(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _init(tmp_path / "p", _frame(CASES[case][0]), capsys)
    assert code == 0, out
    assert "task multiclass_classification" in out
    text = (tmp_path / "p" / "mlprod.yaml").read_text()
    assert "threshold" not in text and "positive_label" not in text
    assert "# 3 classes: " in text
    spec = load_spec(tmp_path / "p" / "mlprod.yaml").spec
    assert spec.project.task.value == "multiclass_classification" and spec.model.threshold is None
    assert spec.baseline is not None and spec.baseline.metric.value == "accuracy"
    assert [s.value for s in spec.baseline.strategies] == ["prior"]
    _generate(tmp_path / "p", monkeypatch, capsys)
    assert (tmp_path / "p" / "tests" / "mlprod" / "test_baseline.py").is_file()
