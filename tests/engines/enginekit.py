"""Shared helpers of the engine tests: the engines to run, and mixed test data."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from mlprod.engines import available, create

ENGINE_NAMES = ("pandas", "duckdb", "spark")


def skip_reason(name: str) -> str | None:
    """Why engine `name` cannot run here (None when it can)."""
    why = available(name)
    if why:
        return why
    if name == "spark" and shutil.which("java") is None:
        return "the spark engine needs Java 17 (no `java` on PATH)"
    return None


def engine_params() -> list:
    """pytest params over every engine, each skipped with its reason when unavailable."""
    out = []
    for name in ENGINE_NAMES:
        why = skip_reason(name)
        marks = [pytest.mark.skip(reason=why)] if why else []
        out.append(pytest.param(name, marks=marks, id=name))
    return out


def make_engine(name: str):
    """An engine for tests (spark on local[2] with few shuffle partitions)."""
    if name == "spark":
        return create("spark", {"master": "local[2]", "conf": {"spark.sql.shuffle.partitions": "4"}})
    return create(name)


def mixed_frame(n: int, seed: int, *, shift: float = 0.0) -> pd.DataFrame:
    """Numeric (normal, heavy tail, flags, constant, zero-inflated, NaN), text and categories."""
    rng = np.random.default_rng(seed)
    normal = rng.normal(shift, 1.0, n)
    normal[rng.random(n) < 0.05] = np.nan
    heavy = rng.standard_t(2, n) * 10 + shift
    zero = np.where(rng.random(n) < 0.6, 0.0, rng.lognormal(3, 1, n))
    ints = rng.integers(0, 1000, n).astype("int64")
    flag = (rng.random(n) < 0.3 + 0.05 * shift).astype("int64")
    levels = rng.choice([1.0, 2.0, 3.0, 5.0], n, p=[0.4, 0.3, 0.2, 0.1])
    levels[rng.random(n) < 0.02] = np.nan
    cat = rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    cat[rng.random(n) < 0.03] = None
    city = rng.choice([f"city_{i}" for i in range(40)], n).astype(object)
    email = np.where(rng.random(n) < 0.01, [f"user{i}@example.com" for i in range(n)], "none").astype(object)
    pii = np.array(
        [
            "ok",
            "call +44 20 7946 0958",
            "card 4111 1111 1111 1111",
            "iban GB82 WEST 1234 5698 7654 32",
            "order 12",
        ],
        dtype=object,
    )
    contact = pii[rng.choice(5, n, p=[0.9, 0.03, 0.03, 0.02, 0.02])]
    return pd.DataFrame(
        {
            "id": np.arange(n, dtype="int64"),
            "normal": normal,
            "heavy": heavy,
            "zero_inflated": zero,
            "ints": ints,
            "flag": flag,
            "levels": levels,
            "constant": np.full(n, 7.0),
            "all_nan": np.full(n, np.nan),
            "cat": cat,
            "city": city,
            "note": email,
            "contact": contact,
            "age": rng.integers(18, 80, n).astype("int64"),
            "label": (rng.random(n) < 0.3).astype("int64"),
            "score": rng.random(n),
        }
    )
