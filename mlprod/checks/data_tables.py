"""Column rules, k-anonymity and PII scans over engine tables (issue 17).

Each is aggregates from the engine (`mlprod.engines`) then a finish in Python shared by
every engine, so a table on duckdb or spark gets the verdicts and numbers pandas gets:
- column rules: stats (min/max/missing/distinct counts) and counts under structured filters;
  examples come from grouped counts of the offending rows (a bounded, sorted list);
- k-anonymity: one grouped count over the (generalised) quasi-identifiers;
- PII: distinct candidate values with their counts (an engine-side prefilter that every
  match of the requested patterns passes), then the exact tests (lookarounds, Luhn,
  IBAN mod-97, phone digit counts) in Python on those values (`privacy.scan_counts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from mlprod.engines import Bucket, Col, ColumnStats, Filter, Match, Table

from .privacy import COLUMN_DETECTORS, _compile, scan_counts
from .privacy import CONCERN as PRIVACY
from .results import CheckResult

EXAMPLES = 5
#: Patterns every match of which contains a digit or an @: the engine only hands those over.
_DIGIT_OR_AT = {"email", "phone", "iban", "credit_card", "ssn", "ipv4"}


def text_columns(table: Table) -> list[str]:
    """Columns PII scans look at: not numeric, not boolean (text and dates)."""
    return [c for c, k in table.kinds().items() if k not in ("numeric", "bool")]


def _prefilter(patterns: list[str], custom: Mapping[str, str] | None) -> str:
    if not custom and set(patterns) <= {"email"}:
        return "@"
    if not custom and set(patterns) <= _DIGIT_OR_AT:
        return "[0-9@]"
    return "."  # names, dates of birth, IPv6, custom patterns: every non-empty value


def scan_table(
    table: Table, patterns: Iterable[str], custom: dict[str, str] | None = None
) -> dict[str, dict[str, int]]:
    """As `privacy.scan_values`, over an engine table: {column: {pattern: rows}}, non-zero only."""
    patterns = list(patterns)
    compiled = _compile(patterns, custom)
    detectors = {n: COLUMN_DETECTORS[n] for n in patterns if n in COLUMN_DETECTORS}
    rx = _prefilter(patterns, custom)
    found: dict[str, dict[str, int]] = {}
    cols = text_columns(table)
    stats = table.column_stats(cols) if cols else {}
    for col in cols:
        total = stats[col].n - stats[col].missing
        cand = table.candidates(col, rx)
        if total == 0 or not cand:
            continue
        counts = pd.Series(cand, dtype="int64").sort_values(ascending=False, kind="stable")
        column_hits = {}
        if detectors:  # whole-column detectors see every value (the prefilter is "." then)
            every = pd.Series(np.repeat(counts.index.to_numpy(dtype=object), counts.to_numpy()))
            column_hits = {n: detect(every) for n, detect in detectors.items()}
        hits = scan_counts(counts, compiled, column_hits, total)
        if hits:
            found[col] = hits
    return found


def k_anonymity_table(
    table: Table,
    quasi_identifiers: Iterable[str],
    min_k: int,
    generalize: Mapping[str, list[float]] | None = None,
    *,
    subject: str = "data",
) -> CheckResult:
    """As `privacy.check_k_anonymity`, from one grouped count of the engine."""
    qi = list(quasi_identifiers)
    kinds = table.kinds()
    missing = [c for c in qi if c not in kinds]
    if missing:
        msg = f"{subject} lacks quasi-identifier columns {', '.join(missing)} (columns: {', '.join(kinds)})"
        return CheckResult(PRIVACY, "k_anonymity", False, msg, None, float(min_k), subject)
    rows = table.row_count()
    if not qi or rows == 0:
        why = "no quasi-identifiers" if not qi else "no rows"
        msg = f"k-anonymity of {subject} not judged: {why}"
        return CheckResult(PRIVACY, "k_anonymity", True, msg, None, float(min_k), subject, judged=False)
    generalize = dict(generalize or {})
    keys: list[Any] = []
    for c in qi:
        if c in generalize:
            keys += [Bucket(c, tuple(sorted(generalize[c]))), Match((Filter(c, ">=", float("-inf")),))]
        else:
            keys.append(Col(c))
    sizes: dict[tuple[str, ...], int] = {}
    for key, n in table.group_counts(keys).items():
        label = tuple(_labels(qi, generalize, key))
        sizes[label] = sizes.get(label, 0) + n
    k = min(sizes.values())
    small = {g: n for g, n in sizes.items() if n < min_k}
    details: dict[str, Any] = {
        "groups": len(sizes),
        "small_groups": len(small),
        "rows_in_small_groups": int(sum(small.values())),
        "quasi_identifiers": qi,
    }
    if small:
        worst = sorted(small.items(), key=lambda kv: (kv[1], kv[0]))[:3]
        examples = ", ".join(
            "(" + ", ".join(f"{c}={v}" for c, v in zip(qi, g, strict=True)) + f": {n} rows)" for g, n in worst
        )
        details["examples"] = examples
        msg = (
            f"k-anonymity of {subject} over {', '.join(qi)} is {k} < {min_k}: {len(small)} of {len(sizes)} "
            f"groups ({details['rows_in_small_groups']} rows) are smaller, e.g. {examples}"
        )
        return CheckResult(PRIVACY, "k_anonymity", False, msg, float(k), float(min_k), subject, details)
    msg = f"k-anonymity of {subject} over {', '.join(qi)} is {k} >= {min_k} ({len(sizes)} groups)"
    return CheckResult(PRIVACY, "k_anonymity", True, msg, float(k), float(min_k), subject, details)


def _labels(qi: list[str], generalize: Mapping[str, list[float]], key: tuple[Any, ...]) -> list[str]:
    """Group labels as `generalize_column` writes them: "[a, b)", "unbinned", "missing", or the value."""
    out, i = [], 0
    for c in qi:
        if c in generalize:
            edges = sorted(float(e) for e in generalize[c])
            b, present = key[i], key[i + 1]
            i += 2
            if not present:
                out.append("missing")
            elif b < 0:
                out.append("unbinned")
            else:
                out.append(f"[{edges[b]:g}, {edges[b + 1]:g})")
        else:
            v = key[i]
            i += 1
            out.append("missing" if v is None else str(v))
    return out


def column_rules_table(
    table: Table, rules: Mapping[str, Mapping[str, Any]], dataset: str
) -> list[CheckResult]:
    """`data.columns` rules (min, max, values, not_null, unique; dtype by kind) over an engine table."""
    kinds = table.kinds()
    ruled = [c for c in sorted(rules) if c in kinds]
    stats = table.column_stats(ruled, distinct=any(rules[c].get("unique") for c in ruled)) if ruled else {}
    out: list[CheckResult] = []
    for col in ruled:
        out += _column_results(table, col, rules[col], stats[col], kinds[col], dataset)
    if not out:
        msg = (
            f"data set {dataset} has none of the ruled columns ({', '.join(sorted(rules))}): nothing to judge"
        )
        out.append(CheckResult("pipeline", "column_rules", True, msg, subject=dataset, judged=False))
    return out


def _column_results(
    table: Table, col: str, rule: Mapping[str, Any], st: ColumnStats, kind: str, dataset: str
) -> list[CheckResult]:
    """One result per rule of one column."""
    out: list[CheckResult] = []
    subject, where = f"{dataset}.{col}", f"data set {dataset}, column {col}"
    present = st.n - st.missing

    def res(check: str, ok: bool, msg: str, **kw: Any) -> None:
        details = kw.pop("details", {}) | {"dataset": dataset, "column": col}
        out.append(CheckResult("pipeline", check, ok, msg, subject=subject, details=details, **kw))

    dtype = rule.get("dtype")
    if dtype:
        ok = _kind_ok(kind, dtype)
        res("dtype", ok, f"{where}: {kind} column, {'as' if ok else 'not the'} declared {dtype}")
    for key, op in (("min", "<"), ("max", ">")):
        limit = rule.get(key)
        if limit is None:
            continue
        if present == 0:
            res(key, False, f"{where}: has no values, so {key} {limit:g} cannot be checked")
            continue
        if kind != "numeric":
            res(key, False, f"{where}: not numeric ({kind}), so {key} {limit:g} cannot be checked")
            continue
        bad = _bad_values(table, col, (Filter(col, op, float(limit)),))
        n_bad = sum(bad.values())
        word = "below" if key == "min" else "above"
        if not n_bad:
            msg = f"{where}: no value {word} {key} {limit:g} ({present} values)"
        else:
            more = ", ..." if len(bad) > EXAMPLES else ""
            shown = ", ".join(f"{v:g}" for v in sorted(bad)[:EXAMPLES]) + more
            msg = f"{where}: {n_bad} values {word} {key} {limit:g} (e.g. {shown})"
        res(key, n_bad == 0, msg, value=float(n_bad), limit=float(limit))
    allowed = rule.get("values")
    if allowed is not None:
        vc = table.value_counts([col])[col]
        texts = {str(a) for a in allowed}
        bad = {v: n for v, n in vc.items() if v is not None and v not in allowed and str(v) not in texts}
        shown = ", ".join(repr(a) for a in list(allowed)[:10])
        n_bad = sum(bad.values())
        if not n_bad:
            msg = f"{where}: every value in the allowed set [{shown}]"
        else:
            msg = f"{where}: {n_bad} values outside the allowed set [{shown}] ({_examples(bad)})"
        res("values", n_bad == 0, msg, value=float(n_bad), details={"unexpected": sorted(map(str, bad))[:20]})
    if rule.get("not_null"):
        k = st.missing
        msg = f"{where}: {k} missing values" if k else f"{where}: no missing value"
        res("not_null", k == 0, msg, value=float(k), limit=0.0)
    if rule.get("unique"):
        counts = {} if st.distinct == present else table.group_counts([Col(col)])
        dup = {key[0]: n for key, n in counts.items() if n > 1 and key[0] is not None}
        n_dup = sum(dup.values())
        msg = (
            f"{where}: all {present} values unique"
            if not n_dup
            else f"{where}: {n_dup} values not unique ({_examples(dup)})"
        )
        res("unique", n_dup == 0, msg, value=float(n_dup), limit=0.0)
    return out


def _bad_values(table: Table, col: str, where: tuple[Filter, ...]) -> dict[Any, int]:
    return {k[0]: n for k, n in table.group_counts([Col(col)], where).items()}


def _examples(counts: Mapping[Any, int]) -> str:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    shown = [f"{str(v)!r} x{n}" if n > 1 else repr(str(v)) for v, n in ordered[:EXAMPLES]]
    return f"e.g. {', '.join(shown)}{', ...' if len(ordered) > EXAMPLES else ''}"


def _kind_ok(kind: str, dtype: str) -> bool:
    """A declared dtype against an engine kind (int and float both need a numeric column)."""
    return {
        "int": kind == "numeric",
        "float": kind == "numeric",
        "bool": kind == "bool",
        "datetime": kind == "datetime",
        "str": kind == "text",
        "category": kind == "text",
    }.get(dtype, False)
