"""Cohorts: spec cohort dicts turned into integer group codes with vectorised masks.

A cohort is `{name, by, bins, where}` (DESIGN.md, Semantics/Cohorts):
- `by`: one group per value of the column (labels are `str(value)`, sorted by value);
- `by` + `bins`: left-closed intervals `[a, b)`; values outside the edges (and missing
  values) belong to no group and are counted in `unbinned`;
- `where`: structured filters, ANDed, giving two groups: the cohort (label = its name) and
  its complement (label "rest").
Filters are evaluated with vectorised comparisons; nothing reaches `eval` or
`DataFrame.query`. A missing value never matches a filter (so it lands in "rest").
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlprod.engines import Bucket, Col, Filter, Match, Not, Table, Where, where_of
from mlprod.errors import UsageError

OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not_in")


class UnknownColumnError(UsageError, ValueError):
    """A cohort names a column the data does not have."""


class CohortError(UsageError, ValueError):
    """A cohort that cannot be applied to the data (bad op, bins on text, type mismatch)."""


@dataclass(frozen=True)
class Groups:
    """The groups of one cohort over one DataFrame."""

    name: str
    labels: list[str]
    codes: np.ndarray  # int64 per row: index into `labels`, -1 = in no group
    unbinned: int = 0  # rows outside the bins (or missing) of a binned `by` cohort
    kind: str = "by"  # "by", "bins" or "where"
    column: str | None = None  # the `by` column
    sizes: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        counts = np.bincount(self.codes[self.codes >= 0], minlength=len(self.labels))
        object.__setattr__(self, "sizes", {lab: int(c) for lab, c in zip(self.labels, counts, strict=True)})

    @property
    def n_groups(self) -> int:
        return len(self.labels)

    def mask(self, label: str) -> np.ndarray:
        """Boolean row mask of one group."""
        try:
            i = self.labels.index(label)
        except ValueError:
            raise KeyError(
                f"cohort {self.name} has no group {label!r} (groups: {', '.join(self.labels)})"
            ) from None
        return self.codes == i

    def describe(self, label: str) -> str:
        """Human name of a group: `sex=female`, `young_renters`, `not young_renters`."""
        if self.kind == "where":
            return self.name if label == self.name else f"not {self.name}"
        return f"{self.name}={label}"


def _require_column(df: pd.DataFrame, column: str, cohort: str) -> pd.Series:
    if column in df.columns:
        return df[column]
    available = [str(c) for c in df.columns]
    close = difflib.get_close_matches(column, available, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    shown = ", ".join(available[:30]) + (" ..." if len(available) > 30 else "")
    raise UnknownColumnError(f"cohort {cohort}: unknown column {column!r}{hint} Available columns: {shown}")


def format_edge(x: float) -> str:
    """An interval edge as written in a label: 18 rather than 18.0."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _by_groups(df: pd.DataFrame, name: str, column: str, bins: Sequence[float] | None) -> Groups:
    s = _require_column(df, column, name)
    if bins is None:
        codes, uniques = pd.factorize(s, sort=True)  # missing values get -1
        labels = [str(u) for u in uniques]
        return Groups(name, labels, codes.astype(np.int64), 0, "by", column)
    edges = np.asarray(sorted(float(b) for b in bins))
    if len(edges) < 2 or np.unique(edges).size != edges.size:
        raise CohortError(
            f"cohort {name}: bins need at least two distinct increasing edges, got {list(bins)}"
        )
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        raise CohortError(f"cohort {name}: bins need a numeric column, but {column} has dtype {s.dtype}")
    x = s.to_numpy(dtype=float, na_value=np.nan)
    # side="right" - 1 puts a value equal to an edge into the bin starting there: [a, b)
    codes = np.searchsorted(edges, x, side="right") - 1
    outside = (codes < 0) | (codes >= len(edges) - 1) | np.isnan(x)
    codes[outside] = -1
    labels = [f"[{format_edge(a)}, {format_edge(b)})" for a, b in itertools.pairwise(edges)]
    return Groups(name, labels, codes.astype(np.int64), int(outside.sum()), "bins", column)


