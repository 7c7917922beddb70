"""mlprod.checks.monitoring: the summary, tables and figures the notebooks call."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlprod.checks import monitoring as mon
from mlprod.checks.project import Project
from mlprod.checks.results import CheckResult


def _r(passed: bool, judged: bool = True, check: str = "feature_drift", subject: str = "x") -> CheckResult:
    return CheckResult(
        "bias",
        check,
        passed,
        f"{subject} {'ok' if passed else 'drifts'}",
        0.3,
        0.2,
        subject,
        {"method": "psi"},
        judged,
    )


def test_summary_counts_and_emits_json(monkeypatch: pytest.MonkeyPatch) -> None:
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    s = mon.Summary("drift")
    added = s.add(_r(True), [_r(False, subject="age"), [_r(True, judged=False)]])
    assert len(added) == 3
    p = s.payload()
    assert (p["passed"], p["breaches"], p["not_judged"]) == (1, 1, 1)
    assert "BREACH age drifts" in s.text()
    s.emit()
    ((bundle, raw),) = shown
    assert raw and json.loads(json.dumps(bundle[mon.SUMMARY_MIME])) == p
    assert [c["status"] for c in bundle[mon.SUMMARY_MIME]["checks"]] == ["ok", "breach", "not judged"]
    assert "<" not in bundle["text/html"].split("<table>")[0].replace("<p><b>", "").replace("</b></p>", "")


def test_summary_mime_is_what_monitor_reads() -> None:
    from mlprod.commands import monitor

    assert monitor.SUMMARY_MIME == mon.SUMMARY_MIME
    assert mon.SUMMARY_MIME.startswith("application/") and mon.SUMMARY_MIME.endswith("+json")


def test_tables_highlight_breaches() -> None:
    styled = mon.drift_table([_r(True, subject="a"), _r(False, subject="b"), _r(True, False, subject="c")])
    df = styled.data
    assert list(df["status"]) == ["ok", "breach", "not judged"]
    html = styled.to_html()
    assert "#f8d7da" in html and "b drifts" in html


def test_skew_table_checks_bowley_and_shows_moment_skewness() -> None:
    from scipy.stats import skew

    def bowley(x):
        q1, q2, q3 = np.percentile(x, [25, 50, 75])
        return (q3 + q1 - 2 * q2) / (q3 - q1)

    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"a": rng.normal(size=500), "c": ["x"] * 500})
    cur = pd.DataFrame({"a": rng.exponential(size=500), "c": ["y"] * 500})
    df = mon.skew_table(ref, cur, ["a", "c"], 0.2).data
    assert list(df["feature"]) == ["a"]
    assert df["reference"].iloc[0] == pytest.approx(bowley(ref["a"]))
    assert df["current"].iloc[0] == pytest.approx(bowley(cur["a"]))
    assert df["moment_current"].iloc[0] == pytest.approx(skew(cur["a"]))
    assert df["status"].iloc[0] == ("breach" if abs(bowley(cur["a"]) - bowley(ref["a"])) > 0.2 else "ok")


def _labelled(fig) -> None:
    for ax in fig.axes:
        if ax.get_visible():
            assert ax.get_ylabel() or ax.get_xlabel(), ax.get_title()
    assert any(ax.get_legend() for ax in fig.axes) or fig.legends
    assert mon.png(fig).startswith(b"\x89PNG")


def test_density_plots_numeric_and_categorical() -> None:
    rng = np.random.default_rng(1)
    ref = pd.DataFrame(
        {
            "amount": rng.gamma(2, 1000, 400),
            "kind": rng.choice(["a", "b", "c"], 400),
            "y": rng.integers(0, 2, 400),
        }
    )
    cur = ref.assign(amount=ref["amount"] * 3)
    fig = mon.plot_densities(ref, cur, "amount", target="y")
    assert len(fig.axes) == 2
    assert fig.axes[0].get_xlabel() == "amount" and fig.axes[0].get_ylabel() == "density"
    assert {t.get_text() for t in fig.axes[1].get_legend().get_texts()} == {
        "reference, y=0",
        "current, y=0",
        "reference, y=1",
        "current, y=1",
    }
    _labelled(fig)
    fig = mon.plot_densities(ref, cur, "kind")
    assert len(fig.axes) == 1 and fig.axes[0].get_xlabel() == "share of rows"
    _labelled(fig)


def test_figures_are_labelled() -> None:
    results = [_r(True, subject="a"), _r(False, subject="b")]
    _labelled(mon.plot_drift_statistics(results))
    report = {
        "cohort": "sex",
        "min_rows": 30,
        "groups": {
            "female": {"n": 60, "judged": True, "metrics": {"recall": 0.4}, "selection_rate": 0.2},
            "male": {"n": 90, "judged": True, "metrics": {"recall": 0.9}, "selection_rate": 0.3},
            "other": {"n": 5, "judged": False, "metrics": {"recall": 1.0}, "selection_rate": 0.5},
        },
    }
    fig = mon.plot_cohort_metrics(report, ["recall"], max_gap={"recall": 0.3}, parity=0.2)
    _labelled(fig)
    recall_ax = fig.axes[0]
    colors = [tuple(round(c, 3) for c in p.get_facecolor()[:3]) for p in recall_ax.patches[:3]]
    from matplotlib.colors import to_rgb

    breach, ok, small = (
        tuple(round(c, 3) for c in to_rgb(x)) for x in (mon.BREACH_COLOR, mon.OK_COLOR, mon.NOT_JUDGED_COLOR)
    )
    assert colors == [breach, ok, small]  # 0.4 < 0.9 - 0.3 breaches; the small group is not judged
    log = pd.DataFrame(
        {
            "ts": pd.date_range("2026-11-01", periods=100, freq="4h").strftime("%Y-%m-%dT%H:%M:%S"),
            "latency_ms": np.linspace(1, 2, 100),
        }
    )
    _labelled(mon.plot_latency(log, p50_ms=20, p95_ms=50))
    _labelled(mon.plot_throughput(log))
    budgets = [CheckResult("infrastructure", "memory", True, "m", 10.0, 300.0)]
    _labelled(mon.plot_budgets(budgets))
    base = [
        CheckResult(
            "baseline",
            "beats_dummy",
            True,
            "m",
            0.3,
            0.1,
            "prior",
            {"model": 0.8, "dummy": 0.5, "strategy": "prior"},
        )
    ]
    _labelled(mon.plot_baseline(base, "roc_auc"))
    y = np.array([0, 1] * 50)
    _labelled(mon.plot_curves(y, {"model": y * 0.8 + 0.1, "dummy": np.full(100, 0.5)}))
    _labelled(mon.plot_curves(y.astype(float), {"model": y + 0.1}, task="regression"))


def test_log_latency_against_numpy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPROD_TODAY", "2026-11-27")
    ts = pd.date_range("2026-11-10", "2026-11-27 23:00", freq="h")
    lat = np.arange(len(ts), dtype=float) % 17
    (tmp_path / "logs").mkdir()
    pd.DataFrame({"ts": ts.strftime("%Y-%m-%dT%H:%M:%S+00:00"), "latency_ms": lat}).to_csv(
        tmp_path / "logs/p.csv", index=False
    )
    project = Project(tmp_path, {})
    log = {"path": "logs/p.csv", "timestamp": "ts", "latency_ms": "latency_ms", "window_days": 7}
    p50, p95 = mon.log_latency(project, log, {"p50_ms": 8.0, "p95_ms": 15.0})
    recent = lat[ts >= pd.Timestamp("2026-11-21")]
    assert p50.value == pytest.approx(np.quantile(recent, 0.5))
    assert p95.value == pytest.approx(np.quantile(recent, 0.95))
    assert p50.passed == (np.quantile(recent, 0.5) <= 8.0) and not p95.passed
    missing = {**log, "path": "logs/none.csv"}
    assert mon.log_latency(project, missing, {"p50_ms": 1.0}) == []
    growth = mon.log_growth(project, missing)
    assert growth.passed and not growth.judged


def test_informational_keeps_memory_judged() -> None:
    rs = [
        CheckResult("infrastructure", "latency_p50", False, "p50 slow", 30.0, 20.0),
        CheckResult("infrastructure", "memory", False, "too big", 400.0, 300.0),
    ]
    out = mon.informational(rs)
    assert [mon.status(r) for r in out] == ["not judged", "breach"]


def test_find_root_walks_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mlprod.yaml").write_text("version: 1\n")
    (tmp_path / "monitoring").mkdir()
    monkeypatch.chdir(tmp_path / "monitoring")
    assert mon.find_root(".") == tmp_path.resolve()
    assert mon.find_root(str(tmp_path)) == tmp_path.resolve()
