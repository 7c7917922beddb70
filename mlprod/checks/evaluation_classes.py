"""The class-level figures of a multiclass model card, measured by the checks' own code.

`classes_section(project, config)` returns plain data for `.mlprod/evaluation.json`:

    {"dataset", "classes": [labels],
     "per_class": [{"label", "precision", "recall", "f1", "support"}],
     "confusion": {"counts": [[truth x predicted]], "normalized": [[row shares]]},
     "cohort_recall": [{"cohort", "group", "n", "judged", "recall": {label: value}}],
     "transitions": {"previous", "dataset", "classes", "counts", "flip_rate"} | None}

Per-class precision, recall and F1 are the checks' `precision[<label>]` (NaN, stored as
null, when a class is never predicted); support counts the class's rows in the truth. The
confusion matrix is normalized by row (each true class's rows sum to 1). The transition
table compares the previous version's predicted classes (rows) with the model's (columns)
when `collaboration.regression` names a previous version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _finite(value: Any) -> float | None:
    import math

    v = float(value)
    return v if math.isfinite(v) else None


def classes_section(p: Any, config: Mapping[str, Any]) -> dict[str, Any]:
    """Per-class table, confusion matrix, per-cohort per-class recall and class transitions."""
    from .metrics import compute_metrics
    from .metrics_multiclass import confusion, label_text

    dataset = config["eval_dataset"]
    y, proba = p.y(dataset), p.scores(dataset)
    cm = confusion(y, proba)
    labels, counts = cm["classes"], cm["counts"]
    kinds = ("precision", "recall", "f1")
    values = compute_metrics([f"{k}[{label}]" for label in labels for k in kinds], y, proba)
    per_class = [
        {
            "label": label,
            **{k: _finite(values[f"{k}[{label}]"]) for k in kinds},
            "support": int(sum(counts[i])),
        }
        for i, label in enumerate(labels)
    ]
    normalized = [[c / sum(r) if sum(r) else None for c in r] for r in counts]
    out: dict[str, Any] = {
        "dataset": dataset,
        "classes": labels,
        "per_class": per_class,
        "confusion": {"counts": counts, "normalized": normalized},
        "cohort_recall": _cohort_recall(p, config, [label_text(c) for c in proba.classes]),
        "transitions": None,
    }
    collab = config.get("collaboration")
    if collab and collab.get("previous"):
        ds = collab.get("dataset") or dataset
        r = p.check_flip_rate(collab["previous"], ds, float(collab.get("max_flip_rate", 0.1)))
        table = r.details.get("transitions") or {}
        out["transitions"] = {
            "previous": collab["previous"],
            "dataset": ds,
            "classes": table.get("classes"),
            "counts": table.get("counts"),
            "flip_rate": r.value,
        }
    return out


def _cohort_recall(p: Any, config: Mapping[str, Any], labels: list[str]) -> list[dict[str, Any]]:
    fair = config.get("fairness") or {}
    dataset = fair.get("dataset") or config["eval_dataset"]
    min_rows = int(fair.get("min_cohort_rows", 30))
    names = [f"recall[{label}]" for label in labels]
    rows = []
    for cohort in config.get("cohorts", []):
        report = p.cohort_report(dataset, cohort, names, min_rows)
        for label, g in report["groups"].items():
            rows.append(
                {
                    "cohort": cohort["name"],
                    "group": label,
                    "n": g["n"],
                    "judged": g["judged"],
                    "recall": {c: _finite(g["metrics"][m]) for c, m in zip(labels, names, strict=True)},
                }
            )
    return rows
