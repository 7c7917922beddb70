"""`mlprod init --existing`: infer a first `mlprod.yaml` from a data file.

Every inferred choice carries a comment for the user to confirm. Every value is written
through the one YAML emitter (`yamltext.yaml_value`), which quotes whatever YAML 1.1 or
mlprod's loader would misread (`on`, `null`, `1e-05`, an emoji, a newline), so no column
or folder name can break the file; the result is validated before anything is written.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlprod.errors import RefusedError, SpecError, UsageError

from .yamltext import yaml_value

PII_NAME_RE = re.compile(
    r"(^|_)(e_?mail|phone|mobile|tel|telephone|ssn|social_security|passport|iban|card_number|credit_card"
    r"|first_name|last_name|full_name|surname|name|address|street|zip|postcode|birth|dob|ip_address)($|_)",
    re.IGNORECASE,
)
SENSITIVE_RE = re.compile(
    r"(^|_)(sex|gender|race|ethnic\w*|religion|age|age_in_years|nationality|foreign\w*)($|_)", re.IGNORECASE
)
AGE_RE = re.compile(r"(^|_)age($|_|s)", re.IGNORECASE)
ID_RE = re.compile(r"(^id$|_id$|^id_|uuid|identifier)", re.IGNORECASE)
MAX_CATEGORIES = 20  # a text column with at most this many values gets a `values` expectation
MAX_COHORT_VALUES = 8  # a low-cardinality column with at most this many values is a cohort candidate
MAX_CLASSES = 50  # a target with 3 to this many distinct labels or whole numbers is multiclass


@dataclass
class Inference:
    features: list[str] = field(default_factory=list)
    pii: dict[str, str] = field(default_factory=dict)  # column -> why
    sensitive: list[str] = field(default_factory=list)
    id_column: str | None = None
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)
    cohorts: list[dict[str, Any]] = field(default_factory=list)
    task: str = "binary_classification"
    positive_label: Any = None
    classes: list[Any] = field(default_factory=list)  # the target's distinct values (classifiers)
    notes: dict[str, str] = field(default_factory=dict)  # column -> comment


def _q(value: Any) -> str:
    """A YAML flow value that reads back as `value` (see `yamltext`)."""
    return yaml_value(value)


def _identifier(text: str, empty: str = "cohort") -> str:
    """A spec identifier made from `text`: [a-z][a-z0-9_]*, and not a Python keyword."""
    import keyword

    ident = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")
    if not ident or not ident[0].isalpha():  # `isalpha` is also true for non-ASCII letters
        ident = f"c_{ident}" if ident else empty
    if keyword.iskeyword(ident):  # a column or folder named `class`, `if`, ...
        ident += "_"
    return ident


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value YAML writes (an integer-valued float as an int)."""
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def infer_task(y: Any) -> tuple[str, Any, list[Any]]:
    """The task from a target's non-missing values: `(task, positive_label, classes)`.

    2 distinct values: binary (the larger is positive); 3 to 50 distinct values that are text,
    or whole numbers (also read as floats when a missing value made pandas use float): multiclass;
    other numbers: regression. More than 50 text labels stay multiclass (text has no other
    reading), with the count in the comment for the user to confirm.
    """
    import pandas as pd

    values = y.unique().tolist()
    n = len(values)
    if n < 2:
        raise UsageError(
            f"the target column {y.name!r} has a single value ({values[0]!r}): nothing to predict",
            hint="point --data at a file whose target varies",
        )
    classes = sorted((_plain(v) for v in values), key=lambda v: (str(type(v)), v))
    if n == 2:
        return "binary_classification", sorted(classes, key=str)[-1], classes
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if not numeric:
        return "multiclass_classification", None, classes
    whole = bool((y.astype(float) % 1 == 0).all())
    if whole and n <= MAX_CLASSES:
        return "multiclass_classification", None, classes
    return "regression", None, []


