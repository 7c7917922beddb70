"""Spark Column expressions of the protocol: missing values, filters, group keys, bin indexes.

Everything is built with `pyspark.sql.functions` on quoted column references and literal
values (`F.lit`), never SQL text, so a spec value cannot change the query. Missing means
NULL, and NaN in float/double columns (Spark orders NaN above every number and makes
NaN = NaN true, so every comparison is guarded by `valid`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import Bucket, Col, EngineError, Key, Match, Not, Where

_NUMERIC = ("ByteType", "ShortType", "IntegerType", "LongType", "FloatType", "DoubleType", "DecimalType")
_INTEGER = ("ByteType", "ShortType", "IntegerType", "LongType")
_FLOAT = ("FloatType", "DoubleType")
_TEXT = ("StringType", "VarcharType", "CharType")
_DATETIME = ("DateType", "TimestampType", "TimestampNTZType")
#: Up to this many thresholds per column, counts are conditional sums in the one aggregation;
#: above it (KS's quantile grid) a bin index from a balanced comparison tree is grouped.
SUM_MAX = 40


def kind_of(type_name: str) -> str:
    """The protocol kind of a Spark type (by class name)."""
    if type_name == "BooleanType":
        return "bool"
    if type_name in _NUMERIC:
        return "numeric"
    if type_name in _TEXT:
        return "text"
    if type_name in _DATETIME:
        return "datetime"
    return "other"


def ref(name: str) -> Any:
    """A column reference by exact name (dots and spaces kept, not parsed)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


class Exprs:
    """Expressions over one DataFrame's schema."""

    def __init__(self, types: dict[str, str], table: str) -> None:
        self.types = types  # {column: Spark type class name}
        self.table = table

    def type(self, c: str) -> str:
        if c not in self.types:
            raise EngineError(f"{self.table} has no column {c!r}")
        return self.types[c]

    def is_float(self, c: str) -> bool:
        return self.type(c) in _FLOAT

    def valid(self, c: str) -> Any:
        """The value of `c` is present (not NULL, not NaN)."""
        from pyspark.sql import functions as F

        x = ref(c)
        return x.isNotNull() & ~F.isnan(x) if self.is_float(c) else x.isNotNull()

    def value(self, c: str) -> Any:
        """`c` with NaN turned into NULL (what every aggregate sees)."""
        from pyspark.sql import functions as F

        return F.when(self.valid(c), ref(c)) if self.is_float(c) else ref(c)

    def num(self, c: str) -> Any:
        """`c` as a double, missing as NULL."""
        if kind_of(self.type(c)) not in ("numeric", "bool"):
            raise EngineError(f"{self.table}: column {c!r} is not numeric")
        return self.value(c).cast("double")

    def cond(self, where: Where) -> Any:
        """True for rows matching every filter (a missing value never matches)."""
        from pyspark.sql import functions as F

        out = F.lit(True)
        for f in where:
            if isinstance(f, Not):
                out = out & ~F.coalesce(self.cond(f.where), F.lit(False))
                continue
            x = ref(f.column)
            if f.op in ("in", "not_in"):
                values = list(f.value) if isinstance(f.value, tuple | list) else [f.value]
                hit = x.isin(*[F.lit(v) for v in values]) if values else F.lit(False)
                expr = hit if f.op == "in" else ~hit
            else:
                v = F.lit(f.value)
                expr = {
                    "==": x == v,
                    "!=": x != v,
                    "<": x < v,
                    "<=": x <= v,
                    ">": x > v,
                    ">=": x >= v,
                }[f.op]
            out = out & self.valid(f.column) & F.coalesce(expr, F.lit(False))
        return out

    def key(self, key: Key) -> Any:
        """A group key's column: the value, a bucket index (-1 outside/missing), or match True/False."""
        from pyspark.sql import functions as F

        if isinstance(key, Col):
            return self.value(key.column)
        if isinstance(key, Bucket):
            x, e = self.num(key.column), key.edges
            inner = bin_index(x, e[1:-1], left_closed=True)  # a balanced tree: 1000 edges nest 10 deep
            inside = self.valid(key.column) & (x >= F.lit(float(e[0]))) & (x < F.lit(float(e[-1])))
            return F.when(inside, inner).otherwise(F.lit(-1))
        if isinstance(key, Match):
            return F.coalesce(self.cond(key.where), F.lit(False))
        raise EngineError(f"unknown group key {key!r}")


def bin_index(x: Any, thresholds: Sequence[float], *, left_closed: bool = False) -> Any:
    """The bin of x among sorted thresholds, as a balanced tree of comparisons (depth log2(k)).

    Right-closed bins (default): the number of thresholds below x (searchsorted 'left');
    left-closed: the number at or below x (searchsorted 'right'). NULL stays NULL.
    """
    from pyspark.sql import functions as F

    t = [float(v) for v in thresholds]

    def build(lo: int, hi: int) -> Any:  # bin in [lo, hi]
        if lo == hi:
            return F.lit(lo)
        mid = (lo + hi) // 2  # x below t[mid] -> bin <= mid
        below = x < F.lit(t[mid]) if left_closed else x <= F.lit(t[mid])
        return F.when(below, build(lo, mid)).otherwise(build(mid + 1, hi))

    return F.when(x.isNotNull(), build(0, len(t)))


def python_value(v: Any, type_name: str) -> Any:
    """A value Spark returned as the plain Python value the protocol's keys use."""
    if v is None:
        return None
    if type_name == "DecimalType":
        return float(v)
    if type_name in _FLOAT:
        return float(v)
    if type_name in _INTEGER:
        return int(v)
    return v
