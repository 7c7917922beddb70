"""Determinism: repeated predictions and the golden predictions file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlprod.checks.determinism import (
    align_to_golden,
    check_golden,
    check_repeatable,
    read_golden,
    write_golden,
)
from mlprod.errors import UsageError


@pytest.fixture(scope="module")
def model_and_data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=80) > 0).astype(int)
    return LogisticRegression().fit(X, y), X


def test_deterministic_model_passes(model_and_data):
    model, X = model_and_data
    res = check_repeatable(lambda d: model.predict_proba(d)[:, 1], X, repeats=3, tolerance=0.0)
    assert res.passed and res.concern == "determinism" and res.value == 0.0, res.message


def test_nondeterministic_model_fails(model_and_data):
    model, X = model_and_data
    rng = np.random.default_rng(2)
    noisy = lambda d: model.predict_proba(d)[:, 1] + rng.normal(scale=1e-3, size=len(d))  # noqa: E731
    res = check_repeatable(noisy, X, repeats=3, tolerance=1e-6, subject="stage predict")
    assert not res.passed
    assert "stage predict" in res.message and "rows differ" in res.message
    assert res.value > 1e-6


def test_nan_predictions_fail():
    res = check_repeatable(lambda d: np.full(len(d), np.nan), np.zeros((5, 1)), repeats=2)
    assert not res.passed and "NaN" in res.message
    flaky = iter([np.array([0.1, 0.2]), np.array([0.1, np.nan])])
    res = check_repeatable(lambda d: next(flaky), np.zeros((2, 1)), repeats=2)
    assert not res.passed


def test_golden_roundtrip_is_exact(tmp_path, model_and_data):
    model, X = model_and_data
    scores = model.predict_proba(X)[:, 1]
    path = tmp_path / "golden" / "predictions.csv"
    write_golden(path, [f"a{i}" for i in range(len(X))], scores, "ab" * 32)
    golden = read_golden(path)
    assert golden.ids[:2] == ["a0", "a1"]
    assert golden.model_sha256 == "ab" * 32
    np.testing.assert_array_equal(golden.scores, scores)  # bit-exact through repr(float)
    res = check_golden(scores, golden, tolerance=0.0, model_sha256="ab" * 32)
    assert res.passed, res.message
    assert path.read_text().splitlines()[1] == "id,score"


def test_changed_predictions_fail_with_count_and_max(tmp_path):
    path = tmp_path / "g.csv"
    write_golden(path, range(4), [0.1, 0.2, 0.3, 0.4], None)
    golden = read_golden(path)
    res = check_golden(np.array([0.1, 0.25, 0.3, 0.4001]), golden, tolerance=1e-9)
    assert not res.passed
    assert res.message.startswith("2 of 4 predictions differ")
    assert res.value == pytest.approx(0.05)


def test_model_hash_mismatch_is_reported(tmp_path):
    path = tmp_path / "g.csv"
    write_golden(path, [1, 2], [0.1, 0.2], "abc123" + "0" * 58)
    res = check_golden([0.1, 0.2], read_golden(path), 1e-9, model_sha256="def456" + "0" * 58)
    assert not res.passed
    assert "recorded with model abc123" in res.message and "def456" in res.message
    assert "mlprod record" in res.message


def test_nan_against_golden_fails(tmp_path):
    path = tmp_path / "g.csv"
    write_golden(path, [1, 2], [0.1, 0.2], None)
    res = check_golden([0.1, np.nan], read_golden(path), 1e-9)
    assert not res.passed and res.details["rows_differing"] == 1


def test_hand_written_golden_and_bad_files(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("id,score\nx,0.5\n")
    golden = read_golden(path)
    assert golden.ids == ["x"] and golden.model_sha256 is None
    path.write_text("a,b\n1,2\n")
    with pytest.raises(UsageError, match="header"):
        read_golden(path)
    path.write_text("id,score\n1,high\n")
    with pytest.raises(UsageError, match="non-numeric"):
        read_golden(path)
    with pytest.raises(UsageError, match="mlprod record"):
        read_golden(tmp_path / "missing.csv")


def test_align_to_golden_by_id_and_position(tmp_path):
    df = pd.DataFrame({"id": [10, 11, 12, 13], "x": [0.0, 1.0, 2.0, 3.0]})
    path = tmp_path / "g.csv"
    write_golden(path, [12, 10], [0.2, 0.0], None)
    golden = read_golden(path)
    assert align_to_golden(df.sample(frac=1, random_state=3), golden, "id")["x"].tolist() == [2.0, 0.0]
    with pytest.raises(UsageError, match="has row 12"):
        align_to_golden(df, golden, None)  # without an id column, ids are row positions
    write_golden(path, [2, 0], [0.2, 0.0], None)
    assert align_to_golden(df, read_golden(path), None)["id"].tolist() == [12, 10]
    with pytest.raises(UsageError, match="not in the data set"):
        align_to_golden(df[df["id"] != 12], golden, "id")


def test_golden_format_2_round_trips_odd_class_labels(tmp_path):
    """Labels with spaces, brackets, commas, unicode and a line break survive write and read."""
    from mlprod.checks.formats import golden_text
    from mlprod.checks.metrics_multiclass import ClassProba

    classes = [" a", "a b", "a_b", "x]y,z", "é\nü"]
    proba = ClassProba(np.eye(5)[[4, 0, 3]] * 0.6 + 0.08, classes)
    path = tmp_path / "golden.csv"
    path.write_text(golden_text(["1", "2", "3"], proba, None), encoding="utf-8")
    golden = read_golden(path)
    assert golden.classes == classes and golden.labels == ["é\nü", " a", "x]y,z"]
