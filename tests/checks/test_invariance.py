"""Determinism across batches and processes: the two defects a same-process repeat cannot see."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlprod.checks.invariance import check_batch_invariance, check_process_invariance, other_hash_seed
from mlprod.checks.project import Project


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = (X["a"] + rng.normal(size=300) > 0).astype(int)
    return X, y


def test_a_healthy_model_is_batch_invariant(data):
    X, y = data
    model = LogisticRegression().fit(X, y)
    r = check_batch_invariance(lambda d: model.predict_proba(d)[:, 1], X, 50, 1e-9)
    assert r.passed and r.details["rows"] == 50 and r.judged


def test_a_batch_normalizing_model_fails_naming_a_row(data):
    X, y = data
    model = LogisticRegression().fit(X, y)

    def scaled(d):  # a scaler fitted on the incoming batch
        z = (d - d.mean()) / d.std(ddof=0).replace(0, 1)
        return model.predict_proba(z)[:, 1]

    r = check_batch_invariance(scaled, X, 50, 1e-9)
    assert not r.passed and r.details["alone_differing"] > 0
    assert "scored alone differ from their score in the 300-row batch" in r.message


def test_an_order_dependent_model_fails_on_the_shuffled_batch(data):
    X, _ = data

    def ranked(d):  # a score that depends on the position in the batch
        return np.linspace(0, 1, len(d)) if len(d) > 1 else np.array([0.5])

    r = check_batch_invariance(ranked, X, 10, 1e-9)
    assert not r.passed and r.details["shuffled_differing"] > 0 and "shuffled" in r.message


def test_process_comparison_and_hash_seed():
    here = np.array([0.1, 0.2, np.nan])
    assert check_process_invariance(here, [0.1, 0.2, float("nan")], 1e-9, threads=2, rows_label="r").passed
    bad = check_process_invariance(here, [0.1, 0.3, float("nan")], 1e-9, threads=2, rows_label="r")
    assert not bad.passed and "1 of 3 rows of r differ" in bad.message
    assert other_hash_seed() != os.environ.get("PYTHONHASHSEED")


MODEL = """
import numpy as np


class Model:
    def predict_proba(self, X):
        p = 1 / (1 + np.exp(-X["a"].to_numpy()))
        {extra}
        return np.column_stack([1 - p, p])


def load():
    return Model()
"""


def _project(tmp_path: Path, extra: str, name: str) -> Project:
    rng = np.random.default_rng(1)
    pd.DataFrame({"a": rng.normal(size=40)}).to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / f"{name}.py").write_text(MODEL.replace("{extra}", extra), encoding="utf-8")
    config = {"features": ["a"], "datasets": {"d": "d.csv"}, "model": {"load": f"{name}:load"}}
    return Project(tmp_path, config)


def test_a_fresh_process_scores_a_healthy_model_the_same(tmp_path):
    r = _project(tmp_path, "pass", "healthy_model").check_process_invariance("d", 2, 1e-9)
    assert r.passed, r.message
    assert "PYTHONHASHSEED=" in r.message and "2 BLAS/OpenMP threads" in r.message


def test_a_hash_seed_dependent_model_fails_in_a_fresh_process(tmp_path):
    extra = "p = p + (hash('credit') % 1000003) * 1e-9"
    r = _project(tmp_path, extra, "hashed_model").check_process_invariance("d", 2, 1e-9)
    assert not r.passed and "predictions depend on the process: 40 of 40 rows" in r.message


def test_a_model_that_cannot_load_in_a_fresh_process_fails(tmp_path):
    project = _project(tmp_path, "pass", "gone_model")
    project.predict_fn()  # loaded here ...
    (tmp_path / "gone_model.py").write_text("raise ImportError('gone')\n", encoding="utf-8")
    r = project.check_process_invariance("d", 1, 1e-9)  # ... but not there
    assert not r.passed and "could not score in a fresh process" in r.message and "gone" in r.message