def _kind(s: pd.Series) -> str | None:
    """The kind of values a column holds: "number", "text", or None (mixed, bool, dates)."""
    if pd.api.types.is_bool_dtype(s):
        return None
    if pd.api.types.is_numeric_dtype(s):
        return "number"
    if pd.api.types.infer_dtype(s, skipna=True) == "string":  # one C pass, no per-row Python
        return "text"
    return None


def _check_types(s: pd.Series, values: Sequence[Any], op: str, cohort: str) -> None:
    """An equality filter between text and numbers matches nothing: refuse it instead of an empty cohort."""
    kind = _kind(s)
    for v in values:
        number = isinstance(v, int | float) and not isinstance(v, bool)
        if (kind == "number" and isinstance(v, str)) or (kind == "text" and number):
            have = "numbers" if kind == "number" else "text"
            fix = f"write {v!r} as a number" if kind == "number" else f'quote it ("{v}")'
            raise CohortError(
                f"cohort {cohort}: column {s.name} holds {have}, so {op} {v!r} matches no row: {fix}"
            )


def _filter_mask(s: pd.Series, op: str, value: Any, cohort: str) -> np.ndarray:
    column = s.name
    notna = s.notna().to_numpy()
    if op in ("==", "!=", "in", "not_in"):
        _check_types(s, list(value) if isinstance(value, list | tuple) else [value], op, cohort)
    try:
        if op in ("in", "not_in"):
            values = list(value) if isinstance(value, list | tuple) else [value]
            hit = s.isin(values).to_numpy()
            return (hit if op == "in" else ~hit) & notna
        if isinstance(value, list | tuple):
            raise CohortError(f"cohort {cohort}: op {op!r} on {column} needs a single value, got a list")
        if op == "==":
            m = s == value
        elif op == "!=":
            m = s != value
        elif op == "<":
            m = s < value
        elif op == "<=":
            m = s <= value
        elif op == ">":
            m = s > value
        elif op == ">=":
            m = s >= value
        else:
            raise CohortError(f"cohort {cohort}: unknown op {op!r} (use one of {', '.join(OPS)})")
    except TypeError as exc:
        raise CohortError(
            f"cohort {cohort}: cannot compare column {column} ({s.dtype}) {op} {value!r}: {exc}"
        ) from None
    return m.fillna(False).to_numpy(dtype=bool) & notna


def _where_groups(df: pd.DataFrame, name: str, where: Sequence[Mapping[str, Any]]) -> Groups:
    mask = np.ones(len(df), dtype=bool)
    for f in where:
        s = _require_column(df, f["column"], name)
        mask &= _filter_mask(s, f["op"], f.get("value"), name)
    codes = np.where(mask, 0, 1).astype(np.int64)
    return Groups(name, [name, "rest"], codes, 0, "where", None)


def cohort_groups(df: pd.DataFrame, cohort: Mapping[str, Any]) -> Groups:
    """Groups of `df` for one cohort spec dict `{name, by, bins, where}`."""
    name = str(cohort.get("name", "cohort"))
    if cohort.get("by"):
        return _by_groups(df, name, cohort["by"], cohort.get("bins"))
    if cohort.get("where"):
        return _where_groups(df, name, cohort["where"])
    raise CohortError(f"cohort {name}: needs `by` or `where`")


# --- cohorts over engine tables (mlprod.engines) --------------------------------------------


@dataclass(frozen=True)
class TableGroups:
    """The groups of one cohort over an engine table: sizes from one grouped count, a filter per group."""

    name: str
    labels: list[str]
    sizes: dict[str, int]
    filters: dict[str, Where]  # the rows of each group, as structured filters
    unbinned: int = 0
    kind: str = "by"
    column: str | None = None

    def describe(self, label: str) -> str:
        """Human name of a group, as `Groups.describe`."""
        if self.kind == "where":
            return self.name if label == self.name else f"not {self.name}"
        return f"{self.name}={label}"


