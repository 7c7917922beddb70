"""The Spark engine: aggregates computed by Spark where the data lives (a cluster or `local[n]`).

A `SparkSession` comes from `data.spark.master` (default `local[2]`) or from Spark Connect's
`data.spark.remote` (`sc://host:port`, e.g. a Databricks or on-prem cluster), with
`data.spark.conf` applied. The session is created once per process and shared by every
engine with the same address (`close()` keeps it; starting a JVM costs seconds).

Data sets are files or globs read with `spark.read` (Parquet, CSV with a header, JSON
lines; a glob's files in sorted order), or catalog tables (`spark.table`). A `ScanRequest`
is one aggregation over every requested column: per column exact quantiles (`percentile`,
linear interpolation, when the scanned rows are at most `EXACT_ROWS`; above, quantiles of a
hashed row slice of Parquet files, or `percentile_approx` of every row with relative error
`REL_ERROR`; `Scan.rank_error` states the bound), threshold counts as conditional sums,
min/max/mean/std/skewness, exact distinct counts. Value
counts of several columns are one more job (one grouped aggregation over all of them);
columns with more than `SUM_MAX` thresholds (KS's grid) are counted by grouping a bin index.
Filters and keys are Column expressions (spark_expr.py), never SQL text.
"""

from __future__ import annotations

import glob
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .base import EXACT_ROWS, Col, ColumnStats, Engine, EngineError, Key, Scan, ScanRequest, Table, Where
from .duckdb import dkw_rank_error
from .spark_expr import SUM_MAX, Exprs, bin_index, kind_of, python_value, ref
from .spark_session import first_line, session

#: Relative error of `percentile_approx` (accuracy 1 / REL_ERROR): a returned q-quantile has
#: a rank within REL_ERROR * n of q * n (Spark's documented guarantee). Used above EXACT_ROWS.
REL_ERROR = 0.001
#: Accuracy of `percentile_approx` on the hashed row slice above EXACT_ROWS (Parquet files).
SLICE_ACCURACY = 10_000
T = TypeVar("T")


