"""What the generated monitoring notebooks call: project opening, tables, figures, a summary.

Notebook cells stay one or two lines: they run the same `Project` checks as the generated
tests (project.py) and hand the results and data to these helpers. Figures are drawn on
`matplotlib.figure.Figure` objects (no pyplot, no GUI backend, no global state) and shown
as PNG with `show`, so they render the same under any kernel backend.

Each notebook ends with `Summary.emit()`, which displays its check results as JSON under the
MIME type `SUMMARY_MIME`; `mlprod monitor` reads that output from the executed notebook.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .monitoring_aggregates import frames, plot_bin_shares, plot_distribution, skew_table_for
from .monitoring_plots import (
    BREACH_COLOR,
    NOT_JUDGED_COLOR,
    OK_COLOR,
    figure,
    plot_baseline,
    plot_budgets,
    plot_cohort_metrics,
    plot_curves,
    plot_densities,
    plot_drift_statistics,
    plot_latency,
    plot_skewness,
    plot_throughput,
    png,
    save,
    show,
    status,
)
from .results import CheckResult

SUMMARY_MIME = "application/vnd.mlprod.checks+json"


# --- project and status ------------------------------------------------------------------


def find_root(root: str | Path = ".", marker: str = "mlprod.yaml") -> Path:
    """The project root: `root` when it holds `marker`, else the nearest parent of the cwd that does.

    `mlprod monitor` runs notebooks with the project root as cwd; opened in Jupyter, the
    cwd is the notebook's folder, so the spec is found by walking up.
    """
    given = Path(root).resolve()
    if (given / marker).is_file():
        return given
    for folder in (Path.cwd().resolve(), *Path.cwd().resolve().parents):
        if (folder / marker).is_file():
            return folder
    return given


def open_project(
    root: str | Path,
    config: Mapping[str, Any],
    datasets: Mapping[str, str] | None = None,
    marker: str = "mlprod.yaml",
) -> Any:
    """A `Project` (the generated tests' facade) for the notebook; `datasets` overrides config paths."""
    from .project import Project

    cfg = dict(config)
    if datasets is not None:
        cfg["datasets"] = {**cfg.get("datasets", {}), **dict(datasets)}
    return Project(find_root(root, marker), cfg)


def flatten(results: Iterable[CheckResult | Iterable[CheckResult]]) -> list[CheckResult]:
    """Results and lists of results as one list."""
    out: list[CheckResult] = []
    for r in results:
        out.extend([r] if isinstance(r, CheckResult) else flatten(r))
    return out


class Summary:
    """The check results of one notebook; `emit()` displays them for people and for `mlprod monitor`."""

    def __init__(self, notebook: str) -> None:
        self.notebook = notebook
        self.results: list[CheckResult] = []

    def add(self, *results: CheckResult | Iterable[CheckResult]) -> list[CheckResult]:
        """Record results (or lists of them); returns the flat list added."""
        flat = flatten(results)
        self.results.extend(flat)
        return flat

    def payload(self) -> dict[str, Any]:
        counts = {s: sum(status(r) == s for r in self.results) for s in ("ok", "breach", "not judged")}
        return {
            "notebook": self.notebook,
            "checks": [r.to_dict() | {"status": status(r)} for r in self.results],
            "passed": counts["ok"],
            "breaches": counts["breach"],
            "not_judged": counts["not judged"],
        }

    def text(self) -> str:
        p = self.payload()
        head = f"{self.notebook}: {p['passed']} ok, {p['breaches']} breach(es), {p['not_judged']} not judged"
        lines = [head] + [f"  BREACH {r.message}" for r in self.results if status(r) == "breach"]
        return "\n".join(lines)

    def emit(self) -> None:
        """Display the summary (JSON under SUMMARY_MIME, plus text and HTML)."""
        from IPython.display import display

        p = self.payload()
        rows = "".join(
            f"<tr><td>{html.escape(c['status'])}</td><td>{html.escape(str(c['check']))}</td>"
            f"<td>{html.escape(str(c['message']))}</td></tr>"
            for c in p["checks"]
            if c["status"] != "ok"
        )
        table = f"<table><tr><th>status</th><th>check</th><th>message</th></tr>{rows}</table>" if rows else ""
        bundle = {
            SUMMARY_MIME: json.loads(json.dumps(p, allow_nan=False, default=str)),
            "text/plain": self.text(),
            "text/html": f"<p><b>{html.escape(self.text().splitlines()[0])}</b></p>{table}",
        }
        display(bundle, raw=True)


# --- tables ------------------------------------------------------------------------------


def results_table(results: Sequence[CheckResult]) -> Any:
    """A DataFrame of results (status, subject, check, value, limit, message), breaches highlighted."""
    import pandas as pd

    df = pd.DataFrame(
        [
            {
                "status": status(r),
                "subject": r.subject,
                "check": r.check,
                "value": r.value,
                "limit": r.limit,
                "message": r.message,
            }
            for r in results
        ],
        columns=["status", "subject", "check", "value", "limit", "message"],
    )
    return highlight(df)


def drift_table(results: Sequence[CheckResult]) -> Any:
    """Per-feature drift statistic, limit and method; breaches highlighted."""
    import pandas as pd

    rows = [
        {
            "status": status(r),
            "column": r.subject,
            "check": r.check,
            "method": r.details.get("method", ""),
            "kind": r.details.get("kind", ""),
            "value": r.value,
            "limit": r.limit,
            "message": r.message,
        }
        for r in results
    ]
    return highlight(
        pd.DataFrame(
            rows, columns=["status", "column", "check", "method", "kind", "value", "limit", "message"]
        )
    )


def skew_table(ref: Any, cur: Any, features: Sequence[str], max_change: float | None = None) -> Any:
    """Quantile (Bowley) skewness of each numeric feature before and after, the checked change,
    and moment skewness beside it (shown, not checked: one outlier decides it)."""
    import pandas as pd

    from .drift import is_numeric, quantile_skewness, skewness

    rows = []
    for f in features:
        if f not in ref.columns or f not in cur.columns or not is_numeric(ref[f]):
            continue
        before, after = quantile_skewness(ref[f]), quantile_skewness(cur[f])
        change = abs(after - before)
        breach = max_change is not None and not (change <= max_change)
        rows.append(
            {
                "status": "breach" if breach else "ok",
                "feature": f,
                "reference": before,
                "current": after,
                "change": change,
                "limit": max_change,
                "moment_reference": skewness(ref[f]),
                "moment_current": skewness(cur[f]),
            }
        )
    columns = ["status", "feature", "reference", "current", "change", "limit"]
    return highlight(pd.DataFrame(rows, columns=[*columns, "moment_reference", "moment_current"]))


def group_table(reports: Sequence[Mapping[str, Any]], selection: bool = True) -> Any:
    """Group sizes of each cohort report, with whether the group is judged; with `selection`
    (binary classifiers: the share predicted positive), each group's selection rate."""
    import pandas as pd

    columns = ["status", "cohort", "group", "rows", "min_rows"] + (["selection_rate"] if selection else [])
    rows = [
        {
            "status": "ok" if g["judged"] else "not judged",
            "cohort": rep["cohort"],
            "group": label,
            "rows": g["n"],
            "min_rows": rep["min_rows"],
            "selection_rate": g["selection_rate"],
        }
        for rep in reports
        for label, g in rep["groups"].items()
    ]
    return highlight(pd.DataFrame(rows, columns=columns))


def highlight(df: Any) -> Any:
    """A Styler colouring breach rows red and not-judged rows grey (plain DataFrame without jinja2)."""
    colors = {"breach": "background-color: #f8d7da", "not judged": "color: #777777"}
    import importlib.util

    if importlib.util.find_spec("jinja2") is None:  # pandas' Styler needs it; plain table without
        return df
    return df.style.apply(lambda row: [colors.get(row["status"], "")] * len(row), axis=1).format(
        precision=3, na_rep="-"
    )


__all__ = [
    "BREACH_COLOR",
    "NOT_JUDGED_COLOR",
    "OK_COLOR",
    "SUMMARY_MIME",
    "Summary",
    "baseline_scores",
    "drift_table",
    "fairness_checks",
    "figure",
    "find_root",
    "flatten",
    "frames",
    "group_table",
    "highlight",
    "informational",
    "log_growth",
    "log_latency",
    "open_project",
    "plot_baseline",
    "plot_bin_shares",
    "plot_budgets",
    "plot_cohort_metrics",
    "plot_curves",
    "plot_densities",
    "plot_distribution",
    "plot_drift_statistics",
    "plot_latency",
    "plot_skewness",
    "plot_throughput",
    "png",
    "prediction_log",
    "results_table",
    "save",
    "show",
    "skew_table",
    "skew_table_for",
    "status",
]


# --- data the notebooks assemble ---------------------------------------------------------


def baseline_scores(
    project: Any, strategies: Sequence[str], dataset: str, train: str, previous: str | None = None
) -> dict[str, Any]:
    """{name: scores on `dataset`} of the model, each dummy strategy and the previous version."""
    from .baseline import dummy_scores

    out = {"model": project.scores(dataset)}
    # a multiclass dummy scores the model's classes (a ClassProba), as the baseline check does
    classes = getattr(out["model"], "classes", None) if project.multiclass else None
    for s in strategies:
        out[f"dummy: {s}"] = dummy_scores(
            s,
            project.X(train),
            project.y(train),
            project.X(dataset),
            seed=project.seed,
            classes=classes,
            k=project.metrics_k,
        )
    if previous:
        out["previous version"] = project.previous_scores(previous, dataset)
    return out


def prediction_log(project: Any, log: Mapping[str, Any]) -> Any:
    """The prediction log as a DataFrame, or None (with a printed reason) when there is none yet."""
    from .infrastructure import read_log

    path = project.path(log["path"])
    if not path.is_file():
        print(
            f"no prediction log at {log['path']} yet: the serving process writes it "
            "through mlprod.checks.infrastructure.PredictionLogger"
        )
        return None
    return read_log(path)


def log_growth(project: Any, log: Mapping[str, Any]) -> CheckResult:
    """Latency growth in the log; a not-judged result when the log does not exist yet."""
    if not project.path(log["path"]).is_file():
        return CheckResult(
            "infrastructure",
            "latency_growth",
            True,
            f"no prediction log at {log['path']} yet",
            subject=log["path"],
            judged=False,
        )
    return project.check_log_growth(log)


def log_latency(project: Any, log: Mapping[str, Any], latency: Mapping[str, Any] | None) -> list[CheckResult]:
    """p50/p95 per-row latency in the log's last `window_days` (up to today) within the latency budget.

    Production evidence, unlike a timing taken on the machine running the notebook.
    """
    import pandas as pd

    from .infrastructure import log_timestamps
    from .release import today
    from .results import at_most

    if not latency or not project.path(log["path"]).is_file():
        return []
    df = prediction_log(project, log)
    ts = log_timestamps(df[log["timestamp"]])
    lat = pd.to_numeric(df[log["latency_ms"]], errors="coerce")
    end = pd.Timestamp(today()) + pd.Timedelta(days=1)
    days = int(log.get("window_days", 7))
    recent = lat[(ts >= end - pd.Timedelta(days=days)) & (ts < end)].dropna()
    out = []
    for key, q in (("p50_ms", 0.5), ("p95_ms", 0.95)):
        if latency.get(key) is None:
            continue
        name = key.removesuffix("_ms")
        what = f"{name} latency per row in {log['path']} over the last {days} days, in ms"
        if recent.empty:
            out.append(
                CheckResult(
                    "infrastructure",
                    f"log_latency_{name}",
                    True,
                    f"{what}: no rows to judge",
                    None,
                    float(latency[key]),
                    log["path"],
                    judged=False,
                )
            )
            continue
        out.append(
            at_most(
                "infrastructure",
                f"log_latency_{name}",
                float(recent.quantile(q)),
                float(latency[key]),
                what,
                subject=log["path"],
                details={"rows": int(recent.size)},
            )
        )
    return out


def informational(results: Iterable[CheckResult]) -> list[CheckResult]:
    """Timings taken on this machine: shown, not judged here (the generated tests judge them in CI)."""
    from dataclasses import replace

    return [
        replace(
            r,
            judged=False,
            passed=True,
            message=f"{r.message} (measured here; judged by the generated tests)",
        )
        if r.check.startswith(("latency_", "batch_time"))
        else r
        for r in flatten(results)
    ]


def fairness_checks(
    project: Any,
    dataset: str,
    cohort: Mapping[str, Any],
    *,
    protected: bool,
    max_gap: Mapping[str, float],
    minimum: Mapping[str, float],
    parity: float | None,
    odds: float | None,
    min_rows: int,
) -> list[CheckResult]:
    """The fairness checks of one cohort, as the generated tests run them."""
    out: list[CheckResult] = []
    if protected:
        out += [
            project.check_max_gap(dataset, cohort, m, lim, min_rows) for m, lim in sorted(max_gap.items())
        ]
        if parity is not None:
            out.append(project.check_demographic_parity(dataset, cohort, parity, min_rows))
        if odds is not None:
            out.append(project.check_equalized_odds(dataset, cohort, odds, min_rows))
    for m, lim in sorted(minimum.items()):
        out += project.check_min(dataset, cohort, m, lim, min_rows)
    return out
