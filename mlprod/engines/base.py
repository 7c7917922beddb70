"""The engine protocol: aggregate primitives every data-only check is computed from.

A data check is split in two (issue 17, DESIGN.md "Engines"):
(a) **aggregates** computed where the data lives by an engine (`pandas`, `duckdb`,
    `spark`), through the `Table` methods below; and
(b) a **finish** in pure numpy/Python shared by every engine (mlprod/checks/*_agg.py),
    so backends cannot disagree on formulas.

Every engine implements the abstract methods of `Table` and `Engine`; the non-abstract
methods are conveniences built on them and need no override (an engine may override them
when it can do better, keeping the same results).

Conventions shared by every method
----------------------------------
- **Missing**: SQL NULL, and NaN in floating-point columns, are both "missing". No numeric
  aggregate sees a NaN; value counts return missing values under the key `None`.
- **Exactness**: every count is exact in every engine. Only `Scan.quantiles` may be
  approximate; `Engine.rank_error` states the bound (see `Scan`).
- **Kinds** (`Table.kinds`): "numeric" (integer, float or decimal, not boolean), "bool",
  "text" (strings, categoricals), "datetime", "other". Numeric columns are the ones drift
  treats as numeric; the rest are categorical.
- **Return types**: numpy float64 arrays for counts/quantiles/thresholds, plain dicts and
  Python scalars (int, float, str, bool, None) elsewhere, never engine objects. Keys of
  value counts are Python values as the data holds them: `int` for integer columns, `float`
  for float columns, `str` for text, `bool` for booleans, `None` for missing.
- **Filters**: never SQL text. A filter is `Filter(column, op, value)` with `op` one of
  `OPS` (the spec's cohort `where` ops) and a bound value (a scalar, or a list for
  `in`/`not_in`); a `Where` is a tuple of filters ANDed (empty = every row). Engines
  compile them to their own expressions with quoted identifiers and bound parameters
  (pandas: vectorised masks; duckdb: `"col" < ?` with parameters; spark: `F.col(c) < F.lit(v)`).
  A missing value never matches a filter, whatever the op (`!=` and `not_in` included):
  SQL three-valued logic with NULL/NaN treated as unknown, i.e. false. A `Not(filters)`
  item matches exactly the rows its filters' conjunction does not (missing included):
  SQL `NOT coalesce(<conjunction>, FALSE)`.
- **Group keys** (`Key`): `Col(column)` (one group per value, key = the value or None),
  `Bucket(column, edges)` (left-closed [edges[i], edges[i+1]): key = i, and -1 for values
  outside the edges or missing: a spec cohort's `bins`), `Match(where)` (key True/False: a
  spec cohort's `where`, False also for rows with a missing value in a filter column).
- **One pass**: `Table.scan` answers a whole `ScanRequest` (quantiles, threshold counts,
  value counts, stats for many columns) in as few passes over the data as the engine can,
  ideally one query. Drift issues one scan on the reference for edges, then one counting
  scan per data set covering every column, so an engine never runs one query per column.

Creating engines and tables from the spec: see `mlprod/engines/__init__.py` (`open_table`).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not_in")
KINDS = ("numeric", "bool", "text", "datetime", "other")
#: Engines compute exact quantiles (linear interpolation, as numpy) when the scanned rows are
#: at most this many (duckdb `quantile_cont`, spark `percentile`), approximate ones above it.
EXACT_ROWS = 1_000_000
#: Rows model-based checks draw through the engine when `data.sample_rows` is unset.
DEFAULT_SAMPLE_ROWS = 200


class EngineError(Exception):
    """An engine that cannot be created or a request it cannot answer (mapped to MlprodError by callers)."""


# --- structured filters and group keys ----------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """`column op value`: one structured filter (the spec's cohort `where` item)."""

    column: str
    op: str
    value: Any

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise EngineError(f"unknown filter op {self.op!r} (use one of {', '.join(OPS)})")
        if isinstance(self.value, list):  # hashable, so filters can key caches
            object.__setattr__(self, "value", tuple(self.value))

    @classmethod
    def of(cls, d: Mapping[str, Any]) -> Filter:
        """From a spec dict {column, op, value}."""
        return cls(str(d["column"]), str(d["op"]), d.get("value"))


@dataclass(frozen=True)
class Not:
    """Rows that do NOT match every filter of `where` (a missing value counts as not matching).

    The complement of a `where` cohort ("rest"); an item of a `Where` beside `Filter`s.
    """

    where: tuple[Filter | Not, ...]


Where = tuple[Filter | Not, ...]


def where_of(items: Sequence[Mapping[str, Any] | Filter] | None) -> Where:
    """A `Where` from spec dicts or filters (None or empty: every row)."""
    return tuple(f if isinstance(f, Filter) else Filter.of(f) for f in (items or ()))


@dataclass(frozen=True)
class Col:
    """Group by the values of a column; key = the value (None for missing)."""

    column: str


@dataclass(frozen=True)
class Bucket:
    """Group by left-closed intervals [edges[i], edges[i+1]); key = i, -1 outside or missing."""

    column: str
    edges: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "edges", tuple(float(e) for e in self.edges))


