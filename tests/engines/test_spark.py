"""The Spark engine beyond the shared protocol tests: sessions, sources, filters, approximate quantiles.

Every number is compared with the pandas engine (or numpy) on the same data. One local[2]
session serves the whole module (and the process); the data is small, so the module runs in
well under a minute once the JVM is up. Skipped, with the reason, where pyspark or Java is
absent.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from enginekit import make_engine, mixed_frame, skip_reason

from mlprod.engines import EngineError, Filter, Not, ScanRequest, create

WHY = skip_reason("spark")
pytestmark = pytest.mark.skipif(WHY is not None, reason=WHY or "")
N = 5_000


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return mixed_frame(N, 11)


@pytest.fixture(scope="module")
def engines():
    return make_engine("spark"), make_engine("pandas")


@pytest.fixture(scope="module")
def parts(frame, tmp_path_factory):
    """The frame as three Parquet files of a glob (sorted names out of creation order)."""
    folder = tmp_path_factory.mktemp("parts")
    bounds = [0, 1_000, 3_500, N]
    for name, (a, b) in zip(["b.parquet", "a.parquet", "c.parquet"], itertools.pairwise(bounds), strict=True):
        frame.iloc[a:b].to_parquet(folder / name, index=False)
    return str(folder / "*.parquet")


def test_session_is_shared_and_survives_close(engines):
    spark, _ = engines
    other = create("spark", {"master": "local[2]", "conf": {"spark.sql.shuffle.partitions": "3"}})
    assert other.spark is spark.spark  # one JVM per process
    assert spark.spark.conf.get("spark.sql.shuffle.partitions") == "3"  # runtime conf applied
    other.close()
    assert spark.spark.range(3).count() == 3
    with pytest.raises(EngineError, match="either master or remote"):
        create("spark", {"master": "local[2]", "remote": "sc://localhost:15002"})


def test_glob_counts_and_sample_equal_pandas(engines, parts, frame):
    spark, pandas = engines
    s, p = spark.from_path(parts), pandas.from_path(parts)
    request = ScanRequest(
        thresholds={"normal": [-1.0, 0.0, 1.0], "heavy": list(np.linspace(-20, 20, 60))},  # 60: the wide path
        values=["cat", "flag", "levels"],
        stats=["normal", "ints", "cat"],
        distinct=["ints", "cat"],
    )
    got, want = s.scan(request), p.scan(request)
    assert got.rows == want.rows == N
    for c in request.thresholds:
        assert got.counts[c].tolist() == want.counts[c].tolist()
    assert got.values == want.values
    for c in request.stats:
        g, w = got.stats[c], want.stats[c]
        assert (g.n, g.missing, g.distinct) == (w.n, w.missing, w.distinct)
        for a in ("min", "max", "mean", "std", "skew"):
            gv, wv = getattr(g, a), getattr(w, a)
            assert gv == wv if wv is None else gv == pytest.approx(wv, rel=1e-9, abs=1e-12)
    # row numbers follow the glob's sorted files, so samples without an id are the same rows
    pd.testing.assert_frame_equal(
        s.sample(20, 5, columns=["id", "cat"]), p.sample(20, 5, columns=["id", "cat"]).reset_index(drop=True)
    )


def test_approximate_quantiles_within_stated_rank_error(engines, parts, frame):
    spark = create("spark", {"master": "local[2]", "exact_rows": 1_000})  # force the approximate path
    probs = [0.01, 0.1, 0.5, 0.9, 0.99]
    table = spark.from_path(parts)
    scan = table.scan(ScanRequest(quantiles={"heavy": probs, "zero_inflated": probs}))
    assert 0 < scan.rank_error < 0.1  # hashed slice (1/5 of the rows) + DKW: stated, not zero
    for c in ("heavy", "zero_inflated"):
        v = np.sort(frame[c].to_numpy())
        for p, q in zip(probs, scan.quantiles[c], strict=True):
            lo, hi = np.searchsorted(v, q, side="left") / v.size, np.searchsorted(v, q, side="right") / v.size
            assert lo - scan.rank_error <= p <= hi + scan.rank_error, (c, p, q)
    csv = spark.from_frame(frame[["heavy"]])  # not Parquet: percentile_approx of every row
    scan = csv.scan(ScanRequest(quantiles={"heavy": probs}))
    assert scan.rank_error == pytest.approx(0.001)
    v = np.sort(frame["heavy"].to_numpy())
    ranks = np.searchsorted(v, scan.quantiles["heavy"], side="right") / v.size
    assert np.abs(ranks - probs).max() <= 0.001 + 1 / v.size


def test_filters_are_values_never_sql(engines, frame, tmp_path):
    spark, pandas = engines
    odd = frame[["id", "cat", "age"]].rename(columns={"cat": "we`ird.name", "age": "age group"})
    odd.loc[:4, "we`ird.name"] = "a' OR '1'='1"
    path = tmp_path / "odd.parquet"
    odd.to_parquet(path, index=False)
    s, p = spark.from_path(str(path)), pandas.from_path(str(path))
    for where in [
        (Filter("we`ird.name", "==", "a' OR '1'='1"),),
        (Filter("we`ird.name", "in", ["a", "x) OR (1=1"]), Filter("age group", ">=", 40)),
        (Not((Filter("we`ird.name", "!=", "b"),)),),
    ]:
        assert s.row_count(where) == p.row_count(where), where
    assert s.row_count((Filter("we`ird.name", "==", "a' OR '1'='1"),)) == 5


def test_catalog_table_csv_and_json(engines, frame, tmp_path):
    spark, pandas = engines
    small = frame[["id", "cat", "ints"]]
    spark.spark.createDataFrame(small.astype({"cat": object})).createOrReplaceTempView("mlprod_test_small")
    table = spark.from_table("mlprod_test_small")
    want = pandas.from_frame(small).value_counts(["cat", "ints"])
    assert table.value_counts(["cat", "ints"]) == want
    small.to_csv(tmp_path / "small.csv", index=False)
    with open(tmp_path / "small.jsonl", "w") as fh:
        for rec in small.head(100).to_dict("records"):
            fh.write(json.dumps({k: (None if pd.isna(v) else v) for k, v in rec.items()}) + "\n")
    assert spark.from_path(str(tmp_path / "small.csv")).value_counts(["ints"]) == want_ints(small)
    assert spark.from_path(str(tmp_path / "small.jsonl")).row_count() == 100
    with pytest.raises(EngineError, match="no table"):
        spark.from_table("no_such_table_here")
    with pytest.raises(EngineError, match="no data file"):
        spark.from_path(str(tmp_path / "missing-*.parquet"))


def want_ints(df: pd.DataFrame) -> dict:
    return {"ints": {int(k): int(v) for k, v in df["ints"].value_counts().items()}}
