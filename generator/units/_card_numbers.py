"""The measured sections of the model card, from `.mlprod/evaluation.json` (untrusted JSON).

Each function returns Markdown for one part of "Quantitative analyses"; every string read
from the evaluation is escaped (`cell`), every number formatted (`num`). Missing or malformed
parts render as "not measured" instead of failing generation.
"""

from __future__ import annotations

import re
from typing import Any

from ._cardfmt import cell, get, items, names, num, ok, sha, table

METRIC_NAMES = {
    "roc_auc": "ROC AUC",
    "roc_auc_ovr": "ROC AUC (one-vs-rest, macro)",
    "accuracy": "Accuracy",
    "top_k_accuracy": "Top-k accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "precision": "Precision",
    "precision_macro": "Precision (macro)",
    "recall": "Recall",
    "recall_macro": "Recall (macro)",
    "f1": "F1",
    "f1_macro": "F1 (macro)",
    "f1_weighted": "F1 (weighted)",
    "log_loss": "Log loss",
    "brier": "Brier score",
    "selection_rate": "Selection rate",
    "false_positive_rate": "False positive rate",
    "false_negative_rate": "False negative rate",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
}
KIND_NAMES = {
    "max_gap": "gap",
    "demographic_parity_difference": "Demographic parity difference",
    "equalized_odds_difference": "Equalized odds difference",
}


_PER_CLASS = re.compile(r"^(precision|recall|f1)\[(.+)\]$")


def metric_name(metric: Any) -> str:
    """A metric's display name (`recall[N]` as "Recall of N"; escaped when unknown)."""
    if not isinstance(metric, str):
        return cell(metric)
    per_class = _PER_CLASS.fullmatch(metric)
    if per_class:
        return f"{METRIC_NAMES[per_class.group(1)]} of {cell(per_class.group(2))}"
    return METRIC_NAMES.get(metric, cell(metric))


def ordered(keys: list[Any]) -> list[Any]:
    """Metric names in the usual reading order (ROC AUC first); unknown ones after, as given."""
    order = list(METRIC_NAMES)
    return sorted(keys, key=lambda k: order.index(k) if k in order else len(order))


def provenance(ev: dict[str, Any]) -> str:
    """The line every measured table carries: when, on which model, by which mlprod."""
    date = cell(get(ev, "date"))
    model = sha(get(ev, "model", "sha256"))
    version = cell(get(ev, "mlprod_version"))
    return f"*Measured on {date} with model sha256 {model} by mlprod {version}.*\n"


def _error(ev: dict[str, Any], step: str) -> str | None:
    message = get(ev, "errors", step)
    return f"Could not be measured: {cell(message)}\n" if message else None


def overall(ev: dict[str, Any]) -> str:
    o = get(ev, "overall")
    metrics = get(o, "metrics")
    if not isinstance(metrics, dict):
        return "Not measured.\n"
    threshold = get(o, "threshold")  # binary classifiers only
    decided = f", decision threshold {num(threshold, 2)}" if _is_number(threshold) else ""
    head = f"On data set {cell(get(o, 'dataset'))} ({num(get(o, 'rows'))} rows){decided}.\n\n"
    rows = [[metric_name(k), num(metrics[k])] for k in ordered(list(metrics))]
    return head + table(["Metric", "Value"], rows, ["l", "r"])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _has_selection(ev: dict[str, Any]) -> bool:
    """Whether the evaluation measured selection rates (binary classifiers only)."""
    return any(_is_number(get(g, "selection_rate")) for c in items(ev, "cohorts") for g in items(c, "groups"))


def cohort_metrics(ev: dict[str, Any]) -> list[str]:
    """The metric columns of the per-cohort table, in the order the evaluation gives them."""
    out: list[str] = []
    for c in items(ev, "cohorts"):
        for g in items(c, "groups"):
            m = get(g, "metrics")
            if isinstance(m, dict):
                out += [k for k in m if isinstance(k, str) and k not in out]
    return ordered(out)


def cohorts(ev: dict[str, Any]) -> str:
    err = _error(ev, "cohorts and fairness")
    cs = items(ev, "cohorts")
    if err or not cs:
        return err or "No cohorts declared.\n"
    metrics = cohort_metrics(ev)
    selection = _has_selection(ev)
    first = cs[0]
    head = (
        f"On data set {cell(get(first, 'dataset'))}; groups with fewer than "
        f"{num(get(first, 'min_rows'))} rows are reported, not judged. "
        "Protected cohorts are marked with *.\n\n"
    )
    rows = []
    for c in cs:
        name = cell(get(c, "name")) + (" *" if get(c, "protected") is True else "")
        for g in items(c, "groups"):
            flags = get(g, "flags")
            flag_text = names(flags) if isinstance(flags, list) and flags else "–"
            rate = [num(get(g, "selection_rate"))] if selection else []
            rows.append(
                [
                    name,
                    cell(get(g, "label")),
                    num(get(g, "n")),
                    "yes" if get(g, "judged") is True else "no",
                    *[num(get(g, "metrics", m)) for m in metrics],
                    *rate,
                    flag_text,
                ]
            )
        if isinstance(get(c, "unbinned"), int) and get(c, "unbinned") > 0:
            dashes = ["–"] * (len(metrics) + (1 if selection else 0))
            rows.append([name, "(outside the bins)", num(get(c, "unbinned")), "no", *dashes, "–"])
    rate_head = ["Selection rate"] if selection else []
    header = ["Cohort", "Group", "Rows", "Judged", *[metric_name(m) for m in metrics], *rate_head, "Flags"]
    align = ["l", "l", "r", "c", *["r"] * (len(metrics) + len(rate_head)), "l"]
    return head + table(header, rows, align)


