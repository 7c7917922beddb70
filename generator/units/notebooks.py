"""Monitoring notebooks in `<outputs.notebooks>/`: drift, bias, infrastructure, baseline.

Each notebook is a jinja template under `templates/notebooks/` written as cells separated by
`#%% markdown` / `#%% code` / `#%% code parameters` lines; it is rendered with `Safe` values
only (spec values reach code cells as Python literals, markdown cells through `md()`), cut
into cells and serialised as nbformat 4.5 JSON with fixed cell ids and no outputs. The
engine adds the header to `metadata.mlprod` and validates the notebook with nbformat.
A notebook is generated only when its spec sections exist. nbformat itself is not imported
here, so `mlprod generate --check` stays fast.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Any

from mlprod.generator.base import Artifact, Context, Kind, unit
from mlprod.generator.render import render_template
from mlprod.generator.safe import md, trusted
from mlprod.generator.units._pyfmt import assign, literal
from mlprod.schema.models import Spec

_CELL = re.compile(r"^#%% (markdown|code)( parameters)?$", re.M)
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def cells_from_text(text: str) -> list[dict[str, Any]]:
    """nbformat 4.5 cells from the rendered `#%%` text (ids fixed by position)."""
    marks = list(_CELL.finditer(text))
    cells: list[dict[str, Any]] = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        source = text[m.end() : end].strip("\n")
        cell: dict[str, Any] = {
            "cell_type": m.group(1),
            "id": f"cell-{len(cells):03d}",
            "metadata": {},
            "source": source,
        }
        if m.group(1) == "code":
            cell |= {"execution_count": None, "outputs": []}
            if m.group(2):
                cell["metadata"] = {"tags": ["parameters"]}
        cells.append(cell)
    return cells


def notebook_json(text: str) -> str:
    """The notebook document (without the mlprod header, which the engine adds)."""
    nb = {
        "cells": cells_from_text(text),
        "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _eval_dataset(spec: Spec) -> str:
    if spec.baseline is not None:
        return spec.baseline.dataset
    return "test" if "test" in spec.data.datasets else next(iter(spec.data.datasets))


def _common(ctx: Context, name: str, names: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    from mlprod.generator.units.suites import project_config

    spec = ctx.spec
    config = project_config(spec)
    datasets = config.pop("datasets")
    if config["model"].get("threshold") is None:  # only binary classifiers have one
        config["model"].pop("threshold", None)
    return {
        "title": md(spec.project.title or spec.project.name),
        "notebook": literal(name),
        "spec_file": assign("SPEC_FILE", ctx.spec_file),
        "datasets": assign("DATASETS", datasets),
        "names": trusted("\n".join(assign(k, v) for k, v in names.items())),
        "config": assign("CONFIG", config),
        "settings": [assign(k, v) for k, v in settings.items()],
    }


def _cohorts(spec: Spec) -> dict[str, Any]:
    return {c.name: c.model_dump(mode="json", exclude_none=True) for c in spec.cohorts}


def _drift(ctx: Context) -> str | None:
    spec, d = ctx.spec, ctx.spec.drift
    if d is None:
        return None
    numeric, categorical = d.numeric.model_dump(mode="json"), d.categorical.model_dump(mode="json")
    by_cohort = bool(d.by_cohort and spec.cohorts)
    settings: dict[str, Any] = {
        "FEATURES": list(spec.data.features),
        "TARGET": spec.data.target,
        "LIMITS": {
            "numeric": numeric,
            "categorical": categorical,
            "skew": d.skew.max_change if d.skew else None,
        },
    }
    if d.target is not None:
        settings["TARGET_DRIFT"] = d.target.model_dump(mode="json")
    if by_cohort:
        settings |= {
            "COHORTS": _cohorts(spec),
            "COHORT_LIMITS": {"numeric": numeric, "categorical": categorical},
            "DRIFT_MIN_ROWS": d.min_rows,
        }
    data = _common(ctx, "drift", {"REFERENCE": d.reference, "CURRENT": d.current}, settings)
    data |= {
        "reference_md": md(d.reference),
        "current_md": md(d.current),
        "target": d.target is not None,
        "regression": spec.project.task.value == "regression",  # a continuous target: quartiles
        "by_cohort": by_cohort,
        "min_rows_md": md(d.min_rows),
    }
    return render_template("notebooks/drift.nb.jinja", **data)


#: The metrics the bias notebook plots when the spec bounds none, by task.
_COHORT_DEFAULT = {
    "binary_classification": ("accuracy",),
    "multiclass_classification": ("accuracy", "recall_macro"),
    "regression": ("rmse", "mae"),
}


def _bias(ctx: Context) -> str | None:
    spec, f = ctx.spec, ctx.spec.fairness
    if f is None or not spec.cohorts:
        return None
    max_gap = {m.value: v for m, v in sorted(f.max_gap.items())}
    minimum = {m.value: v for m, v in sorted(f.min.items())}
    metrics = list(dict.fromkeys([*max_gap, *minimum])) or list(_COHORT_DEFAULT[spec.project.task.value])
    settings = {
        "COHORTS": _cohorts(spec),
        "PROTECTED": [c for c in f.protected if c in {x.name for x in spec.cohorts}],
        "METRICS": metrics,
        "MIN_COHORT_ROWS": f.min_cohort_rows,
        "LIMITS": {
            "max_gap": max_gap,
            "minimum": minimum,
            "parity": f.demographic_parity_difference,
            "odds": f.equalized_odds_difference,
            "min_rows": f.min_cohort_rows,
        },
    }
    data = _common(ctx, "bias", {"DATASET": f.dataset}, settings)
    data |= {"dataset_md": md(f.dataset), "min_rows_md": md(f.min_cohort_rows)}
    # a selection rate (share predicted positive) exists for binary classifiers only
    data["selection"] = spec.project.task.value == "binary_classification"
    data["multiclass"] = spec.project.task.value == "multiclass_classification"
    return render_template("notebooks/bias.nb.jinja", **data)


def _infrastructure(ctx: Context) -> str | None:
    spec, inf = ctx.spec, ctx.spec.infrastructure
    if inf is None or (inf.log is None and inf.latency is None):
        return None
    parts = {"latency": inf.latency, "batch": inf.batch, "memory": inf.memory, "log": inf.log}
    settings: dict[str, Any] = {
        key.upper(): section.model_dump(mode="json") if section is not None else None
        for key, section in parts.items()
    }
    settings["MEMORY_ROWS"] = inf.batch.rows if inf.batch else 1000
    dataset = _eval_dataset(spec)
    data = _common(ctx, "infrastructure", {"DATASET": dataset}, settings)
    data |= {key: section is not None for key, section in parts.items()}
    data |= {
        "dataset_md": md(dataset),
        "measured": any(s is not None for s in (inf.latency, inf.batch, inf.memory)),
    }
    return render_template("notebooks/infrastructure.nb.jinja", **data)


def _baseline(ctx: Context) -> str | None:
    spec, b = ctx.spec, ctx.spec.baseline
    if b is None:
        return None
    train = "train" if "train" in spec.data.datasets else b.dataset
    settings = {
        "METRIC": b.metric.value,
        "STRATEGIES": [s.value for s in b.strategies],
        "MIN_LIFT": b.min_lift,
        "PREVIOUS": b.previous.model_dump(mode="json") if b.previous else None,
    }
    data = _common(ctx, "baseline", {"DATASET": b.dataset, "TRAIN_DATASET": train}, settings)
    data |= {
        "dataset_md": md(b.dataset),
        "metric_md": md(b.metric.value),
        "previous": b.previous is not None,
        "previous_expr": trusted('PREVIOUS["artifact"]' if b.previous else "None"),
        "multiclass": spec.project.task.value == "multiclass_classification",
    }
    return render_template("notebooks/baseline.nb.jinja", **data)


#: notebook file -> (concern, builder); the concerns match mlprod/score/rubric.py's notebook map.
NOTEBOOKS = {
    "drift.ipynb": ("bias", _drift),
    "bias.ipynb": ("bias", _bias),
    "infrastructure.ipynb": ("infrastructure", _infrastructure),
    "baseline.ipynb": ("baseline", _baseline),
}


@unit("notebooks")
def render_notebooks(ctx: Context) -> list[Artifact]:
    """One notebook per monitoring concern whose spec sections exist."""
    folder = PurePosixPath(ctx.spec.outputs.notebooks)
    out = []
    for name, (concern, build) in NOTEBOOKS.items():
        text = build(ctx)
        if text is not None:
            out.append(Artifact(f"{folder / name}", notebook_json(text), Kind.NOTEBOOK, concern=concern))
    return out


__all__ = ["NOTEBOOKS", "cells_from_text", "notebook_json", "render_notebooks"]