def infer(df: Any, target: str) -> Inference:
    """Look at the data: features, expectations, PII suspects and candidate cohorts."""
    import pandas as pd

    from mlprod.checks.privacy import scan_values

    if target not in df.columns:
        from mlprod.schema.rules import did_you_mean

        raise UsageError(
            f"target column {target!r} is not in the data{did_you_mean(target, set(map(str, df.columns)))}"
        )
    inf = Inference()
    y = df[target].dropna()
    if y.empty:
        raise UsageError(
            f"the target column {target!r} has no values",
            hint="point --data at a file with labelled rows",
        )
    inf.task, inf.positive_label, inf.classes = infer_task(y)
    if inf.task == "multiclass_classification":
        inf.notes[target] = (
            f"{len(inf.classes)} classes: "
            + ", ".join(map(str, inf.classes[:10]))
            + (", ..." if len(inf.classes) > 10 else "")
        )

    text_cols = [c for c in df.columns if c != target and not pd.api.types.is_numeric_dtype(df[c])]
    found = scan_values(df[text_cols], ["email", "phone", "iban", "credit_card"]) if text_cols else {}
    for col in df.columns:
        name = str(col)
        if col == target:
            continue
        s = df[col]
        if found.get(name):
            kinds = ", ".join(sorted(found[name]))
            inf.pii[name] = f"values look like {kinds}"
            continue
        if PII_NAME_RE.search(name):
            inf.pii[name] = "the column name suggests personal data"
            continue
        if inf.id_column is None and ID_RE.search(name) and s.is_unique:
            inf.id_column = name
            inf.notes[name] = "unique values and an id-like name: used as the id column, not a feature"
            continue
        inf.features.append(name)
        if SENSITIVE_RE.search(name):
            inf.sensitive.append(name)
        expect: dict[str, Any] = {}
        if pd.api.types.is_bool_dtype(s):
            expect["dtype"] = "bool"
        elif pd.api.types.is_integer_dtype(s):
            expect.update(dtype="int", min=int(s.min()), max=int(s.max()))
        elif pd.api.types.is_float_dtype(s):
            expect["dtype"] = "float"
            lo, hi = _finite(float(s.min())), _finite(float(s.max()))
            # The spec takes finite numbers only: an infinite end of the range stays open.
            expect.update({k: v for k, v in (("min", lo), ("max", hi)) if v is not None})
        else:
            values = s.dropna().astype(str).unique().tolist()
            if len(values) <= MAX_CATEGORIES:
                expect.update(dtype="category", values=sorted(values))
        if s.notna().all():
            expect["not_null"] = True
        inf.columns[name] = expect
        # candidate cohorts
        ages = s[s.abs() != math.inf].dropna() if pd.api.types.is_numeric_dtype(s) else s.iloc[:0]
        if AGE_RE.search(name) and not pd.api.types.is_bool_dtype(s) and not ages.empty:
            lo, hi = int(ages.min()), int(ages.max()) + 1
            edges = sorted({lo, *[e for e in (26, 36, 51) if lo < e < hi], hi})
            if len(edges) >= 3:
                inf.cohorts.append({"name": _identifier(f"{name}_band"), "by": name, "bins": edges})
        elif not pd.api.types.is_float_dtype(s) and 2 <= s.nunique() <= MAX_COHORT_VALUES:
            inf.cohorts.append({"name": _identifier(name), "by": name})
    seen: set[str] = set()
    for c in inf.cohorts:  # cohort names are identifiers and unique
        base, k = c["name"], 2
        while c["name"] in seen:
            c["name"] = f"{base}_{k}"
            k += 1
        seen.add(c["name"])
    return inf


def render_spec(inf: Inference, *, name: str, data_path: str, target: str, model: str | None) -> str:
    """The spec text, with a comment on every inferred choice."""
    lines = [
        "# mlprod.yaml inferred by `mlprod init --existing`. Confirm every commented choice,",
        "# then run `mlprod validate` and `mlprod generate`.",
        "version: 1",
        "",
        "project:",
        f"  name: {_q(name)}",
        f"  task: {inf.task}                 # inferred from the target's values: confirm",
        "  owners:",
        '    - {name: "Your team", role: data_science}   # who answers for this model',
        "",
        "data:",
        f"  target: {_q(target)}",
    ]
    if inf.positive_label is not None:
        lines.append(f"  positive_label: {_q(inf.positive_label)}   # the larger of the two values: confirm")
    if target in inf.notes:
        lines[-1] += f"   # {inf.notes[target]}"
    if inf.id_column:
        lines.append(f"  id_column: {_q(inf.id_column)}   # {inf.notes[inf.id_column]}")
    lines.append("  features:                      # every column except the target, the id and PII suspects")
    for f in inf.features:
        note = "  # sensitive: consider leaving it out" if f in inf.sensitive else ""
        lines.append(f"    - {_q(f)}{note}")
    lines += [
        "  datasets:",
        f"    train: {{path: {_q(data_path)}}}   # split off a test set and add it as `test`",
        "  columns:                       # observed ranges and categories: tighten or loosen",
    ]
    for col, exp in inf.columns.items():
        if exp:
            body = ", ".join(f"{k}: {_q(v)}" for k, v in exp.items())
            lines.append(f"    {_q(col)}: {{{body}}}")
    lines += [
        "",
        "model:",
        f"  load: {_q(model or 'your_package.model:load_model')}"
        + ("" if model else "   # replace with the callable that returns your fitted model"),
    ]
    if inf.cohorts:
        lines += [
            "",
            "cohorts:                         # candidate slices to watch: keep the meaningful ones",
        ]
        for c in inf.cohorts:
            if "bins" in c:
                cohort = f"{{name: {_q(c['name'])}, by: {_q(c['by'])}, bins: {_q(c['bins'])}}}"
                lines.append(f"  - {cohort}   # age-like column")
            else:
                lines.append(f"  - {{name: {_q(c['name'])}, by: {_q(c['by'])}}}   # few distinct values")
    lines += ["", "privacy:"]
    if inf.pii:
        lines.append("  pii:                           # kept out of the features")
        for col, why in inf.pii.items():
            lines.append(f"    - {_q(col)}   # {why}")
    else:
        lines.append("  pii: []                        # no column looked personal: confirm")
    if inf.sensitive:
        lines.append(f"  sensitive: {_q(inf.sensitive)}")
    lines += _baseline_lines(inf.task)
    return "\n".join(lines)


