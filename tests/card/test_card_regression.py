"""A regression project's card and notebooks show only what regression defines.

No decision threshold, no selection rate (both exist for binary classifiers only); the
card's RMSE, MAE and R² equal scikit-learn's; the bias notebook's axes follow the metric's
scale, and the drift notebook splits a continuous target into quantile bins.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cardkit import table_under
from conftest import mlprod
from taskkit import regression_project


@pytest.fixture(scope="module")
def regression(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reg") / "diabetes"
    regression_project(root)
    proc = mlprod(root, "evaluate", "--no-latency", "--html", "card.html")
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    return root


def _texts(root: Path) -> dict[str, str]:
    files = [root / "MODEL_CARD.md", root / "card.html", *sorted((root / "monitoring").glob("*.ipynb"))]
    return {p.name: p.read_text(encoding="utf-8") for p in files}


def test_card_and_notebooks_have_no_threshold_or_selection_rate(regression: Path) -> None:
    texts = _texts(regression)
    assert {"bias.ipynb", "drift.ipynb", "baseline.ipynb"} <= set(texts)
    for name, text in texts.items():
        assert not re.search(r"threshold|selection[ _]rate", text, re.IGNORECASE), name
    evaluation = json.loads((regression / ".mlprod" / "evaluation.json").read_text())
    assert evaluation["overall"]["threshold"] is None
    assert all(g["selection_rate"] is None for c in evaluation["cohorts"] for g in c["groups"])


def test_card_numbers_equal_sklearn(regression: Path) -> None:
    import joblib
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    test = pd.read_csv(regression / "data" / "test.csv")
    model = joblib.load(regression / "models" / "model.joblib")
    pred = model.predict(test[["age", "bmi", "bp", "s5"]])
    want = {
        "RMSE": float(np.sqrt(mean_squared_error(test["y"], pred))),
        "MAE": mean_absolute_error(test["y"], pred),
        "R²": r2_score(test["y"], pred),
    }
    card = (regression / "MODEL_CARD.md").read_text(encoding="utf-8")
    rows = {r["Metric"]: float(r["Value"]) for r in table_under(card, "### Overall")}
    assert set(rows) == set(want)
    for name, value in want.items():
        assert rows[name] == pytest.approx(value, abs=1e-3), name  # 3 decimals of 6 significant digits
    measured = json.loads((regression / ".mlprod" / "evaluation.json").read_text())["overall"]["metrics"]
    for key, name in (("rmse", "RMSE"), ("mae", "MAE"), ("r2", "R²")):
        assert measured[key] == pytest.approx(want[name], rel=1e-5), key  # 6 significant digits kept
    cohorts = table_under(card, "### Per-cohort metrics")
    assert [r["Group"] for r in cohorts] == ["a", "b"]
    assert "Selection rate" not in cohorts[0]
    for row in cohorts:
        mask = (test["sex"] == row["Group"]).to_numpy()
        assert float(row["MAE"]) == pytest.approx(mean_absolute_error(test["y"][mask], pred[mask]), abs=1e-3)


def test_metric_axes_follow_the_metric_scale() -> None:
    from mlprod.checks.plot_scales import metric_axis

    assert metric_axis("recall", [0.2, 0.9]) == (0.0, 1.05)
    lo, hi = metric_axis("mae", [45.0, 51.0, 40.0, None])
    assert lo == 0.0 and 51.0 < hi < 60.0  # not clipped at 1.05
    lo, hi = metric_axis("r2", [-0.3, 0.5])
    assert lo < -0.3 and hi > 0.5


def test_bias_plot_axis_and_gap_band_for_lower_is_better(regression: Path) -> None:
    from matplotlib.patches import Rectangle

    from mlprod.checks.monitoring_plots import plot_cohort_metrics

    groups = {
        "a": {"n": 50, "judged": True, "metrics": {"mae": 45.0}, "selection_rate": None},
        "b": {"n": 50, "judged": True, "metrics": {"mae": 95.0}, "selection_rate": None},
    }
    report = {"cohort": "sex", "min_rows": 20, "groups": groups}
    fig = plot_cohort_metrics(report, ["mae"], max_gap={"mae": 40.0}, selection=False)
    ax = fig.axes[0]
    assert ax.get_ylim()[1] > 95.0
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() < 1.5]
    colors = [tuple(round(c, 3) for c in b.get_facecolor()[:3]) for b in bars[:2]]
    assert colors[0] != colors[1]  # b is 50 above the best group a: outside the gap of 40
    titles = [a.get_title() for a in fig.axes if a.get_visible()]
    assert not any("selection" in t for t in titles)


def test_continuous_target_is_split_into_quantile_bins(regression: Path) -> None:
    assert (
        "split by the quartiles of the reference target"
        in (regression / "monitoring" / "drift.ipynb").read_text()
    )
    from mlprod.checks.plot_scales import TARGET_BINS, target_groups

    ref = pd.read_csv(regression / "data" / "train.csv")["y"]
    cur = pd.read_csv(regression / "data" / "current.csv")["y"]
    assert ref.nunique() > 100
    groups = target_groups(ref, cur)
    assert len(groups) == TARGET_BINS
    assert sum(int(m.sum()) for _, m, _ in groups) == len(ref)  # every row in exactly one bin
    assert sum(int(m.sum()) for _, _, m in groups) == len(cur)
    counts = [int(m.sum()) for _, m, _ in groups]
    assert max(counts) - min(counts) <= 0.1 * len(ref)  # quartiles of the reference
    classes = target_groups(pd.Series(["x", "y", "x"]), pd.Series(["y", "z"]))
    assert [label for label, _, _ in classes] == ["=x", "=y", "=z"]


@pytest.mark.parametrize("name", ["bias.ipynb", "drift.ipynb", "baseline.ipynb"])
def test_regression_notebooks_run(regression: Path, name: str) -> None:
    from taskkit import run_notebook

    assert run_notebook(regression, name)


def test_group_table_has_a_selection_rate_for_binary_only() -> None:
    from mlprod.checks.monitoring import group_table

    report = {
        "cohort": "sex",
        "min_rows": 20,
        "groups": {"a": {"n": 30, "judged": True, "selection_rate": 1.0}},
    }
    frame = lambda t: getattr(t, "data", t)  # noqa: E731 - a Styler wraps the DataFrame
    assert "selection_rate" in frame(group_table([report])).columns
    assert "selection_rate" not in frame(group_table([report], selection=False)).columns