def fairness(ev: dict[str, Any]) -> str:
    fs = items(ev, "fairness")
    if not fs:
        return "No fairness limits on protected cohorts.\n"
    rows = []
    for f in fs:
        kind = get(f, "kind")
        what = KIND_NAMES.get(kind, cell(kind)) if isinstance(kind, str) else cell(kind)
        if get(f, "metric"):
            what = f"{metric_name(get(f, 'metric'))} {what}"
        rows.append(
            [
                cell(get(f, "cohort")),
                what,
                num(get(f, "value")),
                num(get(f, "limit")),
                ok(get(f, "passed"), get(f, "judged")),
            ]
        )
    return table(["Cohort", "Measure", "Value", "Limit", "Result"], rows, ["l", "l", "r", "r", "c"])


def baseline(ev: dict[str, Any]) -> str:
    err = _error(ev, "baseline")
    b = get(ev, "baseline")
    if err or not isinstance(b, dict):
        return err or "No baseline declared.\n"
    metric = metric_name(get(b, "metric"))
    head = (
        f"{metric} on data set {cell(get(b, 'dataset'))}; the model must beat each dummy model by "
        f"{num(get(b, 'min_lift'))}.\n\n"
    )
    rows = [["this model", num(get(b, "model")), "–", "–"]]
    for s in items(b, "strategies"):
        rows.append(
            [
                f"dummy ({cell(get(s, 'strategy'))})",
                num(get(s, "value")),
                num(get(s, "lift")),
                ok(get(s, "passed")),
            ]
        )
    prev = get(b, "previous")
    if isinstance(prev, dict):
        drop = get(prev, "drop")
        change = num(-drop) if isinstance(drop, int | float) and not isinstance(drop, bool) else "n/a"
        rows.append(
            [
                f"previous version {cell(get(prev, 'artifact'))} ({sha(get(prev, 'sha256'))})",
                num(get(prev, "value")),
                f"{'+' if not change.startswith(('-', 'n')) else ''}{change} (may drop at most "
                f"{num(get(prev, 'max_drop'))})",
                ok(get(prev, "passed")),
            ]
        )
    return head + table(["Model", metric, "Lift", "Result"], rows, ["l", "r", "r", "c"])


def _moment_skew(pair: Any) -> str:
    if not isinstance(pair, list) or len(pair) != 2:
        return "–"
    return f"{num(pair[0])} → {num(pair[1])}"


def drift(ev: dict[str, Any]) -> str:
    err = _error(ev, "drift")
    d = get(ev, "drift")
    if err or not isinstance(d, dict):
        return err or "No drift monitoring declared.\n"
    head = f"From data set {cell(get(d, 'reference'))} to {cell(get(d, 'current'))}.\n\n"
    rows = [
        [
            cell(get(f, "feature")),
            cell(get(f, "kind")),
            cell(get(f, "method")),
            num(get(f, "statistic")),
            num(get(f, "limit")),
            num(get(f, "skew_change")),
            _moment_skew(get(f, "moment_skew")),
            "**fail** (skew)" if get(f, "skew_passed") is False else ok(get(f, "passed"), get(f, "judged")),
        ]
        for f in items(d, "features")
    ]
    for key, label in (("target", "target"), ("prediction", "model scores")):
        t = get(d, key)
        if isinstance(t, dict):
            rows.append(
                [
                    f"*{label}*",
                    "–",
                    cell(get(t, "method")),
                    num(get(t, "value")),
                    num(get(t, "limit")),
                    "–",
                    "–",
                    ok(get(t, "passed"), get(t, "judged")),
                ]
            )
    text = head + table(
        ["Feature", "Kind", "Method", "Statistic", "Limit", "Skew change", "Moment skewness", "Result"],
        rows,
        ["l", "l", "l", "r", "r", "r", "r", "c"],
    )
    text += (
        "\nSkew change: of Bowley's quantile skewness (in [-1, 1]), the checked one; moment "
        "skewness (reference → current) is shown, not checked.\n"
    )
    bc = get(d, "by_cohort")
    if isinstance(bc, dict):
        drifted = get(bc, "drifted")
        shown = names(drifted) if isinstance(drifted, list) and drifted else "none"
        text += (
            f"\nWithin cohorts: {num(get(bc, 'judged'))} feature-group pairs judged, "
            f"{num(get(bc, 'not_judged'))} groups not judged (fewer than "
            f"{num(get(bc, 'min_rows'))} rows on a side); drifted: {shown}.\n"
        )
    return text


