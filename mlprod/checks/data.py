"""Data loading, deterministic sampling, file hashes and column / stage-output expectations.

`check_expect` implements a pipeline stage's `expect` block and `check_columns` the
`data.columns` expectations; both return one `CheckResult` per expectation (concern
"pipeline") whose message names the stage or column.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlprod.errors import RefusedError, UsageError

from .results import CheckResult

CONCERN = "pipeline"
_CHUNK = 1 << 20  # 1 MiB: hashing streams the file, so a large data set never sits in memory twice
_SHOW = 5  # offending values or columns named in a message


class DataFileNotFoundError(RefusedError, FileNotFoundError):
    """A data file named by the spec does not exist (exit code 3 through the CLI)."""


class UnsupportedFormatError(UsageError, ValueError):
    """A data file whose suffix is not one of .csv, .parquet, .pq, .jsonl, .ndjson."""


class DataFileError(RefusedError, ValueError):
    """A data file that exists but cannot be read as its suffix says (exit code 3 through the CLI)."""


def load_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV, Parquet or JSON-lines file, chosen by its suffix."""
    p = Path(path)
    if not p.is_file():
        raise DataFileNotFoundError(
            f"data file not found: {p}", hint="check the dataset's path in mlprod.yaml (relative to it)"
        )
    suffix = p.suffix.lower()
    readers = {
        ".csv": ("CSV", pd.read_csv),
        ".parquet": ("Parquet", pd.read_parquet),
        ".pq": ("Parquet", pd.read_parquet),
        ".jsonl": ("JSON lines", lambda f: pd.read_json(f, lines=True)),
        ".ndjson": ("JSON lines", lambda f: pd.read_json(f, lines=True)),
    }
    if suffix not in readers:
        raise UnsupportedFormatError(
            f"cannot read {p}: unsupported suffix {suffix!r} (use .csv, .parquet or .jsonl)"
        )
    kind, read = readers[suffix]
    try:
        return read(p)
    except (ValueError, OSError) as exc:  # empty, malformed, not UTF-8, or another format
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataFileError(
            f"cannot read {p} as {kind}: {reason}",
            hint=f"the suffix {suffix} says {kind}: check the file's content, or rename it to match",
        ) from exc


def sample_rows(df: pd.DataFrame, n: int, seed: int | None) -> pd.DataFrame:
    """`n` rows drawn without replacement by `seed`, kept in their original order.

    The same (df, n, seed) always gives the same rows; `n >= len(df)` returns `df` itself.
    """
    if n >= len(df):
        return df
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(df), size=n, replace=False))
    return df.iloc[idx]


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    p = Path(path)
    if not p.is_file():
        raise DataFileNotFoundError(f"cannot hash {p}: file not found")
    h = hashlib.sha256()
    with p.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


# --- stage expectations ----------------------------------------------------------------


def _n_rows(output: Any) -> int | None:
    if isinstance(output, pd.DataFrame | pd.Series | np.ndarray):
        return len(output)
    return None


def _names(items: Sequence[Any]) -> str:
    shown = ", ".join(str(i) for i in list(items)[:_SHOW])
    return shown + (f" and {len(items) - _SHOW} more" if len(items) > _SHOW else "")


def _result(check: str, ok: bool, message: str, subject: str, **kw: Any) -> CheckResult:
    return CheckResult(CONCERN, check, bool(ok), message, subject=subject, **kw)


def check_expect(
    output: Any,
    expect: Mapping[str, Any],
    *,
    subject: str,
    first_input: pd.DataFrame | None = None,
    predict_method: str = "predict_proba",
) -> list[CheckResult]:
    """Check a stage's output against its `expect` block (a plain dict); one result per key set.

    `subject` is the stage name. `rows: preserved` compares with `first_input`, the stage's
    first DataFrame input. `range` applies to the output's values (array, Series or the
    numeric columns of a DataFrame); NaN values fail it.
    """
    out: list[CheckResult] = []
    stage = f"stage {subject}"
    n = _n_rows(output)
    kind = type(output).__name__

    for key, check, bound in (("min_rows", "min_rows", ">="), ("max_rows", "max_rows", "<=")):
        limit = expect.get(key)
        if limit is None:
            continue
        if n is None:
            out.append(
                _result(check, False, f"{stage} returned a {kind}, which has no rows", subject, limit=limit)
            )
            continue
        ok = n >= limit if bound == ">=" else n <= limit
        rel = bound if ok else ("<" if bound == ">=" else ">")
        out.append(
            _result(
                check, ok, f"{stage} returned {n} rows {rel} {limit}", subject, value=float(n), limit=limit
            )
        )

    if expect.get("rows") == "preserved":
        if first_input is None or n is None:
            why = "it has no DataFrame input" if first_input is None else f"it returned a {kind}"
            out.append(_result("rows_preserved", False, f"{stage}: rows cannot be compared: {why}", subject))
        else:
            m = len(first_input)
            ok = n == m
            msg = (
                f"{stage} preserved its {m} input rows"
                if ok
                else f"{stage} returned {n} rows from {m} input rows"
            )
            out.append(_result("rows_preserved", ok, msg, subject, value=float(n), limit=float(m)))

    columns = expect.get("columns")
    if columns is not None:
        have = set(output.columns) if isinstance(output, pd.DataFrame) else set()
        missing = [c for c in columns if c not in have]
        msg = (
            f"{stage} output has the required columns {_names(columns)}"
            if not missing
            else f"{stage} output lacks the required column(s) {_names(missing)}"
        )
        out.append(_result("columns", not missing, msg, subject, details={"missing": missing}))

    excluded = expect.get("columns_exclude")
    if excluded is not None:
        have = set(output.columns) if isinstance(output, pd.DataFrame) else set()
        present = [c for c in excluded if c in have]
        msg = (
            f"{stage} output contains the excluded column(s) {_names(present)}"
            if present
            else f"{stage} output has none of the excluded columns"
        )
        out.append(_result("columns_exclude", not present, msg, subject, details={"present": present}))

    not_null = expect.get("not_null")
    if not_null is not None:
        out.append(_check_not_null(output, not_null, stage, subject))

    returns = expect.get("returns")
    if returns == "model":
        ok = callable(getattr(output, predict_method, None))
        what = "has" if ok else "lacks"
        out.append(
            _result("returns", ok, f"{stage} returned a {kind}, which {what} {predict_method}()", subject)
        )
    elif returns == "dataframe":
        ok = isinstance(output, pd.DataFrame)
        out.append(_result("returns", ok, f"{stage} returned a {kind}, expected a DataFrame", subject))

    bounds = expect.get("range")
    if bounds is not None:
        out.append(_check_range(output, float(bounds[0]), float(bounds[1]), stage, subject))
    return out


