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

#: Rank error of DuckDB's approx_quantile (t-digest), used for sources without a file row
#: number (CSV, JSON, catalog tables): measured below 0.001 on normal, log-normal, heavy-tailed
#: and zero-inflated columns; stated with a 5x margin (docs/engines.md).
APPROX_RANK_ERROR = 0.005
DEFAULT_MEMORY_LIMIT = "600MB"
#: Failure probability of the sampled quantiles' rank-error bound (DKW inequality).
DKW_DELTA = 1e-6


def dkw_rank_error(m: int, delta: float = DKW_DELTA) -> float:
    """Rank error of quantiles of a random sample of m rows, exceeded with probability <= delta.

    Dvoretzky-Kiefer-Wolfowitz (Massart's constant): P(sup |F_m - F| > e) <= 2 exp(-2 m e^2).
    """
    return math.sqrt(math.log(2.0 / delta) / (2.0 * max(m, 1)))


_COUNT_IF_MAX = 24  # thresholds per column counted with count_if; more go through histogram()
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

    engine: DuckDBEngine

    def __init__(
        self,
        engine: DuckDBEngine,
        source: str,
        name: str,
        *,
        numbered: str | None = None,
        rowed: str | None = None,
    ) -> None:
        self.engine = engine
        self.source = source  # a FROM item
        self.name = name
        self.numbered = numbered  # a FROM item with __mlprod_row (row number in file order)
        self.rowed = rowed  # the source with a cheap per-file row number `file_row_number` (Parquet)
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

    def _clean(self, c: str, numeric: bool) -> str:
        """SQL of column c with NaN as NULL (so plain aggregates skip it), as DOUBLE when `numeric`."""
        q = qi(c)
        if self._is_float(c):
            return f"nullif(CAST({q} AS DOUBLE), 'nan'::DOUBLE)"
        return f"CAST({q} AS DOUBLE)" if numeric else q

    def scan(self, request: ScanRequest) -> Scan:
        """One query: a projection with NaN turned NULL, then plain aggregates (no per-aggregate FILTER)."""
        sampled = self._sampled(request) if (request.quantiles or request.few) else None
        proj: dict[str, str] = {}  # alias -> SQL

        def num(c: str) -> str:
            alias = f"n{len(proj)}" if f"num:{c}" not in _aliases else _aliases[f"num:{c}"]
            if f"num:{c}" not in _aliases:
                self._type(c)
                _aliases[f"num:{c}"] = alias
                proj[alias] = self._clean(c, True)
            return alias

        def raw(c: str) -> str:
            if f"raw:{c}" not in _aliases:
                self._type(c)
                _aliases[f"raw:{c}"] = alias = f"v{len(proj)}"
                proj[alias] = self._clean(c, False)
            return _aliases[f"raw:{c}"]

        _aliases: dict[str, str] = {}
        items: list[tuple[str, str, str]] = []  # (part, column, aggregate SQL)
        for c, t in request.thresholds.items():
            if len(t) <= _COUNT_IF_MAX:  # a few comparisons beat histogram's binary search
                for i, x in enumerate(t):
                    items.append((f"le{i}", c, f"count_if({num(c)} <= {lit(x)})"))
            else:
                items.append(("t", c, f"histogram({num(c)}, {floats_list(t)})"))
            items.append(("tn", c, f"count({num(c)})"))
        for c in request.values:
            items.append(("v", c, f"histogram({raw(c)})"))
        for c in request.stats:
            if self.kinds()[c] == "numeric":
                a = num(c)
                items.append(("sn", c, f"count({a})"))
                for agg in ("min", "max", "avg", "stddev_pop", "skewness")[: 5 if request.skew else 4]:
                    items.append((agg, c, f"{agg}({a})"))
            else:
                items.append(("sn", c, f"count({raw(c)})"))
            if c in request.distinct:
                items.append(("d", c, f"count(DISTINCT {raw(c)})"))
        if items or sampled is None:
            # moments and counts in separate queries: measured on 20M Parquet rows x 25 columns,
            # one query holding both took 24.5 s, the two apart 5.3 s + 6.0 s
            stat_parts = {"sn", "min", "max", "avg", "stddev_pop", "skewness", "d"}
            moments = [i for i in items if i[0] in stat_parts]
            tallies = [i for i in items if i[0] not in stat_parts]
            groups = [g for g in (moments, tallies) if g] or [[]]
            got: dict[tuple[str, str], Any] = {}
            for group in groups:
                params: list[Any] = []
                cond = self.cond(request.where, params)
                inner = ", ".join([*(f"{sql} AS {a}" for a, sql in proj.items())]) or "1 AS one"
                select = ", ".join(["count(*)", *(sql for _, _, sql in group)])
                frm = f"FROM (SELECT {inner} FROM {self.source} WHERE {cond})"
                try:
                    row = self._run(f"SELECT {select} {frm}", params)[0]
                    got |= {(p, c): v for (p, c, _), v in zip(group, row[1:], strict=True)}
                except EngineError as exc:
                    if "SKEW is out of range" not in str(exc):
                        raise
                    row, part = self._scaled_skew(group, frm, params)
                    got |= part
            rows = int(row[0])
        else:
            rows, got = self.row_count(request.where), {}
        out = Scan(rows=rows)
        if sampled is not None:
            out.quantiles, distincts, out.rank_error = sampled
        else:
            distincts = {}
        for c, t in request.thresholds.items():
            if len(t) <= _COUNT_IF_MAX:
                le = np.array([float(got[f"le{i}", c]) for i in range(len(t))])
                counts = np.diff(np.r_[0.0, le])
            else:
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
        # a sample with more than 2k + 16 (approximately counted) distinct values rules a column
        # out; the others are counted exactly over every row
        few = [c for c, k in request.few.items() if (distincts.get(c) or 0) <= 2 * k + 16]
        exact_few = self._few(few, request.where) if few else {}
        for c, k in request.few.items():
            fv = exact_few.get(c)
            out.few[c] = fv if fv is not None and len(fv) <= k else None
        for c in request.stats:
            n_valid = int(got["sn", c])
            st = ColumnStats(
                rows, rows - n_valid, distinct=int(got["d", c]) if c in request.distinct else None
            )
            if ("min", c) in got and n_valid:
                skew = (
                    _g1(got["skewness", c], n_valid, got["stddev_pop", c], got["avg", c])
                    if request.skew
                    else None
                )
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

    def _scaled_skew(
        self, items: list[tuple[str, str, str]], frm: str, params: list[Any]
    ) -> tuple[tuple[Any, ...], dict[tuple[str, str], Any]]:
        """The scan without moment skewness, then skewness from moments about the mean.

        DuckDB's skewness() raises "SKEW is out of range" when its one-pass formula gives a
        non-finite value (a column constant up to rounding, or a sum of cubes that overflows).
        Then: the scan again without it, and one more pass for the central moments
        m2 = mean((x - mean)^2), m3 = mean((x - mean)^3) of every such column; skewness is
        m3 / m2^1.5 (0 where m2 is 0, inf where the cubes overflow), returned as DuckDB's
        adjusted G1 so `_g1` turns it back.
        """
        plain = [(p, c, "NULL" if p == "skewness" else sql) for p, c, sql in items]
        row = self._run(f"SELECT {', '.join(['count(*)', *(sql for _, _, sql in plain)])} {frm}", params)[0]
        got = {(p, c): v for (p, c, _), v in zip(plain, row[1:], strict=True)}
        args = {c: sql.removeprefix("skewness(").removesuffix(")") for p, c, sql in items if p == "skewness"}
        use = [c for c in args if got["avg", c] is not None and math.isfinite(got["avg", c])]
        if use:
            sels = []
            for c in use:
                d = f"({args[c]} - {lit(float(got['avg', c]))})"
                sels += [f"avg({d} * {d})", f"avg({d} * {d} * {d})"]
            again = self._run(f"SELECT {', '.join(sels)} {frm}", params)[0]
            for i, c in enumerate(use):
                m2, m3, n = again[2 * i], again[2 * i + 1], int(got["sn", c])
                if m2 is None or m3 is None or n <= 2 or not m2 > 0:
                    got["skewness", c] = None  # constant: `_g1` says 0
                elif not (math.isfinite(m2) and math.isfinite(m3)):
                    got["skewness", c] = math.inf  # cubes overflow even about the mean (scipy: inf)
                else:
                    got["skewness", c] = (m3 / m2**1.5) * math.sqrt(n * (n - 1)) / (n - 2)
        return row, got

    def _sampled(self, request: ScanRequest) -> tuple[dict[str, np.ndarray], dict[str, int], float]:
        """(quantiles, approximate distinct counts, rank error) of the requested columns.

        Up to `exact_rows` rows: exact quantiles (quantile_cont) of every row. Above, on a
        Parquet source: exact quantiles of the rows whose hashed file row number falls in a
        1/k slice (k = ceil(rows / exact_rows), so at least exact_rows / 2 rows), a
        deterministic pseudo-random sample whose rank error is bounded by `dkw_rank_error`;
        on other sources: approx_quantile (t-digest) of every row, `APPROX_RANK_ERROR`.
        """
        rows = self.row_count(request.where)
        k = math.ceil(rows / self.engine.exact_rows) if rows > self.engine.exact_rows else 1
        source, extra, digest = self.source, "", k > 1 and self.rowed is None
        if k > 1 and self.rowed is not None:
            source, extra = self.rowed, f" AND hash(file_row_number) % {int(k)} = 0"
        cols = list(dict.fromkeys([*request.quantiles, *request.few]))
        quantiles: dict[str, np.ndarray] = {}
        distincts: dict[str, int] = {}
        m = rows
        # Parquet: one query per column. An exact quantile holds its column's values, so memory
        # stays at one column of the slice, and Parquet reads only that column (the same total
        # scan work). Other sources are parsed whole, so there one query covers every column.
        batches = [[c] for c in cols] if self.rowed is not None else [cols]
        for batch in batches:
            aggs = ["count(*)"]
            for i, c in enumerate(batch):
                if c in request.quantiles:
                    probs = request.quantiles[c]
                    if digest:  # approx_quantile takes FLOAT positions
                        pos = ", ".join(repr(float(p)) for p in probs)
                        aggs.append(f"approx_quantile(a{i}, [{pos}]::FLOAT[])")
                    else:
                        aggs.append(f"quantile_cont(a{i}, {floats_list(probs)})")
                if c in request.few:
                    aggs.append(f"approx_count_distinct(a{i})")
            params: list[Any] = []
            cond = self.cond(request.where, params)
            inner = ", ".join(
                f"{self._clean(c, c in request.quantiles)} AS a{i}" for i, c in enumerate(batch)
            )
            sql = f"SELECT {', '.join(aggs)} FROM (SELECT {inner} FROM {source} WHERE {cond}{extra})"
            row = list(self._run(sql, params)[0])
            m = int(row.pop(0))
            for c in batch:
                if c in request.quantiles:
                    q = row.pop(0)
                    n = len(request.quantiles[c])
                    quantiles[c] = np.asarray(q, dtype=float) if q is not None else np.full(n, np.nan)
                if c in request.few:
                    distincts[c] = int(row.pop(0) or 0)
        error = 0.0 if k == 1 else (APPROX_RANK_ERROR if digest else dkw_rank_error(m))
        return quantiles, distincts, error

    def _few(self, columns: list[str], where: Where) -> dict[str, dict[Any, int]]:
        params: list[Any] = []
        cond = self.cond(where, params)
        select = ", ".join(f"histogram({self._clean(c, False)})" for c in columns)
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

    def score_histograms(
        self, score: str, edges: Sequence[float], keys: Sequence[Key] = (), where: Where = ()
    ) -> dict[tuple[Any, ...], np.ndarray]:
        """As `Table.score_histograms`, with one `histogram()` per group instead of a bucket expression."""
        params: list[Any] = []
        exprs = [self.key_sql(k, params) for k in keys]
        cond = self.cond(where, params)
        below = [float(np.nextafter(float(e), -np.inf)) for e in edges]  # x < e as x <= below
        x = self._clean(score, True)
        inner = ", ".join([*(f"{e} AS k{i}" for i, e in enumerate(exprs)), f"{x} AS __s"])
        outer = ", ".join([*(f"k{i}" for i in range(len(exprs))), f"histogram(__s, {floats_list(below)})"])
        group = f" GROUP BY {', '.join(f'k{i}' for i in range(len(exprs)))}" if exprs else ""
        rows = self._run(
            f"SELECT {outer} FROM (SELECT {inner} FROM {self.source} WHERE {cond}){group}", params
        )
        out: dict[tuple[Any, ...], np.ndarray] = {}
        for r in rows:
            hist = r[-1] or {}
            cum = np.array([float(hist.get(b, 0)) for b in below])  # counts in (below[i-1], below[i]]
            out[tuple(_py(v) for v in r[:-1])] = cum[1:]
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