@dataclass(frozen=True)
class Match:
    """Group by whether a row matches every filter of `where`; key = True/False."""

    where: Where


Key = Col | Bucket | Match


# --- the one-pass scan ----------------------------------------------------------------------


@dataclass(frozen=True)
class ScanRequest:
    """Aggregates over many columns, answered in one pass where the engine can.

    - `quantiles`: {numeric column: probabilities in [0, 1]} -> quantiles of the non-missing
      values: exact with linear interpolation (numpy's default) when the scanned rows are at
      most `EXACT_ROWS` (so engines agree exactly on data of that size); above it they may
      be approximate, within `Engine.rank_error` of the exact rank (`Scan.rank_error` says
      which applied). All-missing -> NaN.
    - `thresholds`: {numeric column: sorted ascending floats t_0 < ... < t_{k-1}} -> counts
      of non-missing values in (-inf, t_0], (t_0, t_1], ..., (t_{k-1}, inf), then the
      missing count: an array of k + 2 exact counts. (A left-closed boundary `x < v` is
      passed as `np.nextafter(v, -inf)`.)
    - `values`: columns -> exact {value: count} including `None: missing` when there is any.
    - `few`: {column: k} -> exact {value: count} (non-missing values only) when the column
      has at most k distinct non-missing values, else None; engines may decide "more than
      k" from an approximate distinct count only when it is certainly above k.
    - `stats`: columns -> `ColumnStats`.
    - `distinct`: columns whose `ColumnStats.distinct` must be computed (exact; costly).
    - `skew`: False when the caller does not need `ColumnStats.skew` (engines may then leave
      it None and skip the costly moment; drift needs only mean, std, min and max).
    - `where`: rows the whole scan covers.
    """

    quantiles: Mapping[str, Sequence[float]] = field(default_factory=dict)
    thresholds: Mapping[str, Sequence[float]] = field(default_factory=dict)
    values: Sequence[str] = ()
    few: Mapping[str, int] = field(default_factory=dict)
    stats: Sequence[str] = ()
    distinct: Sequence[str] = ()
    where: Where = ()
    skew: bool = True


@dataclass(frozen=True)
class ColumnStats:
    """Per-column summary. `min`/`max`/`mean`/`std`/`skew` are None for non-numeric or all-missing.

    `n` rows (in `where`), `missing` (NULL or NaN), `std` population (ddof 0, as np.std),
    `skew` moment skewness g1 (scipy.stats.skew bias=True; 0.0 for a constant column),
    `distinct` exact count of distinct non-missing values when requested, else None.
    """

    n: int
    missing: int
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    skew: float | None = None
    distinct: int | None = None


@dataclass
class Scan:
    """The answer to a `ScanRequest`; each dict holds exactly the requested columns.

    `rank_error` is the rank-error bound that applied to this scan's quantiles (0.0 when
    they are exact; an engine may be exact on small data and approximate on large).
    """

    rows: int
    rank_error: float = 0.0
    quantiles: dict[str, np.ndarray] = field(default_factory=dict)
    counts: dict[str, np.ndarray] = field(default_factory=dict)
    values: dict[str, dict[Any, int]] = field(default_factory=dict)
    few: dict[str, dict[Any, int] | None] = field(default_factory=dict)
    stats: dict[str, ColumnStats] = field(default_factory=dict)


# --- the deterministic sample ---------------------------------------------------------------


def sample_key(seed: int, ident: Any) -> str:
    """The sort key of one row in a seeded sample: md5 hex of f"{seed}:{ident}".

    `ident` is the id column's value as text: integers, and integral floats (an integer
    column with missing values read as float), as plain digits ("42", never "42.0"),
    strings as they are, a missing id as "None"; with no id column, the 0-based row number
    in the table's order (files of a glob in sorted order, rows in file order). Every
    engine computes the same key (md5 exists in SQL and Spark), so every engine draws the
    same rows: the `n` with the smallest keys, in key order (ids should be unique; rows
    with equal keys are ordered by the engine).
    """
    return hashlib.md5(f"{seed}:{ident}".encode(), usedforsecurity=False).hexdigest()


# --- the protocol ----------------------------------------------------------------------------