class SparkTable(Table):
    """A table over a Spark DataFrame (files, a catalog table or an in-memory frame)."""

    engine: SparkEngine

    def __init__(self, engine: SparkEngine, df: Any, name: str, *, files: list[str] | None = None) -> None:
        self.engine = engine
        self.df = df
        self.name = name
        self.files = files  # Parquet files in sorted order (row numbers for `sample`)
        self.types = {f.name: type(f.dataType).__name__ for f in df.schema.fields}
        self.x = Exprs(self.types, name)
        self._counts: dict[Where, int] = {}

    def _run(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except EngineError:
            raise
        except Exception as exc:  # Py4J, AnalysisException, Spark Connect errors
            raise EngineError(f"spark could not compute {what} of {self.name}: {first_line(exc)}") from exc

    def _where(self, where: Where) -> Any:
        return self.df.where(self.x.cond(where)) if where else self.df

    # --- protocol --------------------------------------------------------------------------

    def kinds(self) -> dict[str, str]:
        return {c: kind_of(t) for c, t in self.types.items()}

    def row_count(self, where: Where = ()) -> int:
        if where not in self._counts:
            df = self._where(where)
            self._counts[where] = int(self._run("the row count", df.count))
        return self._counts[where]

    def scan(self, request: ScanRequest) -> Scan:
        from pyspark.sql import functions as F

        x = self.x
        sliced = self._sliced_quantiles(request) if request.quantiles else None
        items: list[tuple[str, str, int, Any]] = []  # (part, column, index, expression)
        if sliced is None:  # exact (percentile) up to exact_rows, else percentile_approx of every row
            exact = self.row_count(request.where) <= self.engine.exact_rows if request.quantiles else True
            for c, probs in request.quantiles.items():
                p = [float(v) for v in probs]
                acc = self.engine.accuracy
                q = F.percentile(x.num(c), p) if exact else F.percentile_approx(x.num(c), p, acc)
                items.append(("q", c, 0, q))
            rank_error = 0.0 if exact else self.engine.rank_error
        else:
            rank_error = sliced[1]
        wide = {c: list(t) for c, t in request.thresholds.items() if len(t) > SUM_MAX}
        for c, t in request.thresholds.items():
            items.append(("tn", c, 0, F.count(x.num(c))))
            if c not in wide:
                v = x.num(c)
                items += [
                    ("t", c, i, F.sum(F.when(v <= F.lit(float(b)), 1).otherwise(0))) for i, b in enumerate(t)
                ]
        for c in request.few if sliced is None else ():
            items.append(("f", c, 0, F.approx_count_distinct(x.value(c))))
        for c in request.stats:
            items.append(("sn", c, 0, F.count(x.value(c))))
            if self.kinds()[c] == "numeric":
                v = x.num(c)
                for agg in ("min", "max", "avg", "stddev_pop", "skewness")[: 5 if request.skew else 4]:
                    items.append((agg, c, 0, getattr(F, agg)(v)))
            if c in request.distinct:
                items.append(("d", c, 0, F.count_distinct(x.value(c))))
        df = self._where(request.where)
        aggs = [F.count(F.lit(1)).alias("n")] + [e.alias(f"a{i}") for i, (*_, e) in enumerate(items)]
        row = self._run("aggregates", lambda: df.agg(*aggs).collect()[0])
        rows = int(row[0])
        got = {(p, c, i): val for (p, c, i, _), val in zip(items, row[1:], strict=True)}
        out = Scan(rows=rows, rank_error=rank_error)
        for c, probs in request.quantiles.items():
            q = got["q", c, 0] if sliced is None else sliced[0][c]
            out.quantiles[c] = np.asarray(q, dtype=float) if q is not None else np.full(len(probs), np.nan)
        wide_counts = self._wide_counts(df, wide) if wide else {}
        for c, t in request.thresholds.items():
            valid = float(got["tn", c, 0])
            if c in wide:
                counts = wide_counts[c]
            else:
                below = np.array([float(got["t", c, i]) for i in range(len(t))])
                counts = np.diff(np.r_[0.0, below, valid])
            out.counts[c] = np.r_[counts, rows - valid]
        approx = {c: got["f", c, 0] for c in request.few} if sliced is None else sliced[2]
        few = [c for c in request.few if (approx[c] or 0) <= 2 * request.few[c] + 16]
        wanted = list(dict.fromkeys([*request.values, *few]))  # one grouped job for both
        counted = self._value_counts(df, wanted) if wanted else {}
        for c in request.values:
            vc = dict(counted[c])
            missing = rows - sum(vc.values())
            if missing:
                vc[None] = missing
            out.values[c] = vc
        for c, k in request.few.items():
            fv = counted.get(c)
            out.few[c] = fv if fv is not None and len(fv) <= k else None
        for c in request.stats:
            out.stats[c] = _stats(got, c, rows, c in request.distinct)
        return out

    def _sliced_quantiles(self, request: ScanRequest) -> tuple[dict[str, Any], float, dict[str, int]] | None:
        """Quantiles of a hashed row slice of Parquet files above `exact_rows` rows, with their rank error.

        The rows whose `xxhash64` of their row number within their file falls in a 1/k slice
        (k = ceil(rows / exact_rows), so at least exact_rows / 2 rows): a deterministic
        pseudo-random sample, as the duckdb engine takes. Its quantiles come from
        `percentile_approx` at relative error 1 / SLICE_ACCURACY; the rank error adds the
        sample's DKW bound (exceeded with probability 1e-6). The few-value tests' approximate
        distinct counts come from the slice too (a slice has at most the table's distinct
        values; a column above the limit on the slice is certainly above it). None when the
        scan covers at most `exact_rows` rows or the source has no row numbers (not Parquet).
        """
        from pyspark.sql import functions as F

        rows = self.row_count(request.where)
        if rows <= self.engine.exact_rows or not self._parquet():
            return None
        k = math.ceil(rows / self.engine.exact_rows)
        part = F.pmod(F.xxhash64(F.col("_metadata.row_index")), F.lit(k)) == F.lit(0)
        df = self._where(request.where).where(part)
        cols, few = list(request.quantiles), list(request.few)
        aggs = [F.count(F.lit(1))]
        aggs += [
            F.percentile_approx(self.x.num(c), [float(p) for p in request.quantiles[c]], SLICE_ACCURACY)
            for c in cols
        ]
        aggs += [F.approx_count_distinct(self.x.value(c)) for c in few]
        row = self._run("quantiles", lambda: df.agg(*aggs).collect()[0])
        m, qs, ds = int(row[0]), row[1 : 1 + len(cols)], row[1 + len(cols) :]
        error = 1.0 / SLICE_ACCURACY + dkw_rank_error(m)
        return dict(zip(cols, qs, strict=True)), error, {c: int(d or 0) for c, d in zip(few, ds, strict=True)}

    def _parquet(self) -> bool:
        return bool(self.files) and all(f.lower().endswith((".parquet", ".pq")) for f in self.files or [])

    def _wide_counts(self, df: Any, wide: dict[str, list[float]]) -> dict[str, np.ndarray]:
        """Counts of many thresholds per column: a bin index per column, grouped in one job."""
        from pyspark.sql import functions as F

        cols = list(wide)
        structs = [
            F.struct(F.lit(i).alias("i"), bin_index(self.x.num(c), wide[c]).alias("b"))
            for i, c in enumerate(cols)
        ]
        grouped = (
            df.select(F.inline(F.array(*structs))).where(F.col("b").isNotNull()).groupBy("i", "b").count()
        )
        out = {c: np.zeros(len(wide[c]) + 1) for c in cols}
        for r in self._run("threshold counts", grouped.collect):
            out[cols[int(r[0])]][int(r[1])] += float(r[2])
        return out

    def _value_counts(self, df: Any, columns: list[str]) -> dict[str, dict[Any, int]]:
        """Exact {column: {value: count}} of several columns in one grouped job.

        Each column's value goes in a slot of its own type (text, integer, double, bool,
        other as text), so keys come back as the data holds them. Missing values are not
        counted (the caller has the row count).
        """
        from pyspark.sql import functions as F

        if not columns:
            return {}
        slots = {"s": "string", "l": "long", "d": "double", "b": "boolean"}

        def slot(c: str) -> str:
            t = self.types[c]
            if t in ("ByteType", "ShortType", "IntegerType", "LongType"):
                return "l"
            if t in ("FloatType", "DoubleType", "DecimalType"):
                return "d"
            return "b" if t == "BooleanType" else "s"

        structs = []
        for i, c in enumerate(columns):
            fields = [F.lit(i).alias("i")]
            for s, typ in slots.items():
                val = self.x.value(c).cast(typ) if slot(c) == s else F.lit(None).cast(typ)
                fields.append(val.alias(s))
            structs.append(F.struct(*fields))
        exploded = df.select(F.inline(F.array(*structs)))
        present = (
            F.col("s").isNotNull() | F.col("l").isNotNull() | F.col("d").isNotNull() | F.col("b").isNotNull()
        )
        grouped = exploded.where(present)
        grouped = grouped.groupBy("i", *slots).count()
        out: dict[str, dict[Any, int]] = {c: {} for c in columns}
        for r in self._run("value counts", grouped.collect):
            c = columns[int(r[0])]
            v = r[1 + list(slots).index(slot(c))]
            out[c][python_value(v, self.types[c])] = int(r[-1])
        return out

    def group_counts(
        self, keys: Sequence[Key], where: Where = (), *, below: int | None = None
    ) -> dict[tuple[Any, ...], int]:
        from pyspark.sql import functions as F

        if not keys:
            n = self.row_count(where)
            return {(): n} if n and (below is None or n < below) else {}
        exprs = [self.x.key(k).alias(f"k{i}") for i, k in enumerate(keys)]
        grouped = self._where(where).groupBy(*exprs).count()
        if below is not None:
            grouped = grouped.where(F.col("count") < F.lit(int(below)))
        types = [self.types.get(k.column, "") if isinstance(k, Col) else "" for k in keys]
        out = {}
        for r in self._run("group counts", grouped.collect):
            out[tuple(python_value(v, t) for v, t in zip(r[:-1], types, strict=True))] = int(r[-1])
        return out

    def candidates(self, column: str, pattern: str, where: Where = ()) -> dict[str, int]:
        text = ref(column).cast("string")
        df = self._where(where).where(self.x.valid(column) & text.rlike(pattern))
        grouped = df.groupBy(text.alias("v")).count()
        return {str(r[0]): int(r[1]) for r in self._run("candidate values", grouped.collect)}

    def sample(
        self, n: int, seed: int, *, id_column: str | None = None, columns: Sequence[str] | None = None
    ) -> Any:
        from pyspark.sql import functions as F

        cols = list(columns) if columns is not None else list(self.types)
        for c in cols:
            self.x.type(c)
        if id_column:
            df, ident = self.df, self._ident(id_column)
        else:
            df = self._numbered()
            ident = F.col("__mlprod_row").cast("string")
        key = F.md5(F.concat(F.lit(f"{seed}:"), ident))
        picked = (
            df.select(*[ref(c) for c in cols], key.alias("__mlprod_key"))
            .orderBy("__mlprod_key")
            .limit(int(n))
        )
        rows = self._run("a sample", picked.collect)
        import pandas as pd

        return pd.DataFrame.from_records([tuple(r)[:-1] for r in rows], columns=cols)

    def _ident(self, c: str) -> Any:
        """The id as text, as the other engines write it ("42" for 42 and 42.0, "None" if missing)."""
        from pyspark.sql import functions as F

        x = ref(c)
        if self.x.is_float(c):
            whole = F.when(x == F.floor(x), x.cast("decimal(38,0)").cast("string"))
            return F.when(self.x.valid(c), F.coalesce(whole, x.cast("string"))).otherwise(F.lit("None"))
        return F.coalesce(x.cast("string"), F.lit("None"))

    def _numbered(self) -> Any:
        """The table with `__mlprod_row`: the 0-based row number in file order (files sorted)."""
        from pyspark.sql import functions as F

        if self._parquet():
            spark = self.engine.spark
            df = spark.read.parquet(*(self.files or [])).select(
                "*", F.col("_metadata.file_path").alias("__f"), F.col("_metadata.row_index").alias("__r")
            )
            sizes = self._run("file sizes", df.groupBy("__f").count().collect)
            offsets, total = [], 0
            for path, count in sorted((str(r[0]), int(r[1])) for r in sizes):
                offsets += [F.lit(path), F.lit(total)]
                total += count
            start = F.create_map(*offsets)[F.col("__f")] if offsets else F.lit(0)
            return df.withColumn("__mlprod_row", start + F.col("__r"))
        if self.engine.remote:
            raise EngineError(
                f"{self.name}: a sample without an id column needs Parquet files on Spark Connect"
                " (row numbers of other sources are not defined); set the data set's id column"
            )
        indexed = self.df.rdd.zipWithIndex().map(lambda p: (*p[0], p[1]))
        return indexed.toDF([*self.df.columns, "__mlprod_row"])


def _stats(got: dict[tuple[str, str, int], Any], c: str, rows: int, distinct: bool) -> ColumnStats:
    n_valid = int(got["sn", c, 0])
    d = int(got["d", c, 0]) if distinct else None
    if ("min", c, 0) not in got or not n_valid:
        return ColumnStats(rows, rows - n_valid, distinct=d)
    mean, std = float(got["avg", c, 0]), float(got["stddev_pop", c, 0])
    g1: float | None = None
    if ("skewness", c, 0) in got:  # not requested (ScanRequest.skew False): None
        raw = got["skewness", c, 0]
        g1 = math.nan if raw is None else float(raw)
        if std <= 1e-14 * max(abs(mean), 1.0) or math.isnan(g1):
            g1 = 0.0
    return ColumnStats(
        rows, rows - n_valid, float(got["min", c, 0]), float(got["max", c, 0]), mean, std, g1, d
    )


def _files(path: str) -> list[str]:
    files = sorted(glob.glob(path)) if glob.has_magic(path) else [path]
    files = [f for f in files if Path(f).is_file()]
    if not files:
        raise EngineError(f"no data file matches {path}")
    return files


class SparkEngine(Engine):
    """Spark through the process's shared session (`session`)."""

    name = "spark"
    rank_error = REL_ERROR

    def __init__(
        self,
        master: str | None = None,
        remote: str | None = None,
        conf: Mapping[str, Any] | None = None,
        exact_rows: int = EXACT_ROWS,
        rel_error: float = REL_ERROR,
    ) -> None:
        if master and remote:
            raise EngineError("data.spark: set either master or remote, not both")
        self.remote = remote
        self.spark = session(master, remote, conf)
        self.exact_rows = int(exact_rows)
        self.accuracy = max(1, round(1.0 / float(rel_error)))
        self.rank_error = 1.0 / self.accuracy

    def from_path(self, path: str, *, name: str | None = None) -> Table:
        files = _files(path)
        suffixes = {Path(f).suffix.lower() for f in files}
        reader = self.spark.read
        try:
            if suffixes <= {".parquet", ".pq"}:
                df = reader.parquet(*files)
            elif suffixes <= {".csv"}:
                df = reader.csv(files, header=True, inferSchema=True)
            elif suffixes <= {".jsonl", ".ndjson", ".json"}:
                df = reader.json(files)
            else:
                raise EngineError(
                    f"cannot read {', '.join(sorted(suffixes))} files together (use .parquet, .csv or .jsonl)"
                )
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(f"spark could not read {path}: {first_line(exc)}") from exc
        return SparkTable(self, df, name or Path(path).name, files=files)

    def from_table(self, table: str, *, name: str | None = None) -> Table:
        try:
            df = self.spark.table(table)
        except Exception as exc:
            raise EngineError(f"spark has no table {table!r}: {first_line(exc)}") from exc
        return SparkTable(self, df, name or table)

    def from_frame(self, df: Any, *, name: str = "data") -> Table:
        return SparkTable(self, self.spark.createDataFrame(df), name)

    def close(self) -> None:
        """Nothing to release per engine: the session is shared by the process (see `session`)."""