def importances(ev: dict[str, Any]) -> str:
    err = _error(ev, "importances")
    imp = get(ev, "importances")
    if err or not isinstance(imp, dict):
        return err or "No explainability section declared.\n"
    top_k = get(imp, "top_k")
    head = (
        f"Method {cell(get(imp, 'method'))} on data set {cell(get(imp, 'dataset'))}; "
        f"the top {num(top_k)} are in bold.\n\n"
    )
    rows = []
    for rank, v in enumerate(items(imp, "values"), start=1):
        name = cell(get(v, "feature"))
        in_top = isinstance(top_k, int) and rank <= top_k
        rows.append([str(rank), f"**{name}**" if in_top else name, num(get(v, "importance"), 4)])
    text = head + table(["Rank", "Feature", "Importance"], rows, ["r", "l", "r"])
    expected = get(imp, "expect_top")
    if isinstance(expected, dict) and expected:
        parts = [f"{cell(k)} ({'yes' if v is True else 'no'})" for k, v in expected.items()]
        text += f"\nExpected in the top {num(top_k)}: {', '.join(parts)}.\n"
    return text


def reason_codes(ev: dict[str, Any]) -> str:
    err = _error(ev, "reason codes")
    rc = get(ev, "reason_codes")
    if err or not isinstance(rc, dict):
        return err or "No reason codes declared.\n"
    head = (
        f"Each code is the change of the row's score when the feature is set to its typical value in "
        f"data set {cell(get(rc, 'reference'))} (median or mode). All {num(get(rc, 'checked_rows'))} "
        f"checked rows got finite codes: {'yes' if get(rc, 'passed') is True else '**no**'}. "
        f"First rows of data set {cell(get(rc, 'dataset'))}:\n\n"
    )
    rows = []
    for ex in items(rc, "examples"):
        codes = "; ".join(
            f"{cell(get(c, 'feature'))} {'+' if (get(c, 'contribution') or 0) >= 0 else ''}"
            f"{num(get(c, 'contribution'))}"
            for c in items(ex, "codes")
        )
        rows.append([cell(get(ex, "id")), num(get(ex, "score")), codes or "–"])
    return head + table(["Row", "Score", "Reason codes"], rows, ["l", "r", "l"])


def latency(ev: dict[str, Any]) -> str:
    err = _error(ev, "latency")
    lat = get(ev, "latency")
    if err:
        return err
    if not isinstance(lat, dict):
        return (
            "Not measured in this evaluation (`mlprod evaluate --no-latency`, which keeps the recorded "
            "evaluation deterministic); the infrastructure tests measure latency on every run.\n"
        )
    size = num(get(lat, "batch_size"))
    rows = [
        [
            f"p50 latency, batches of {size} row(s)",
            f"{num(get(lat, 'p50_ms'), 2)} ms",
            _budget(get(lat, "budget", "p50_ms")),
        ],
        [
            f"p95 latency, batches of {size} row(s)",
            f"{num(get(lat, 'p95_ms'), 2)} ms",
            _budget(get(lat, "budget", "p95_ms")),
        ],
    ]
    batch = get(lat, "batch")
    if isinstance(batch, dict):
        rows.append(
            [
                f"time for a batch of {num(get(batch, 'rows'))} rows",
                f"{num(get(batch, 'ms'), 1)} ms",
                _budget(get(batch, "max_ms")),
            ]
        )
    mem = get(lat, "memory")
    if isinstance(mem, dict):
        rows.append(
            [
                f"peak memory added by {num(get(mem, 'rows'))} rows",
                f"{num(get(mem, 'mb'), 1)} MB",
                _budget(get(mem, "max_mb"), "MB"),
            ]
        )
    head = f"{num(get(lat, 'runs'))} timed runs on data set {cell(get(lat, 'dataset'))}.\n\n"
    return head + table(["Measure", "Value", "Budget"], rows, ["l", "r", "r"])


def _budget(value: Any, unit: str = "ms") -> str:
    return f"{num(value, 1)} {unit}" if isinstance(value, int | float) else "–"


def failed_checks(ev: dict[str, Any]) -> list[str]:
    """Messages of the evaluation's failed, judged checks (escaped)."""
    return [
        cell(get(r, "message"))
        for r in items(ev, "results")
        if get(r, "passed") is False and get(r, "judged") is not False
    ]


def not_judged_groups(ev: dict[str, Any]) -> list[str]:
    """'cohort group (n rows)' for every group too small to judge (escaped)."""
    out = []
    for c in items(ev, "cohorts"):
        for g in items(c, "groups"):
            if get(g, "judged") is False:
                out.append(f"{cell(get(c, 'name'))} {cell(get(g, 'label'))} ({num(get(g, 'n'))} rows)")
    return out