def _table_column(kinds: Mapping[str, str], column: str, cohort: str) -> str:
    if column in kinds:
        return kinds[column]
    available = list(kinds)
    close = difflib.get_close_matches(column, available, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    shown = ", ".join(available[:30]) + (" ..." if len(available) > 30 else "")
    raise UnknownColumnError(f"cohort {cohort}: unknown column {column!r}{hint} Available columns: {shown}")


def _check_filter_types(kind: str, f: Mapping[str, Any], cohort: str) -> None:
    """As `_check_types`, from the column's engine kind."""
    op, value = f["op"], f.get("value")
    if op not in OPS:
        raise CohortError(f"cohort {cohort}: unknown op {op!r} (use one of {', '.join(OPS)})")
    if op not in ("in", "not_in") and isinstance(value, list | tuple):
        raise CohortError(f"cohort {cohort}: op {op!r} on {f['column']} needs a single value, got a list")
    if op not in ("==", "!=", "in", "not_in"):
        return
    for v in value if isinstance(value, list | tuple) else [value]:
        number = isinstance(v, int | float) and not isinstance(v, bool)
        if (kind == "numeric" and isinstance(v, str)) or (kind == "text" and number):
            have = "numbers" if kind == "numeric" else "text"
            fix = f"write {v!r} as a number" if kind == "numeric" else f'quote it ("{v}")'
            raise CohortError(
                f"cohort {cohort}: column {f['column']} holds {have}, so {op} {v!r} matches no row: {fix}"
            )


def table_groups(table: Table, cohort: Mapping[str, Any]) -> TableGroups:
    """Groups of an engine table for one cohort spec dict `{name, by, bins, where}` (as `cohort_groups`)."""
    name = str(cohort.get("name", "cohort"))
    kinds = table.kinds()
    if cohort.get("by"):
        column = str(cohort["by"])
        kind = _table_column(kinds, column, name)
        bins = cohort.get("bins")
        if bins is None:
            counts = table.group_counts([Col(column)])
            values = sorted(k[0] for k in counts if k[0] is not None)
            labels = [str(v) for v in values]
            return TableGroups(
                name,
                labels,
                {str(v): counts[(v,)] for v in values},
                {str(v): (Filter(column, "==", v),) for v in values},
                0,
                "by",
                column,
            )
        edges = sorted(float(b) for b in bins)
        if len(edges) < 2 or len(set(edges)) != len(edges):
            raise CohortError(
                f"cohort {name}: bins need at least two distinct increasing edges, got {list(bins)}"
            )
        if kind != "numeric":
            raise CohortError(f"cohort {name}: bins need a numeric column, but {column} holds {kind}")
        counts = table.group_counts([Bucket(column, tuple(edges))])
        pairs = list(itertools.pairwise(edges))
        labels = [f"[{format_edge(a)}, {format_edge(b)})" for a, b in pairs]
        filters: dict[str, Where] = {
            lab: (Filter(column, ">=", a), Filter(column, "<", b))
            for lab, (a, b) in zip(labels, pairs, strict=True)
        }
        sizes = {lab: counts.get((i,), 0) for i, lab in enumerate(labels)}
        return TableGroups(name, labels, sizes, filters, counts.get((-1,), 0), "bins", column)
    if cohort.get("where"):
        for f in cohort["where"]:
            _check_filter_types(_table_column(kinds, str(f["column"]), name), f, name)
        where = where_of(cohort["where"])
        counts = table.group_counts([Match(where)])
        sizes = {name: counts.get((True,), 0), "rest": counts.get((False,), 0)}
        return TableGroups(name, [name, "rest"], sizes, {name: where, "rest": (Not(where),)}, 0, "where")
    raise CohortError(f"cohort {name}: needs `by` or `where`")
