"""Every engine answers the protocol primitives as an independent numpy/pandas computation does."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from enginekit import engine_params, make_engine, mixed_frame

from mlprod.engines import Bucket, Col, Filter, Match, Not, ScanRequest, sample_key

N = 20_000


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return mixed_frame(N, 3)


@pytest.fixture(scope="module", params=engine_params())
def table(request, frame, tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "mixed.parquet"
    frame.to_parquet(path, index=False)
    engine = make_engine(request.param)
    yield engine.from_path(str(path), name="mixed")
    engine.close()


def _valid(frame, c):
    x = frame[c].to_numpy(dtype=float, na_value=np.nan)
    return x[~np.isnan(x)]


def test_kinds(table):
    k = table.kinds()
    assert k["normal"] == k["ints"] == k["flag"] == "numeric"
    assert k["cat"] == k["city"] == "text"


def test_threshold_counts_are_exact(table, frame):
    t = [-1.0, 0.0, float(np.nextafter(0.5, -np.inf)), 0.5, 2.0]
    got = table.binned_counts({"normal": t, "zero_inflated": [0.0, 10.0]})
    x = frame["normal"].to_numpy()
    v = x[~np.isnan(x)]
    edges = np.r_[-np.inf, t, np.inf]
    want = [np.count_nonzero((v > a) & (v <= b)) for a, b in itertools.pairwise(edges)]
    assert got["normal"].tolist() == [*want, np.isnan(x).sum()]
    z = frame["zero_inflated"].to_numpy()
    assert got["zero_inflated"].tolist() == [(z <= 0).sum(), ((z > 0) & (z <= 10)).sum(), (z > 10).sum(), 0]


def test_quantiles_within_stated_rank_error(table, frame):
    probs = [0.1, 0.25, 0.5, 0.75, 0.9]
    scan = table.scan(ScanRequest(quantiles={"heavy": probs, "normal": probs, "all_nan": probs}))
    for c in ("heavy", "normal"):
        v = np.sort(_valid(frame, c))
        for p, q in zip(probs, scan.quantiles[c], strict=True):
            rank = np.searchsorted(v, q, side="right") / v.size
            assert abs(rank - p) <= scan.rank_error + 2 / v.size, (c, p, q)
        if scan.rank_error == 0:
            np.testing.assert_allclose(scan.quantiles[c], np.quantile(v, probs), rtol=1e-12)
    assert np.isnan(scan.quantiles["all_nan"]).all()


def test_value_counts_and_few(table, frame):
    scan = table.scan(ScanRequest(values=["cat", "flag"], few={"levels": 10, "normal": 10, "flag": 2}))
    want = frame["cat"].value_counts(dropna=False)
    got = scan.values["cat"]
    assert got[None] == frame["cat"].isna().sum()
    assert {k: v for k, v in got.items() if k is not None} == {
        k: int(v) for k, v in want.items() if pd.notna(k)
    }
    assert scan.values["flag"] == {int(k): int(v) for k, v in frame["flag"].value_counts().items()}
    assert scan.few["normal"] is None
    assert {float(k): v for k, v in scan.few["levels"].items()} == {
        float(k): int(v) for k, v in frame["levels"].value_counts().items()
    }
    assert sum(scan.few["flag"].values()) == N


def test_stats(table, frame):
    stats = table.column_stats(["normal", "constant", "all_nan", "cat", "ints"], distinct=True)
    from scipy.stats import skew

    v = _valid(frame, "normal")
    s = stats["normal"]
    assert (s.n, s.missing, s.distinct) == (N, N - v.size, np.unique(v).size)
    np.testing.assert_allclose(
        [s.min, s.max, s.mean, s.std, s.skew],
        [v.min(), v.max(), v.mean(), v.std(), skew(v)],
        rtol=1e-9,
        atol=1e-12,
    )
    assert stats["constant"].skew == 0.0 and stats["constant"].std == pytest.approx(0.0)
    assert stats["all_nan"].missing == N and stats["all_nan"].min is None
    assert stats["cat"].missing == frame["cat"].isna().sum() and stats["cat"].distinct == 4
    assert stats["ints"].distinct == frame["ints"].nunique()


def test_filters_never_match_missing(table, frame):
    ne = table.row_count((Filter("normal", "!=", 0.0),))
    assert ne == frame["normal"].notna().sum()
    notin = table.row_count((Filter("cat", "not_in", ["a"]),))
    assert notin == (frame["cat"].notna() & (frame["cat"] != "a")).sum()
    both = table.row_count((Filter("age", ">=", 30), Filter("cat", "in", ["a", "b"])))
    assert both == ((frame["age"] >= 30) & frame["cat"].isin(["a", "b"])).sum()
    rest = table.row_count((Not((Filter("age", ">=", 30), Filter("cat", "in", ["a", "b"]))),))
    assert rest == N - both


def test_group_counts(table, frame):
    got = table.group_counts([Bucket("age", (18, 30, 50)), Col("label")])
    codes = np.searchsorted([18, 30, 50], frame["age"], side="right") - 1
    codes[(codes < 0) | (codes >= 2)] = -1
    want = pd.DataFrame({"b": codes, "y": frame["label"]}).groupby(["b", "y"]).size()
    assert got == {(int(b), int(y)): int(n) for (b, y), n in want.items()}
    m = table.group_counts([Match((Filter("cat", "==", "a"),))])
    assert m[(True,)] == (frame["cat"] == "a").sum() and m[(True,)] + m[(False,)] == N
    small = table.group_counts([Col("city"), Col("flag")], below=260)
    full = frame.groupby(["city", "flag"]).size()
    assert small == {(c, int(f)): int(n) for (c, f), n in full.items() if n < 260}


def test_score_histograms(table, frame):
    edges = np.linspace(0, 1, 11)
    edges[-1] = np.nextafter(1.0, 2.0)
    got = table.score_histograms("score", edges, [Col("label")])
    for y in (0, 1):
        want, _ = np.histogram(frame.loc[frame["label"] == y, "score"], bins=edges)
        assert got[(y,)].tolist() == want.tolist()


def test_candidates(table, frame):
    got = table.candidates("note", "[0-9]+@")
    want = frame["note"][frame["note"].str.contains("[0-9]+@")].value_counts()
    assert got == {k: int(v) for k, v in want.items()}


def test_sample_is_the_same_rows_everywhere(table, frame):
    s = table.sample(25, 7, id_column="id", columns=["id", "normal"])
    keys = sorted((sample_key(7, i), i) for i in frame["id"])[:25]
    assert s["id"].tolist() == [i for _, i in keys]
    r = table.sample(10, 7, columns=["id"])
    keys = sorted((sample_key(7, i), i) for i in range(N))[:10]
    assert r["id"].tolist() == [i for _, i in keys]