def _reader(files: list[str]) -> tuple[str, str | None, str | None]:
    """(FROM item, one with a file-order row number `__mlprod_row`, one with `file_row_number`)."""
    suffixes = {Path(f).suffix.lower() for f in files}
    listed = "[" + ", ".join(_sq(f) for f in files) + "]"
    if suffixes <= {".parquet", ".pq"}:
        numbered = (
            f"(SELECT * EXCLUDE (filename, file_row_number), row_number() OVER "
            f"(ORDER BY filename, file_row_number) - 1 AS __mlprod_row FROM "
            f"read_parquet({listed}, filename = true, file_row_number = true))"
        )
        return f"read_parquet({listed})", numbered, f"read_parquet({listed}, file_row_number = true)"
    if suffixes <= {".csv"}:
        return f"read_csv({listed}, header = true)", None, None
    if suffixes <= {".jsonl", ".ndjson", ".json"}:
        return f"read_json({listed}, format = 'newline_delimited')", None, None
    raise EngineError(
        f"cannot read {', '.join(sorted(suffixes))} files together (use .parquet, .csv or .jsonl)"
    )


class DuckDBEngine(Engine):
    """An in-process DuckDB connection (an in-memory database unless `database` names a file)."""

    name = "duckdb"
    rank_error = (
        APPROX_RANK_ERROR  # the largest bound any of its scans states (dkw at exact_rows / 2 is 0.0038)
    )

    def __init__(
        self,
        database: str | None = None,
        exact_rows: int = EXACT_ROWS,
        threads: int | None = None,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
    ) -> None:
        """`memory_limit` caps DuckDB's buffers (default 600MB: its Parquet reads otherwise keep
        about 1 GB of row-group buffers; spills go to a temporary folder, never the project)."""
        import tempfile

        import duckdb

        self.con = duckdb.connect(database or ":memory:", read_only=bool(database))
        self.con.execute("SET enable_progress_bar = false")  # no bars in test and notebook output
        # DuckDB 2.0's statistics propagation trusts Parquet min/max statistics, which leave NaN
        # out: `isnan(x)` and `nullif(x, 'nan')` were folded to "no NaN" and every NaN of a
        # Parquet file counted as a value (tests/engines/test_duckdb_nan.py)
        self.con.execute("SET disabled_optimizers = 'statistics_propagation'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.con.execute("SET memory_limit = ?", [str(memory_limit)])
        self.con.execute("SET temp_directory = ?", [str(Path(tempfile.gettempdir()) / "mlprod-duckdb")])
        self.exact_rows = int(exact_rows)
        self._n = itertools.count()

    def from_path(self, path: str, *, name: str | None = None) -> Table:
        files = sorted(glob.glob(path)) if glob.has_magic(path) else [path]
        files = [f for f in files if Path(f).is_file()]
        if not files:
            raise EngineError(f"no data file matches {path}")
        source, numbered, rowed = _reader(files)
        return DuckDBTable(self, source, name or Path(path).name, numbered=numbered, rowed=rowed)

    def from_table(self, table: str, *, name: str | None = None) -> Table:
        return DuckDBTable(self, ".".join(qi(p) for p in table.split(".")), name or table)

    def from_frame(self, df: Any, *, name: str = "data") -> Table:
        view = f"__mlprod_frame_{next(self._n)}"
        self.con.register(view, df)
        return DuckDBTable(self, qi(view), name)

    def close(self) -> None:
        self.con.close()