class Table(ABC):
    """One data set as an engine sees it. Obtained from `Engine.table`/`open_table`."""

    engine: Engine
    name: str  # the data set's name in the spec (or a path), for messages

    @abstractmethod
    def kinds(self) -> dict[str, str]:
        """{column: kind} in table order; kinds as in the module docstring."""

    @abstractmethod
    def scan(self, request: ScanRequest) -> Scan:
        """Answer every part of `request` (see `ScanRequest`), exact except quantiles."""

    @abstractmethod
    def group_counts(
        self, keys: Sequence[Key], where: Where = (), *, below: int | None = None
    ) -> dict[tuple[Any, ...], int]:
        """Exact row counts per combination of key values: {(k1, k2, ...): rows}.

        Only combinations present in the data appear (order unspecified; callers sort).
        With `below`, only combinations with fewer than `below` rows are returned (SQL
        `HAVING count(*) < below`). Keys as in the module docstring. No keys: {(): rows}.
        """

    @abstractmethod
    def candidates(self, column: str, pattern: str, where: Where = ()) -> dict[str, int]:
        """Distinct values of `column` as text that contain a match of `pattern`, with their row counts.

        `pattern` is a prefilter in the common subset of RE2, Java and Python regex syntax
        (character classes, repetition, alternation; no lookaround, no backreferences),
        searched anywhere in the value. Missing values never match. The exact PII tests
        (lookarounds, Luhn, IBAN mod-97, phone digit counts) run in Python on the result.
        """

    @abstractmethod
    def sample(
        self, n: int, seed: int, *, id_column: str | None = None, columns: Sequence[str] | None = None
    ) -> Any:
        """A pandas DataFrame of the `n` rows with the smallest `sample_key(seed, id)`, in that key order.

        Every engine returns the same rows in the same order (`sample_key`); fewer rows when
        the table has fewer. The only primitive that moves rows into Python.
        """

    # --- conveniences (override only to be faster, with the same results) ---------------

    def columns(self) -> list[str]:
        """Column names in table order."""
        return list(self.kinds())

    def row_count(self, where: Where = ()) -> int:
        """Rows matching `where` (all rows by default)."""
        return self.scan(ScanRequest(where=where)).rows

    def quantiles(
        self, columns: Sequence[str], probs: Sequence[float], where: Where = ()
    ) -> dict[str, np.ndarray]:
        """Reference quantile edges {column: array over probs}; within `engine.rank_error`."""
        return self.scan(ScanRequest(quantiles={c: list(probs) for c in columns}, where=where)).quantiles

    def binned_counts(
        self, thresholds: Mapping[str, Sequence[float]], where: Where = ()
    ) -> dict[str, np.ndarray]:
        """Exact counts against given thresholds (right-closed bins, then missing); see `ScanRequest`."""
        return self.scan(ScanRequest(thresholds=thresholds, where=where)).counts

    def value_counts(self, columns: Sequence[str], where: Where = ()) -> dict[str, dict[Any, int]]:
        """Exact {column: {value: count}}, missing under None."""
        return self.scan(ScanRequest(values=list(columns), where=where)).values

    def column_stats(
        self, columns: Sequence[str], where: Where = (), *, distinct: bool = False
    ) -> dict[str, ColumnStats]:
        """min/max/null/(distinct) counts per column; see `ColumnStats`."""
        cols = list(columns)
        return self.scan(ScanRequest(stats=cols, distinct=cols if distinct else (), where=where)).stats

    def score_histograms(
        self, score: str, edges: Sequence[float], keys: Sequence[Key] = (), where: Where = ()
    ) -> dict[tuple[Any, ...], np.ndarray]:
        """{(group keys...): counts of `score` in [edges[i], edges[i+1])} per group (keys may hold the label).

        Built on `group_counts` with a `Bucket` key; values outside the edges or missing are
        dropped (pass edges covering the score's range, e.g. [0, ..., nextafter(1, inf)]).
        """
        nb = len(edges) - 1
        raw = self.group_counts([*keys, Bucket(score, tuple(edges))], where)
        out: dict[tuple[Any, ...], np.ndarray] = {}
        for key, n in raw.items():
            *group, i = key
            if i < 0:
                continue
            out.setdefault(tuple(group), np.zeros(nb))[int(i)] += n
        return out


class Engine(ABC):
    """A backend that opens tables. Created by `mlprod.engines.create(name, options)`."""

    name: str  # "pandas" | "duckdb" | "spark"
    #: Bound on the rank error of `Scan.quantiles`, as a fraction of the non-missing rows: a
    #: returned q-quantile has a rank within rank_error * n of q * n. 0.0 means exact
    #: (linear interpolation, as numpy).
    rank_error: float = 0.0

    @abstractmethod
    def from_path(self, path: str, *, name: str | None = None) -> Table:
        """A table over a file or a glob of files (.parquet, .csv, .jsonl/.json), read where it lies.

        A glob's files are read in sorted order. Paths are absolute (the caller resolves
        spec paths against the spec's folder). Raises EngineError for no matching file.
        """

    @abstractmethod
    def from_table(self, table: str, *, name: str | None = None) -> Table:
        """A table the engine knows by name (duckdb: a table/view of its database; spark: the catalog).

        pandas raises EngineError (a spec error: `table` needs duckdb or spark).
        """

    def from_frame(self, df: Any, *, name: str = "data") -> Table:
        """A table over an in-memory pandas DataFrame (tests, notebooks, the pandas path)."""
        raise EngineError(f"the {self.name} engine does not read in-memory DataFrames")

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the engine's resources (a Spark session, a DuckDB connection)."""
