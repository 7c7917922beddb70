"""The pandas engine: aggregates of an in-memory DataFrame (the default; today's behaviour).

Every aggregate is exact, quantiles included (numpy's linear interpolation), so
`rank_error` is 0 and KS is computed exactly on the raw values (`PandasTable.frame`).
Files are read whole with the project's readers (a glob's files concatenated in sorted
order); this is the engine whose memory grows with the data.
"""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .base import (
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

_LOOP_MAX = 16  # up to this many thresholds, one vectorised comparison each beats searchsorted


def kind_of(s: pd.Series) -> str:
    """The protocol kind of a pandas column."""
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    ):
        return "text"
    return "other"


def floats(s: pd.Series) -> np.ndarray:
    """A column as float64 with NaN for missing."""
    return s.to_numpy(dtype=float, na_value=np.nan)


def py(v: Any) -> Any:
    """A numpy/pandas scalar as a plain Python value; missing -> None."""
    if v is None or (not isinstance(v, str | bytes) and pd.isna(v)):
        return None
    return v.item() if isinstance(v, np.generic) else v


def value_counts(s: pd.Series) -> dict[Any, int]:
    """Exact {value: count}, every missing value (None, NaN, NA) under None."""
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    counts = np.bincount(codes, minlength=len(uniques))
    out: dict[Any, int] = {}
    for u, c in zip(uniques, counts, strict=True):
        k = py(u)
        out[k] = out.get(k, 0) + int(c)
    return out


def threshold_counts(x: np.ndarray, thresholds: Sequence[float]) -> np.ndarray:
    """Counts in (-inf, t0], (t0, t1], ..., (t_last, inf), then the missing count."""
    t = np.asarray(thresholds, dtype=float)
    nan = np.isnan(x)
    n_nan = int(np.count_nonzero(nan))
    if t.size <= _LOOP_MAX:
        below = [int(np.count_nonzero(x <= v)) for v in t]
        valid = x.size - n_nan
        return np.r_[np.diff(np.array([0, *below, valid], dtype=float)), n_nan]
    v = x[~nan] if n_nan else x
    idx = np.searchsorted(t, v, side="left")
    return np.r_[np.bincount(idx, minlength=t.size + 1).astype(float), n_nan]


def _stats(s: pd.Series, numeric: bool, distinct: bool) -> ColumnStats:
    if not numeric:
        miss = int(s.isna().sum())
        d = int(s.nunique(dropna=True)) if distinct else None
        return ColumnStats(int(s.size), miss, distinct=d)
    x = floats(s)
    v = x[~np.isnan(x)]
    d = int(pd.unique(v).size) if distinct else None
    if v.size == 0:
        return ColumnStats(int(x.size), int(x.size), distinct=d)
    mean = float(v.mean())
    dev = v - mean
    m2 = float(np.mean(dev * dev))
    skew = 0.0 if m2 <= (1e-14 * max(abs(mean), 1.0)) ** 2 else float(np.mean(dev * dev * dev) / m2**1.5)
    return ColumnStats(
        int(x.size), int(x.size - v.size), float(v.min()), float(v.max()), mean, float(v.std()), skew, d
    )


def filter_mask(df: pd.DataFrame, where: Where) -> np.ndarray:
    """Rows matching every filter; a missing value matches nothing."""
    mask = np.ones(len(df), dtype=bool)
    for f in where:
        if isinstance(f, Not):
            mask &= ~filter_mask(df, f.where)
            continue
        if f.column not in df.columns:
            raise EngineError(f"unknown column {f.column!r} in a filter")
        s = df[f.column]
        if f.op in ("in", "not_in"):
            values = list(f.value) if isinstance(f.value, tuple | list) else [f.value]
            hit = s.isin(values).to_numpy()
            m = hit if f.op == "in" else ~hit
        else:
            ops = {
                "==": s.__eq__,
                "!=": s.__ne__,
                "<": s.__lt__,
                "<=": s.__le__,
                ">": s.__gt__,
                ">=": s.__ge__,
            }
            try:
                m = ops[f.op](f.value).fillna(False).to_numpy(dtype=bool)
            except TypeError as exc:
                raise EngineError(
                    f"cannot compare column {f.column} ({s.dtype}) {f.op} {f.value!r}: {exc}"
                ) from None
        mask &= m & s.notna().to_numpy()
    return mask


def key_codes(df: pd.DataFrame, key: Key) -> tuple[np.ndarray, list[Any]]:
    """(int codes per row, key value per code) of one group key."""
    if isinstance(key, Match):
        m = filter_mask(df, key.where)
        return np.where(m, 0, 1), [True, False]
    if isinstance(key, Bucket):
        x = floats(df[key.column])
        edges = np.asarray(key.edges)
        codes = np.searchsorted(edges, x, side="right") - 1
        codes[(codes < 0) | (codes >= edges.size - 1) | np.isnan(x)] = -1
        return codes + 1, list(range(-1, edges.size - 1))
    if isinstance(key, Col):
        codes, uniques = pd.factorize(df[key.column], use_na_sentinel=False)
        return codes, [py(u) for u in uniques]
    raise EngineError(f"unknown group key {key!r}")