#: The baseline an inferred spec starts with: a metric and a dummy each task defines.
_BASELINE = {
    "binary_classification": ("roc_auc", "prior", "higher is better"),
    "multiclass_classification": (
        "accuracy",
        "prior",
        "higher is better; the prior dummy predicts the commonest class",
    ),
    "regression": ("rmse", "mean", "lower is better, in the target's units"),
}


def _baseline_lines(task: str) -> list[str]:
    metric, strategy, note = _BASELINE[task]
    return [
        "",
        "baseline:                        # the model must beat a dummy",
        f"  metric: {metric}                 # {note}",
        "  dataset: train                 # use a held-out test set once you add one",
        f"  strategies: [{strategy}]",
        "  min_lift: 0.0                  # in the metric's units",
        "",
    ]


def write_existing_spec(spec_path: Path, *, data: Path, target: str, model: str | None) -> str:
    """Infer, validate and write the spec; refuse to overwrite an existing one."""
    from mlprod.schema import parse_spec_text
    from mlprod.schema.types import CALLABLE_RE

    from mlprod.checks.data import load_table

    if spec_path.exists() or spec_path.is_symlink():
        raise RefusedError(
            f"{spec_path} already exists; nothing was written", hint="edit it, or remove it first"
        )
    if model is not None and not CALLABLE_RE.match(model):
        raise UsageError(f"--model {model!r} is not a 'module:callable' reference")
    root = spec_path.parent.absolute()
    try:
        rel = data.absolute().relative_to(root).as_posix()
    except ValueError:
        raise UsageError(
            f"{data} is outside {root}; mlprod paths are relative to the spec's folder"
        ) from None
    try:
        df = load_table(data)
    except FileNotFoundError:
        raise UsageError(f"no data file at {data}") from None
    except Exception as exc:
        raise UsageError(f"cannot read {data}: {exc}") from None
    inf = infer(df, target)
    if not inf.features:
        left_out = ", ".join(repr(c) for c in [*inf.pii, *([inf.id_column] if inf.id_column else [])])
        raise UsageError(
            f"{data} has no feature columns: every column is the target"
            + (f", the id or a PII suspect ({left_out})" if left_out else ""),
            hint="point --data at a file with the model's input columns",
        )
    name = _identifier(root.name, empty="project")
    text = render_spec(inf, name=name, data_path=rel, target=target, model=model)
    try:
        parse_spec_text(text, str(spec_path))
    except SpecError as exc:  # a bug in the inference: never write an invalid spec
        raise UsageError("the inferred spec does not validate:\n" + exc.render()) from None
    from . import writer

    # never over an existing spec (owned=None), never through a symlink, inside the folder
    writer.write_file(root, spec_path.name, text if text.endswith("\n") else text + "\n", owned=None)
    pii = ", ".join(inf.pii) or "none"
    cohorts = ", ".join(c["name"] for c in inf.cohorts) or "none"
    return (
        f"Wrote {spec_path}: {len(inf.features)} features, task {inf.task}, PII suspects: {pii}; "
        f"candidate cohorts: {cohorts}. Review the comments, then run `mlprod validate`."
    )
