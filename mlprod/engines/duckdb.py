"""The DuckDB engine: aggregates computed by DuckDB over Parquet/CSV/JSON files where they lie.

Files (a file or a sorted glob) are queried in place through `read_parquet`, `read_csv`
or `read_json`; nothing is loaded into pandas except a `sample`. A `ScanRequest` is one
SQL query: per column `histogram(x, thresholds)` (exact counts by binary search),
`histogram(x)` (exact value counts), `approx_quantile` (t-digest) or `quantile_cont`
(exact, when the scanned rows are at most `exact_rows`), and plain aggregates for
stats. Identifiers are quoted; filter values are bound parameters; the only literals
in the SQL text are floats mlprod computed (probabilities, thresholds, bucket edges),
written with `repr` so they round-trip exactly.
"""

from __future__ import annotations

import glob
import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .base import (
    EXACT_ROWS,
    Bucket,
    Col,
    ColumnStats,
    Engine,
    EngineError,
    Key,
    Match,
    Not,
    Scan,
    ScanRequest,
    Table,
    Where,
)

#: Rank error of DuckDB's approx_quantile (t-digest) as measured on normal, log-normal,
#: heavy-tailed and zero-inflated columns of 1M-20M rows, with a 5x margin (docs/engines.md).
APPROX_RANK_ERROR = 0.005
_FLOATS = ("FLOAT", "DOUBLE", "REAL")
_NUMERIC = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "DECIMAL",
    *_FLOATS,
)
_DATETIME = ("DATE", "TIME", "TIMESTAMP")


