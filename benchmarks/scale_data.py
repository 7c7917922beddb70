"""The `--scale` data: two Parquet files of N rows x 25 columns with a seeded shift in 3 columns.

Columns: `x0`..`x19` numeric (normal, lognormal, integer, exponential with missing values,
a heavy-tailed Student t with 1 degree of freedom, a 0/1 flag, a near-constant column, ...)
and `c0`..`c4` categorical strings (2 to 50 categories, one with missing values). The current
file shifts exactly `x3` (mean +0.6 sd), `x7` (scale x1.6) and `c1` (shares reversed plus an
unseen category); every other column has the same distribution in both files, so at millions
of rows its PSI is ~1e-5 and a drift check that flags it is wrong.

Written in row groups of 1M rows with pyarrow (each chunk seeded by (seed, side, chunk)), so
generation holds one chunk in memory (~300 MB) whatever the row count. Imports numpy and
pyarrow only inside the function: run.py imports this module in any environment.
"""

from __future__ import annotations

from pathlib import Path

SHIFTED = ["x3", "x7", "c1"]
NUMERIC = [f"x{i}" for i in range(20)]
CATEGORICAL = [f"c{j}" for j in range(5)]
CHUNK = 1_000_000
VERSION = "v1"  # bump when the generator changes, so a stale cache is not reused
_CATS = [4, 8, 12, 2, 50]


def _chunk(rng, n: int, current: bool):
    import numpy as np
    import pyarrow as pa

    cols: dict[str, object] = {}
    for i in range(20):
        kind = i % 10
        if kind == 0:
            v = rng.normal(i, 1.0, n)
        elif kind == 1:
            v = rng.lognormal(8, 0.6, n)
        elif kind == 2:
            v = rng.integers(0, 100, n)
        elif kind == 3:  # x3, x13
            v = rng.normal(0.6 if current and i == 3 else 0.0, 1.0, n)
        elif kind == 4:  # exponential with 2 % missing values
            v = rng.exponential(2.0, n)
            v[rng.random(n) < 0.02] = np.nan
        elif kind == 5:  # heavy-tailed: Student t with 1 degree of freedom (Cauchy)
            v = rng.standard_t(1.0, n)
        elif kind == 6:  # a 0/1 flag
            v = (rng.random(n) < 0.1).astype(np.int64)
        elif kind == 7:  # x7, x17: gamma; x7's scale grows by 60 % in the current file
            v = rng.gamma(2.0, 1.6 if current and i == 7 else 1.0, n)
        elif kind == 8:  # near-constant: 0 in 99.9 % of rows
            v = np.where(rng.random(n) < 0.001, rng.integers(1, 5, n), 0).astype(np.float64)
        else:
            v = rng.uniform(-1.0, 1.0, n)
        cols[f"x{i}"] = v
    for j, k in enumerate(_CATS):
        p = np.linspace(1.0, 3.0, k)
        labels = [f"{chr(ord('a') + j)}{m}" for m in range(k)]
        if current and j == 1:
            p, labels = p[::-1].copy(), [*labels, "b_unseen"]
            p = np.r_[p, p.sum() * 0.05]
        idx = rng.choice(len(labels), n, p=p / p.sum()).astype(np.int32)
        arr = pa.DictionaryArray.from_arrays(pa.array(idx), pa.array(labels)).cast(pa.string())
        if j == 2:  # 1 % missing
            arr = pa.compute.if_else(pa.array(rng.random(n) < 0.01), pa.scalar(None, pa.string()), arr)
        cols[f"c{j}"] = arr
    return pa.table(cols)


def make_scale_data(folder: Path, rows: int, seed: int = 0) -> tuple[Path, Path]:
    """(reference, current) Parquet paths under `folder`, written once and cached."""
    import numpy as np
    import pyarrow.parquet as pq

    out = folder / f"scale_rows{rows}_seed{seed}_{VERSION}"
    ref, cur = out / "ref.parquet", out / "cur.parquet"
    if (out / ".complete").exists():
        return ref, cur
    out.mkdir(parents=True, exist_ok=True)
    for side, path in enumerate((ref, cur)):
        writer = None
        tmp = path.with_suffix(".tmp")
        for k, start in enumerate(range(0, rows, CHUNK)):
            rng = np.random.default_rng([seed, side, k])
            table = _chunk(rng, min(CHUNK, rows - start), current=side == 1)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="snappy")
            writer.write_table(table, row_group_size=CHUNK)
        assert writer is not None
        writer.close()
        tmp.rename(path)
    (out / ".complete").write_text(f"{rows} rows, seed {seed}\n")
    return ref, cur
