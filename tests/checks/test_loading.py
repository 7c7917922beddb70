"""Loading user callables and models: import on call, seed passing, load(path) vs joblib."""

from __future__ import annotations

import textwrap
import uuid

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from mlprod.checks.loading import call_stage, load_callable, load_model, load_previous, predict_scores
from mlprod.errors import RefusedError, UsageError


def _module(tmp_path, body: str) -> str:
    """Write a uniquely named module into tmp_path and return its name."""
    name = f"m_{uuid.uuid4().hex[:10]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    return name


def test_load_callable_resolves_dotted_attributes():
    assert load_callable("os.path:join")("a", "b") == "a/b"
    assert load_callable("json:JSONDecoder.decode") is __import__("json").JSONDecoder.decode


@pytest.mark.parametrize("ref", ["nocolon", "a:b:c", "1mod:x", "mod:", ":x", "mod:x-y"])
def test_load_callable_rejects_bad_references(ref):
    with pytest.raises(UsageError, match="module:callable"):
        load_callable(ref)


def test_load_callable_names_missing_module_and_attribute():
    with pytest.raises(UsageError, match="cannot import module 'no_such_mod_xyz'"):
        load_callable("no_such_mod_xyz:f")
    with pytest.raises(UsageError, match="has no attribute 'nope'"):
        load_callable("os.path:nope")
    with pytest.raises(UsageError, match="not callable"):
        load_callable("math:pi")


def test_load_callable_reports_error_inside_user_module(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    name = _module(tmp_path, "import missing_dependency_xyz\n")
    with pytest.raises(UsageError, match="failed"):
        load_callable(f"{name}:f")


def test_call_stage_passes_seed_only_when_accepted():
    def with_seed(a, b, seed=None):
        return (a, b, seed)

    def without_seed(a, b):
        return (a, b)

    def with_kwargs(a, **kw):
        return (a, kw)

    assert call_stage(with_seed, [1, 2], seed=7) == (1, 2, 7)
    assert call_stage(without_seed, [1, 2], seed=7) == (1, 2)
    assert call_stage(with_kwargs, [1], seed=7) == (1, {"seed": 7})
    assert call_stage(with_seed, [1, 2], seed=None) == (1, 2, None)


def test_load_model_calls_load_without_arguments_from_root(tmp_path):
    name = _module(
        tmp_path,
        """
        from pathlib import Path
        def load():
            return Path("marker.txt").read_text()
        """,
    )
    (tmp_path / "marker.txt").write_text("ok")
    assert load_model(f"{name}:load", tmp_path) == "ok"


def test_load_previous_uses_load_path_or_joblib(tmp_path):
    artifact = tmp_path / "old.joblib"
    joblib.dump({"v": 1}, artifact)
    one_arg = _module(tmp_path, "def load(path=None):\n    return ('custom', path)\n")
    no_arg = _module(tmp_path, "def load():\n    return 'deployed'\n")
    kind, path = load_previous(f"{one_arg}:load", "old.joblib", tmp_path)
    assert kind == "custom" and path.endswith("old.joblib")
    assert load_previous(f"{no_arg}:load", artifact) == {"v": 1}
    assert load_previous(None, artifact) == {"v": 1}
    with pytest.raises(RefusedError, match="does not exist"):
        load_previous(None, tmp_path / "missing.joblib")


def test_predict_scores_binary_regression_and_errors():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    scores = predict_scores(clf, X, "predict_proba")
    assert scores.shape == (60,) and scores.dtype == float
    np.testing.assert_array_equal(scores, clf.predict_proba(X)[:, 1])
    reg = LinearRegression().fit(X, X[:, 1])
    np.testing.assert_allclose(predict_scores(reg, X, "predict"), reg.predict(X))
    multi = LogisticRegression().fit(X, np.arange(60) % 3)
    with pytest.raises(UsageError, match="3 columns"):
        predict_scores(multi, X, "predict_proba")
    with pytest.raises(UsageError, match="no method 'decision'"):
        predict_scores(clf, X, "decision")