def qi(name: str) -> str:
    """A quoted identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def lit(x: float) -> str:
    """A float computed by mlprod as an exact DOUBLE literal."""
    x = float(x)
    if math.isnan(x):
        return "'nan'::DOUBLE"
    if math.isinf(x):
        return "'inf'::DOUBLE" if x > 0 else "'-inf'::DOUBLE"
    return f"{x!r}::DOUBLE"


def floats_list(xs: Sequence[float]) -> str:
    return "[" + ", ".join(lit(x) for x in xs) + "]::DOUBLE[]"


def _sq(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def kind_of(sql_type: str) -> str:
    t = sql_type.upper()
    if t == "BOOLEAN":
        return "bool"
    if t.startswith(_NUMERIC):
        return "numeric"
    if t.startswith(_DATETIME):
        return "datetime"
    if t in ("VARCHAR", "TEXT", "STRING") or t.startswith("ENUM"):
        return "text"
    return "other"


class DuckDBTable(Table):
    """A table over a DuckDB relation (a file reader, a catalog table or a registered frame)."""

    def __init__(self, engine: DuckDBEngine, source: str, name: str, *, numbered: str | None = None) -> None:
        self.engine = engine
        self.source = source  # a FROM item
        self.name = name
        self.numbered = numbered  # a FROM item with __mlprod_row (row number in file order)
        desc = engine.con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        self.types = {str(r[0]): str(r[1]) for r in desc}
        self._counts: dict[Where, int] = {}

    # --- expressions ---------------------------------------------------------------------

    def _type(self, c: str) -> str:
        if c not in self.types:
            raise EngineError(f"{self.name} has no column {c!r}")
        return self.types[c]

    def _is_float(self, c: str) -> bool:
        return self._type(c).upper() in _FLOATS

    def valid(self, c: str) -> str:
        """SQL: the value of column c is present (not NULL, not NaN)."""
        q = qi(c)
        return f"({q} IS NOT NULL AND NOT isnan({q}))" if self._is_float(c) else f"({q} IS NOT NULL)"

    def num(self, c: str) -> str:
        self._type(c)
        return f"CAST({qi(c)} AS DOUBLE)"

    def cond(self, where: Where, params: list[Any]) -> str:
        """SQL for every filter of `where` (TRUE when empty), appending bound values to `params`."""
        parts = []
        for f in where:
            if isinstance(f, Not):
                parts.append(f"(NOT coalesce({self.cond(f.where, params)}, FALSE))")
                continue
            q = qi(f.column)
            if f.op in ("in", "not_in"):
                values = list(f.value) if isinstance(f.value, tuple | list) else [f.value]
                if not values:
                    expr = "FALSE" if f.op == "in" else "TRUE"
                else:
                    expr = f"{q} {'IN' if f.op == 'in' else 'NOT IN'} ({', '.join('?' * len(values))})"
                    params.extend(values)
            else:
                expr = f"{q} {'=' if f.op == '==' else f.op} ?"
                params.append(f.value)
            parts.append(f"({self.valid(f.column)} AND {expr})")
        return " AND ".join(parts) if parts else "TRUE"

    def _run(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        try:
            return self.engine.con.execute(sql, params).fetchall()
        except Exception as exc:  # duckdb.Error subclasses: conversion, binder, IO
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EngineError(f"duckdb could not compute aggregates of {self.name}: {first}") from exc

    # --- protocol --------------------------------------------------------------------------

    def kinds(self) -> dict[str, str]:
        return {c: kind_of(t) for c, t in self.types.items()}

    def row_count(self, where: Where = ()) -> int:
        if where not in self._counts:
            params: list[Any] = []
            cond = self.cond(where, params)
            self._counts[where] = int(
                self._run(f"SELECT count(*) FROM {self.source} WHERE {cond}", params)[0][0]
            )
        return self._counts[where]

    def scan(self, request: ScanRequest) -> Scan:
        exact = True
        if request.quantiles:
            exact = self.row_count(request.where) <= self.engine.exact_rows
        items: list[tuple[str, str, str]] = []  # (part, column, sql)
        for c, probs in request.quantiles.items():
            fn = "quantile_cont" if exact else "approx_quantile"
            items.append(
                ("q", c, f"{fn}({self.num(c)}, {floats_list(probs)}) FILTER (WHERE {self.valid(c)})")
            )
        for c, t in request.thresholds.items():
            items.append(
                ("t", c, f"histogram({self.num(c)}, {floats_list(t)}) FILTER (WHERE {self.valid(c)})")
            )
            items.append(("tn", c, f"count(*) FILTER (WHERE {self.valid(c)})"))
        for c in request.values:
            items.append(("v", c, f"histogram({qi(c)}) FILTER (WHERE {self.valid(c)})"))
        for c in request.few:
            items.append(("f", c, f"approx_count_distinct({qi(c)}) FILTER (WHERE {self.valid(c)})"))
        for c in request.stats:
            v = self.valid(c)
            items.append(("sn", c, f"count(*) FILTER (WHERE {v})"))
            if self.kinds()[c] == "numeric":
                x = self.num(c)
                for agg in ("min", "max", "avg", "stddev_pop", "skewness"):
                    items.append((agg, c, f"{agg}({x}) FILTER (WHERE {v})"))
            if c in request.distinct:
                items.append(("d", c, f"count(DISTINCT {qi(c)}) FILTER (WHERE {v})"))
        params: list[Any] = []
        cond = self.cond(request.where, params)
        select = ", ".join(["count(*)", *(sql for _, _, sql in items)])
        row = self._run(f"SELECT {select} FROM {self.source} WHERE {cond}", params)[0]
        rows = int(row[0])
        got: dict[tuple[str, str], Any] = {(p, c): val for (p, c, _), val in zip(items, row[1:], strict=True)}
        out = Scan(rows=rows, rank_error=0.0 if exact else self.engine.rank_error)
        for c, probs in request.quantiles.items():
            q = got["q", c]
            out.quantiles[c] = np.asarray(q, dtype=float) if q is not None else np.full(len(probs), np.nan)
        for c, t in request.thresholds.items():
            hist = got["t", c] or {}
            counts = np.array([float(hist.get(float(x), 0)) for x in t], dtype=float)
            valid = float(got["tn", c])
            out.counts[c] = np.r_[counts, valid - counts.sum(), rows - valid]
        for c in request.values:
            vc: dict[Any, int] = {k: int(n) for k, n in (got["v", c] or {}).items()}
            missing = rows - sum(vc.values())
            if missing:
                vc[None] = missing
            out.values[c] = vc
        few = [c for c, k in request.few.items() if (got["f", c] or 0) <= 2 * k + 16]
        exact_few = self._few(few, request.where) if few else {}
        for c, k in request.few.items():
            vc = exact_few.get(c)
            out.few[c] = vc if vc is not None and len(vc) <= k else None
        for c in request.stats:
            n_valid = int(got["sn", c])
            st = ColumnStats(
                rows, rows - n_valid, distinct=int(got["d", c]) if c in request.distinct else None
            )
            if ("min", c) in got and n_valid:
                G1 = got["skewness", c]
                skew = _g1(G1, n_valid, got["stddev_pop", c], got["avg", c])
                st = ColumnStats(
                    rows,
                    rows - n_valid,
                    float(got["min", c]),
                    float(got["max", c]),
                    float(got["avg", c]),
                    float(got["stddev_pop", c]),
                    skew,
                    st.distinct,
                )
            out.stats[c] = st
        return out

    def _few(self, columns: list[str], where: Where) -> dict[str, dict[Any, int]]:
        params: list[Any] = []
        cond = self.cond(where, params)
        select = ", ".join(f"histogram({qi(c)}) FILTER (WHERE {self.valid(c)})" for c in columns)
        row = self._run(f"SELECT {select} FROM {self.source} WHERE {cond}", params)[0]
        return {c: {k: int(n) for k, n in (h or {}).items()} for c, h in zip(columns, row, strict=True)}

    def key_sql(self, key: Key, params: list[Any]) -> str:
        if isinstance(key, Col):
            if self._is_float(key.column):
                return f"CASE WHEN {self.valid(key.column)} THEN {qi(key.column)} END"
            return qi(key.column)
        if isinstance(key, Bucket):
            x, e = self.num(key.column), key.edges
            inner = " + ".join([f"CAST({x} >= {lit(b)} AS INTEGER)" for b in e[1:-1]]) or "0"
            return (
                f"CASE WHEN {self.valid(key.column)} AND {x} >= {lit(e[0])} AND {x} < {lit(e[-1])} "
                f"THEN {inner} ELSE -1 END"
            )
        if isinstance(key, Match):
            return f"coalesce({self.cond(key.where, params)}, FALSE)"
        raise EngineError(f"unknown group key {key!r}")

    def group_counts(
        self, keys: Sequence[Key], where: Where = (), *, below: int | None = None
    ) -> dict[tuple[Any, ...], int]:
        params: list[Any] = []
        exprs = [self.key_sql(k, params) for k in keys]
        cond = self.cond(where, params)
        select = ", ".join([*(f"{e} AS k{i}" for i, e in enumerate(exprs)), "count(*)"])
        group = f" GROUP BY {', '.join(f'k{i}' for i in range(len(exprs)))}" if exprs else ""
        having = ""
        if below is not None:
            having = f" HAVING count(*) < {int(below)}"
        rows = self._run(f"SELECT {select} FROM {self.source} WHERE {cond}{group}{having}", params)
        out = {}
        for r in rows:
            if int(r[-1]) or exprs:
                out[tuple(_py(v) for v in r[:-1])] = int(r[-1])
        return out

    def candidates(self, column: str, pattern: str, where: Where = ()) -> dict[str, int]:
        params: list[Any] = []
        cond = self.cond(where, params)
        text = f"CAST({qi(column)} AS VARCHAR)"
        params.append(pattern)
        sql = (
            f"SELECT {text} AS v, count(*) FROM {self.source} WHERE {cond} AND {self.valid(column)} "
            f"AND regexp_matches({text}, ?) GROUP BY v"
        )
        return {str(v): int(n) for v, n in self._run(sql, params)}

    def sample(
        self, n: int, seed: int, *, id_column: str | None = None, columns: Sequence[str] | None = None
    ) -> Any:
        cols = list(columns) if columns is not None else list(self.types)
        select = ", ".join(qi(c) for c in cols)
        if id_column:
            q = qi(id_column)
            if self._is_float(id_column):
                ident = (
                    f"CASE WHEN {q} IS NULL OR isnan({q}) THEN 'None' WHEN {q} = floor({q}) "
                    f"THEN CAST(CAST({q} AS HUGEINT) AS VARCHAR) ELSE CAST({q} AS VARCHAR) END"
                )
            else:
                ident = f"coalesce(CAST({q} AS VARCHAR), 'None')"
            source = self.source
        else:
            ident = "CAST(__mlprod_row AS VARCHAR)"
            source = (
                self.numbered or f"(SELECT *, row_number() OVER () - 1 AS __mlprod_row FROM {self.source})"
            )
        sql = (
            f"SELECT {select} FROM (SELECT *, md5(? || ':' || {ident}) AS __mlprod_key FROM {source}) "
            f"ORDER BY __mlprod_key LIMIT {int(n)}"
        )
        try:
            return self.engine.con.execute(sql, [str(seed)]).df()
        except Exception as exc:
            raise EngineError(f"duckdb could not sample {self.name}: {str(exc).splitlines()[0]}") from exc


def _g1(G1: float | None, n: int, std: float | None, mean: float | None) -> float:
    """DuckDB's skewness is the adjusted G1; scipy's bias=True g1 = G1 (n-2) / sqrt(n (n-1))."""
    if std is None or std <= 1e-14 * max(abs(mean or 0.0), 1.0) or n < 3 or G1 is None or math.isnan(G1):
        return 0.0
    return float(G1) * (n - 2) / math.sqrt(n * (n - 1))


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _reader(files: list[str]) -> tuple[str, str | None]:
    """(FROM item, FROM item with a file-order row number) for files of one format."""
    suffixes = {Path(f).suffix.lower() for f in files}
    listed = "[" + ", ".join(_sq(f) for f in files) + "]"
    if suffixes <= {".parquet", ".pq"}:
        numbered = (
            f"(SELECT * EXCLUDE (filename, file_row_number), row_number() OVER "
            f"(ORDER BY filename, file_row_number) - 1 AS __mlprod_row FROM "
            f"read_parquet({listed}, filename = true, file_row_number = true))"
        )
        return f"read_parquet({listed})", numbered
    if suffixes <= {".csv"}:
        return f"read_csv({listed}, header = true)", None
    if suffixes <= {".jsonl", ".ndjson", ".json"}:
        return f"read_json({listed}, format = 'newline_delimited')", None
    raise EngineError(
        f"cannot read {', '.join(sorted(suffixes))} files together (use .parquet, .csv or .jsonl)"
    )


class DuckDBEngine(Engine):
    """An in-process DuckDB connection (an in-memory database unless `database` names a file)."""

    name = "duckdb"
    rank_error = APPROX_RANK_ERROR

    def __init__(
        self, database: str | None = None, exact_rows: int = EXACT_ROWS, threads: int | None = None
    ) -> None:
        import duckdb

        self.con = duckdb.connect(database or ":memory:", read_only=bool(database))
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.exact_rows = int(exact_rows)
        self._n = itertools.count()

    def from_path(self, path: str, *, name: str | None = None) -> Table:
        files = sorted(glob.glob(path)) if glob.has_magic(path) else [path]
        files = [f for f in files if Path(f).is_file()]
        if not files:
            raise EngineError(f"no data file matches {path}")
        source, numbered = _reader(files)
        return DuckDBTable(self, source, name or Path(path).name, numbered=numbered)

    def from_table(self, table: str, *, name: str | None = None) -> Table:
        return DuckDBTable(self, ".".join(qi(p) for p in table.split(".")), name or table)

    def from_frame(self, df: Any, *, name: str = "data") -> Table:
        view = f"__mlprod_frame_{next(self._n)}"
        self.con.register(view, df)
        return DuckDBTable(self, qi(view), name)

    def close(self) -> None:
        self.con.close()