def _check_not_null(output: Any, not_null: str | Sequence[str], stage: str, subject: str) -> CheckResult:
    if not isinstance(output, pd.DataFrame):
        return _result(
            "not_null", False, f"{stage} returned a {type(output).__name__}, not a DataFrame", subject
        )
    cols = list(output.columns) if not_null == "all" else list(not_null)
    absent = [c for c in cols if c not in output.columns]
    if absent:
        return _result("not_null", False, f"{stage} output lacks the column(s) {_names(absent)}", subject)
    nulls = output[cols].isna().sum()
    bad = {str(c): int(v) for c, v in nulls.items() if v > 0}
    if bad:
        text = ", ".join(f"{c} ({v})" for c, v in list(bad.items())[:_SHOW])
        msg = f"{stage} output has missing values in {text}"
    else:
        msg = f"{stage} output has no missing values in {len(cols)} column(s)"
    return _result(
        "not_null", not bad, msg, subject, value=float(sum(bad.values())), limit=0.0, details={"nulls": bad}
    )


def _check_range(output: Any, lo: float, hi: float, stage: str, subject: str) -> CheckResult:
    if isinstance(output, pd.DataFrame):
        values = output.select_dtypes("number").to_numpy(dtype=float)
    elif isinstance(output, pd.Series | np.ndarray | list | tuple):
        try:
            values = np.asarray(output, dtype=float)
        except (TypeError, ValueError):
            return _result("range", False, f"{stage} returned non-numeric predictions", subject)
    else:
        return _result(
            "range", False, f"{stage} returned a {type(output).__name__}, not predictions", subject
        )
    if values.size == 0:
        return _result(
            "range", False, f"{stage} returned no predictions to check against [{lo:g}, {hi:g}]", subject
        )
    n_nan = int(np.isnan(values).sum())
    if n_nan:
        msg = f"{stage} returned {n_nan} NaN prediction(s)"
        return _result("range", False, msg, subject, value=float(n_nan), limit=0.0, details={"nan": n_nan})
    vmin, vmax = float(values.min()), float(values.max())
    outside = int(((values < lo) | (values > hi)).sum())
    details = {"min": vmin, "max": vmax, "outside": outside, "nan": 0}
    ok = outside == 0
    msg = (
        f"{stage} predictions lie in [{lo:g}, {hi:g}] (min {vmin:.4g}, max {vmax:.4g})"
        if ok
        else f"{stage} returned {outside} prediction(s) outside [{lo:g}, {hi:g}] "
        f"(min {vmin:.4g}, max {vmax:.4g})"
    )
    return _result("range", ok, msg, subject, value=float(outside), limit=0.0, details=details)


# --- column expectations ---------------------------------------------------------------


def _dtype_ok(s: pd.Series, dtype: str) -> bool:
    t = pd.api.types
    if dtype == "int":
        return t.is_integer_dtype(s) and not t.is_bool_dtype(s)
    if dtype == "float":  # integers are valid floats; a CSV column of whole numbers loads as int
        return t.is_numeric_dtype(s) and not t.is_bool_dtype(s)
    if dtype == "bool":
        return t.is_bool_dtype(s)
    if dtype == "datetime":
        return t.is_datetime64_any_dtype(s)
    if dtype == "str":
        return t.is_string_dtype(s) or (s.dtype == object and s.dropna().map(type).eq(str).all())
    if dtype == "category":  # a category read from CSV arrives as strings
        return isinstance(s.dtype, pd.CategoricalDtype) or t.is_string_dtype(s) or s.dtype == object
    raise UsageError(f"unknown dtype {dtype!r} (use int, float, str, category, bool or datetime)")


def check_columns(
    df: pd.DataFrame, columns: Mapping[str, Mapping[str, Any]], *, subject: str, concern: str = CONCERN
) -> list[CheckResult]:
    """Check `data.columns` rules ({column: {dtype, min, max, values, not_null, unique}}) on `df`.

    One result per column and rule; `subject` names the data set; a missing column fails.
    The rules live in columns.py, where the generated pipeline tests call them per data set.
    """
    from .columns import check_column_rules

    return check_column_rules(df, columns, subject, missing="fail", concern=concern)
