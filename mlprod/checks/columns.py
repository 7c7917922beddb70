"""`data.columns` rules checked on every declared data set that has the column (issue 15).

Rules per column: `dtype`, `min`, `max`, `values`, `not_null`, `unique`. A failure names the
data set, the column, the bound, how many values break it and up to five examples, e.g.
"data set current, column age_in_years: 3 values below min 18 (e.g. 5, 12, 17)". Missing
values are only `not_null`'s business. A data set without any ruled column judges nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from .results import CheckResult

CONCERN = "pipeline"
EXAMPLES = 5


def _examples(values: pd.Series) -> str:
    counts = values.astype(str).value_counts(sort=True)
    shown = [f"{v!r} x{n}" if n > 1 else repr(v) for v, n in counts.head(EXAMPLES).items()]
    more = ", ..." if len(counts) > EXAMPLES else ""
    return f"e.g. {', '.join(shown)}{more}"


def _numeric_examples(values: pd.Series) -> str:
    shown = ", ".join(f"{v:g}" for v in sorted(pd.unique(values))[:EXAMPLES])
    return f"e.g. {shown}{', ...' if values.nunique() > EXAMPLES else ''}"


def _dtype_ok(s: pd.Series, dtype: str) -> bool:
    from .data import _dtype_ok as ok

    return ok(s, dtype)


def _rule_results(s: pd.Series, rule: Mapping[str, Any], where: str) -> list[tuple[str, bool, str, dict]]:
    """(check, passed, message, extra) for each rule of one column."""
    out: list[tuple[str, bool, str, dict]] = []
    present = s.dropna()
    dtype = rule.get("dtype")
    if dtype:
        ok = _dtype_ok(s, dtype)
        out.append(
            ("dtype", ok, f"{where}: dtype {s.dtype}, {'as' if ok else 'not the'} declared {dtype}", {})
        )
    for key in ("min", "max"):
        limit = rule.get(key)
        if limit is None:
            continue
        if present.empty:
            out.append((key, False, f"{where}: has no values, so {key} {limit:g} cannot be checked", {}))
            continue
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            out.append(
                (key, False, f"{where}: not numeric ({s.dtype}), so {key} {limit:g} cannot be checked", {})
            )
            continue
        bad = present[present < limit] if key == "min" else present[present > limit]
        word = "below" if key == "min" else "above"
        if bad.empty:
            msg = f"{where}: no value {word} {key} {limit:g} ({len(present)} values)"
        else:
            msg = f"{where}: {len(bad)} values {word} {key} {limit:g} ({_numeric_examples(bad)})"
        out.append((key, bad.empty, msg, {"value": float(len(bad)), "limit": float(limit)}))
    allowed = rule.get("values")
    if allowed is not None:
        allowed_list = list(allowed)
        bad = present[~present.isin(allowed_list) & ~present.astype(str).isin([str(a) for a in allowed_list])]
        shown = ", ".join(repr(a) for a in allowed_list[:10])
        if bad.empty:
            msg = f"{where}: every value in the allowed set [{shown}]"
        else:
            msg = f"{where}: {len(bad)} values outside the allowed set [{shown}] ({_examples(bad)})"
        details = {"unexpected": sorted(map(str, pd.unique(bad)))[:20]}
        out.append(("values", bad.empty, msg, {"value": float(len(bad)), "details": details}))
    if rule.get("not_null"):
        k = int(s.isna().sum())
        rows = ", ".join(str(i) for i in s.index[s.isna()][:EXAMPLES])
        msg = f"{where}: {k} missing values (rows {rows})" if k else f"{where}: no missing value"
        out.append(("not_null", k == 0, msg, {"value": float(k), "limit": 0.0}))
    if rule.get("unique"):
        dup = present[present.duplicated(keep=False)]
        if dup.empty:
            msg = f"{where}: all {len(present)} values unique"
        else:
            msg = f"{where}: {len(dup)} values not unique ({_examples(dup)})"
        out.append(("unique", dup.empty, msg, {"value": float(len(dup)), "limit": 0.0}))
    return out


def check_column_rules(
    df: pd.DataFrame,
    rules: Mapping[str, Mapping[str, Any]],
    dataset: str,
    *,
    missing: str = "skip",
    concern: str = CONCERN,
) -> list[CheckResult]:
    """One result per rule of each ruled column of `df`.

    `missing="skip"`: a ruled column the data set lacks is left out (rules apply where the
    column is); when no ruled column is present the only result is not judged.
    `missing="fail"`: a missing column fails.
    """
    from mlprod.engines import Table

    if isinstance(df, Table):  # an engine table: aggregates there, the same rules here
        from .data_tables import column_rules_table

        return column_rules_table(df, rules, dataset)
    out: list[CheckResult] = []
    for col in sorted(rules):
        subject = f"{dataset}.{col}"
        where = f"data set {dataset}, column {col}"
        if col not in df.columns:
            if missing == "fail":
                out.append(
                    CheckResult(concern, "column_present", False, f"{where}: missing", subject=subject)
                )
            continue
        for check, ok, msg, extra in _rule_results(df[col], rules[col], where):
            details = extra.pop("details", {}) | {"dataset": dataset, "column": col}
            out.append(CheckResult(concern, check, ok, msg, subject=subject, details=details, **extra))
    if not out:
        msg = (
            f"data set {dataset} has none of the ruled columns ({', '.join(sorted(rules))}): nothing to judge"
        )
        out.append(CheckResult(concern, "column_rules", True, msg, subject=dataset, judged=False))
    return out
