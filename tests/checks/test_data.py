"""Data loading, sampling, hashing, stage `expect` and column expectations."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from mlprod.checks.data import (
    DataFileNotFoundError,
    UnsupportedFormatError,
    check_columns,
    check_expect,
    file_sha256,
    load_table,
    sample_rows,
)


@pytest.fixture
def df():
    return pd.DataFrame(
        {
            "age": [22, 35, 51, 70],
            "amount": [1000.0, 2500.5, np.nan, 400.0],
            "housing": ["own", "rent", "rent", "castle"],
            "default": [0, 1, 0, 1],
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_load_table_by_suffix(tmp_path, df, suffix):
    path = tmp_path / f"d{suffix}"
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix == ".parquet":
        df.to_parquet(path)
    else:
        df.to_json(path, orient="records", lines=True)
    got = load_table(path)
    pd.testing.assert_frame_equal(got, df, check_dtype=False)


def test_load_table_errors_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.csv") as exc:
        load_table(tmp_path / "missing.csv")
    assert isinstance(exc.value, DataFileNotFoundError) and exc.value.exit_code == 3
    (tmp_path / "x.xlsx").write_text("")
    with pytest.raises(UnsupportedFormatError, match=r"x\.xlsx"):
        load_table(tmp_path / "x.xlsx")


def test_sample_rows_is_deterministic_and_ordered():
    big = pd.DataFrame({"i": range(1000)})
    a, b = sample_rows(big, 50, 42), sample_rows(big, 50, 42)
    assert a["i"].tolist() == b["i"].tolist() and len(a) == 50
    assert a["i"].is_monotonic_increasing and a["i"].is_unique
    assert sample_rows(big, 50, 43)["i"].tolist() != a["i"].tolist()
    assert sample_rows(big, 1000, 1) is big and sample_rows(big, 5000, 1) is big


def test_file_sha256_streams_to_the_same_digest(tmp_path):
    data = np.random.default_rng(0).bytes(3 * (1 << 20) + 17)  # several 1 MiB chunks plus a tail
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    with pytest.raises(FileNotFoundError):
        file_sha256(tmp_path / "nope")


def _by_check(results):
    return {r.check: r for r in results}


def test_expect_passes_on_a_good_stage(df):
    exp = {
        "min_rows": 2,
        "max_rows": 10,
        "rows": "preserved",
        "columns": ["age", "default"],
        "columns_exclude": ["sex"],
        "not_null": ["age", "default"],
    }
    res = check_expect(df, exp, subject="ingest", first_input=df)
    assert [r.check for r in res] == [
        "min_rows",
        "max_rows",
        "rows_preserved",
        "columns",
        "columns_exclude",
        "not_null",
    ]
    assert all(r.passed and r.concern == "pipeline" and r.subject == "ingest" for r in res), [
        r.message for r in res
    ]


def test_expect_failures_name_the_stage_and_columns(df):
    exp = {
        "min_rows": 10,
        "rows": "preserved",
        "columns": ["age", "sex"],
        "columns_exclude": ["housing"],
        "not_null": "all",
    }
    res = _by_check(check_expect(df.iloc[:3], exp, subject="features", first_input=df))
    assert not any(r.passed for r in res.values())
    assert res["min_rows"].message == "stage features returned 3 rows < 10"
    assert res["rows_preserved"].message == "stage features returned 3 rows from 4 input rows"
    assert "sex" in res["columns"].message and "housing" in res["columns_exclude"].message
    assert res["not_null"].message == "stage features output has missing values in amount (1)"


def test_expect_rows_preserved_without_input_fails():
    res = check_expect(pd.DataFrame({"a": [1]}), {"rows": "preserved"}, subject="s")
    assert not res[0].passed and "no DataFrame input" in res[0].message


def test_expect_returns_model_uses_the_predict_method(df):
    class Model:
        def predict_proba(self, X):
            return X

    assert check_expect(Model(), {"returns": "model"}, subject="fit")[0].passed
    bad = check_expect(Model(), {"returns": "model"}, subject="fit", predict_method="predict")[0]
    assert not bad.passed and "lacks predict()" in bad.message
    assert not check_expect(Model(), {"min_rows": 1}, subject="fit")[0].passed
    assert check_expect(df, {"returns": "dataframe"}, subject="x")[0].passed


@pytest.mark.parametrize(
    ("output", "ok", "text"),
    [
        (np.array([0.0, 0.5, 1.0]), True, "lie in [0, 1]"),
        (pd.Series([0.2, 1.2]), False, "1 prediction(s) outside [0, 1]"),
        (np.array([[0.1, 0.9], [np.nan, 0.5]]), False, "1 NaN prediction(s)"),
        (pd.DataFrame({"p": [0.1, -0.5], "id": ["a", "b"]}), False, "outside"),
        (np.array([]), False, "no predictions"),
    ],
)
def test_expect_range(output, ok, text):
    r = check_expect(output, {"range": [0.0, 1.0]}, subject="predict")[0]
    assert r.passed is ok and text in r.message and r.message.startswith("stage predict")


def test_check_columns(df):
    spec = {
        "age": {"dtype": "int", "min": 18, "max": 60},
        "amount": {"dtype": "float", "min": 0, "not_null": True},
        "housing": {"dtype": "category", "values": ["own", "rent", "for free"]},
        "default": {"dtype": "str"},
        "missing_col": {"dtype": "int"},
    }
    res = {(r.subject, r.check): r for r in check_columns(df, spec, subject="train")}
    assert res[("train.age", "dtype")].passed and res[("train.age", "min")].passed
    assert not res[("train.age", "max")].passed and res[("train.age", "max")].message == (
        "data set train, column age: 1 values above max 60 (e.g. 70)"
    )
    assert res[("train.amount", "dtype")].passed and res[("train.amount", "min")].passed
    assert not res[("train.amount", "not_null")].passed
    assert (
        not res[("train.housing", "values")].passed and "castle" in res[("train.housing", "values")].message
    )
    assert not res[("train.default", "dtype")].passed
    assert not res[("train.missing_col", "column_present")].passed


def test_check_columns_all_missing_min_is_explicit():
    res = check_columns(pd.DataFrame({"x": [np.nan, np.nan]}), {"x": {"min": 0}}, subject="d")
    assert not res[0].passed and "has no values" in res[0].message


def test_column_rules_name_data_set_column_bound_count_and_examples():
    from mlprod.checks.columns import check_column_rules

    df = pd.DataFrame(
        {
            "age": [17, 12, 40, 17, 130],
            "housing": ["own", "castle", "castle", "rent", None],
            "id": [1, 2, 2, 3, 4],
        }
    )
    rules = {
        "age": {"min": 18, "max": 100},
        "housing": {"values": ["own", "rent"], "not_null": True},
        "id": {"unique": True, "dtype": "int"},
        "absent": {"min": 0},
    }
    res = {(r.subject, r.check): r for r in check_column_rules(df, rules, "current")}
    assert ("current.absent", "min") not in res  # rules apply where the column is
    low = res[("current.age", "min")]
    assert not low.passed and low.value == 3
    assert low.message == "data set current, column age: 3 values below min 18 (e.g. 12, 17)"
    assert "1 values above max 100 (e.g. 130)" in res[("current.age", "max")].message
    bad = res[("current.housing", "values")]
    assert (
        not bad.passed
        and "2 values outside the allowed set ['own', 'rent'] (e.g. 'castle' x2)" in bad.message
    )
    assert "1 missing values (rows 4)" in res[("current.housing", "not_null")].message
    dup = res[("current.id", "unique")]
    assert not dup.passed and "2 values not unique (e.g. '2' x2)" in dup.message
    assert res[("current.id", "dtype")].passed
    none = check_column_rules(df, {"other": {"min": 0}}, "train")
    assert len(none) == 1 and not none[0].judged and "nothing to judge" in none[0].message


def test_deployed_scores_of_a_stage_output():
    from mlprod.checks.pipeline_scoring import check_scores_of_stage, feature_stage

    outputs = {
        "ingest": pd.DataFrame({"a": [1]}),
        "features": pd.DataFrame({"a": [1], "b": [2]}),
        "fit": object(),
    }
    assert feature_stage(dict.fromkeys(outputs), outputs, ["a", "b"]) == "features"
    assert feature_stage(dict.fromkeys(outputs), outputs, ["z"]) is None
    good = check_scores_of_stage(np.array([0.1, 0.9]), 2, "features", bounded=True)
    assert all(r.passed for r in good) and len(good) == 3
    bad = {
        r.check: r for r in check_scores_of_stage(np.array([0.1, np.nan, 1.5]), 2, "features", bounded=True)
    }
    assert not bad["deployed_shape"].passed and "3 predictions for 2 rows" in bad["deployed_shape"].message
    assert not bad["deployed_finite"].passed and not bad["deployed_range"].passed
    assert "1 probabilities outside [0, 1] (e.g. 1.5)" in bad["deployed_range"].message
    text = check_scores_of_stage(np.array(["a", "b"]), 2, "features", bounded=False)
    assert not text[0].passed and "non-numeric" in text[0].message