class PandasTable(Table):
    """A table over a DataFrame held in memory."""

    def __init__(self, engine: Engine, frame: pd.DataFrame, name: str) -> None:
        self.engine = engine
        self.frame = frame
        self.name = name

    def kinds(self) -> dict[str, str]:
        return {str(c): kind_of(self.frame[c]) for c in self.frame.columns}

    def _rows(self, where: Where) -> pd.DataFrame:
        return self.frame[filter_mask(self.frame, where)] if where else self.frame

    def _col(self, df: pd.DataFrame, c: str) -> pd.Series:
        if c not in df.columns:
            raise EngineError(f"{self.name} has no column {c!r}")
        return df[c]

    def scan(self, request: ScanRequest) -> Scan:
        df = self._rows(request.where)
        out = Scan(rows=len(df))
        for c, probs in request.quantiles.items():
            x = floats(self._col(df, c))
            v = x[~np.isnan(x)]
            out.quantiles[c] = np.quantile(v, list(probs)) if v.size else np.full(len(probs), np.nan)
        for c, t in request.thresholds.items():
            out.counts[c] = threshold_counts(floats(self._col(df, c)), t)
        for c in request.values:
            out.values[c] = value_counts(self._col(df, c))
        for c, k in request.few.items():
            s = self._col(df, c)
            s = s[s.notna()]
            if kind_of(s) == "numeric":
                x = floats(s)
                s = s[~np.isnan(x)]
                if x.size > 4096 and pd.unique(x[:4096]).size > k:
                    out.few[c] = None  # a probe of the first rows rules out a continuous column
                    continue
            vc = value_counts(s)
            out.few[c] = vc if len(vc) <= k else None
        for c in request.stats:
            s = self._col(df, c)
            out.stats[c] = _stats(s, kind_of(s) == "numeric", c in request.distinct)
        return out

    def group_counts(
        self, keys: Sequence[Key], where: Where = (), *, below: int | None = None
    ) -> dict[tuple[Any, ...], int]:
        df = self._rows(where)
        if not keys:
            return {(): len(df)} if below is None or len(df) < below else {}
        coded = [key_codes(df, k) for k in keys]
        frame = pd.DataFrame({i: codes for i, (codes, _) in enumerate(coded)})
        sizes = frame.groupby(list(frame.columns), sort=False).size()
        out: dict[tuple[Any, ...], int] = {}
        for combo, n in sizes.items():
            combo = combo if isinstance(combo, tuple) else (combo,)
            if below is not None and n >= below:
                continue
            out[tuple(coded[i][1][int(c)] for i, c in enumerate(combo))] = int(n)
        return out

    def candidates(self, column: str, pattern: str, where: Where = ()) -> dict[str, int]:
        s = self._col(self._rows(where), column).dropna().astype(str)
        vc = s.value_counts()
        hit = vc.index.to_series().str.contains(pattern, regex=True).to_numpy()
        return {str(k): int(n) for k, n in zip(vc.index[hit], vc.to_numpy()[hit], strict=True)}

    def sample(
        self, n: int, seed: int, *, id_column: str | None = None, columns: Sequence[str] | None = None
    ) -> Any:
        df = self.frame
        if id_column:
            idents = self._col(df, id_column).astype(object).map(_ident)
        else:
            idents = pd.Series(range(len(df)), index=df.index).map(str)
        prefix = f"{seed}:"
        keys = [hashlib.md5((prefix + s).encode(), usedforsecurity=False).hexdigest() for s in idents]
        order = np.argsort(np.asarray(keys), kind="stable")[:n]
        picked = df.iloc[order]
        return picked[list(columns)] if columns is not None else picked


def _ident(v: Any) -> str:
    """An id value as text, as SQL's CAST(... AS VARCHAR) writes it for integers and strings."""
    v = py(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


class PandasEngine(Engine):
    """In-memory engine; files are read whole."""

    name = "pandas"
    rank_error = 0.0

    def from_path(self, path: str, *, name: str | None = None) -> Table:
        from mlprod.checks.data import load_table

        files = sorted(glob.glob(path)) if glob.has_magic(path) else [path]
        if not files:
            raise EngineError(f"no file matches {path}")
        frames = [load_table(f) for f in files]
        df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return PandasTable(self, df, name or Path(path).name)

    def from_table(self, table: str, *, name: str | None = None) -> Table:
        raise EngineError(f"table {table!r}: the pandas engine reads files only; use engine duckdb or spark")

    def from_frame(self, df: Any, *, name: str = "data") -> Table:
        return PandasTable(self, df, name)
