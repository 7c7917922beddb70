"""Reproducibility: mlprod.lock, hashes, pinned lockfile, retrained metric."""

from __future__ import annotations

import hashlib
import json
import platform

import pytest

import mlprod
from mlprod.checks.reproducibility import (
    build_lock,
    check_hashes,
    check_lock_present,
    check_lockfile,
    check_python,
    check_retrain_metric,
    read_lock,
    write_lock,
)
from mlprod.errors import UsageError


def _tree(root, files: dict[str, str]):
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


@pytest.fixture
def project(tmp_path):
    _tree(
        tmp_path,
        {
            "data/train.csv": "a,b\n1,2\n",
            "data/test.csv": "a,b\n3,4\n",
            "models/model.joblib": "bin",
            "requirements.lock": "numpy==2.1.0\npandas==2.2.3\n",
        },
    )
    return tmp_path


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_build_lock_records_hashes_and_versions(project):
    lock = build_lock(
        project,
        {"train": "data/train.csv", "test": project / "data/test.csv"},
        ["models/model.joblib"],
        "requirements.lock",
    )
    assert lock["datasets"]["train"] == {"path": "data/train.csv", "sha256": _sha(project / "data/train.csv")}
    assert lock["datasets"]["test"]["path"] == "data/test.csv"  # absolute paths stored relative
    assert lock["artifacts"] == {"models/model.joblib": _sha(project / "models/model.joblib")}
    assert lock["lockfile"]["sha256"] == _sha(project / "requirements.lock")
    assert lock["mlprod"] == mlprod.__version__ and lock["python"] == platform.python_version()


def test_write_lock_is_deterministic_and_reports_changes(project):
    lock = build_lock(project, {"train": "data/train.csv"}, ["models/model.joblib"])
    path = project / "mlprod.lock"
    assert write_lock(path, lock) == ["new lock file"]
    text = path.read_text()
    assert text.endswith("}\n") and text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"
    assert read_lock(path) == lock
    assert write_lock(path, lock) == []
    (project / "data/train.csv").write_text("a,b\n1,3\n")
    changes = write_lock(
        path,
        build_lock(project, {"train": "data/train.csv", "test": "data/test.csv"}, ["models/model.joblib"]),
    )
    assert any(c.startswith("dataset train (data/train.csv) changed: sha256") for c in changes)
    assert any(c.startswith("dataset test added") for c in changes)


def test_hashes_pass_then_hand_changed_file_fails(project):
    lock = build_lock(project, {"train": "data/train.csv"}, ["models/model.joblib"], "requirements.lock")
    results = check_hashes(project, lock)
    assert len(results) == 3 and all(r.passed for r in results)
    old = _sha(project / "data/train.csv")
    (project / "data/train.csv").write_text("a,b\n1,2\n9,9\n")  # edited by hand
    bad = [r for r in check_hashes(project, lock) if not r.passed]
    assert len(bad) == 1 and bad[0].concern == "reproducibility" and bad[0].subject == "data/train.csv"
    new = _sha(project / "data/train.csv")
    assert bad[0].message.startswith(
        f"data/train.csv changed since `mlprod lock` (sha256 {new[:12]} != {old[:12]})"
    )
    (project / "models/model.joblib").unlink()
    missing = [r for r in check_hashes(project, lock) if "missing" in r.message]
    assert len(missing) == 1 and not missing[0].passed


def test_lock_present(project):
    res = check_lock_present(project)
    assert not res.passed and "mlprod lock" in res.message
    (project / "mlprod.lock").write_text("{not json")
    res = check_lock_present(project)
    assert not res.passed and "not valid JSON" in res.message
    write_lock(project / "mlprod.lock", build_lock(project, {"train": "data/train.csv"}, []))
    assert check_lock_present(project).passed
    with pytest.raises(UsageError, match="does not exist"):
        read_lock(project / "nope.lock")


def test_lockfile_pins(tmp_path):
    path = tmp_path / "requirements.lock"
    path.write_text(
        "# comment\n--index-url https://x\nnumpy==2.1.0 \\\n    --hash=sha256:abc\n"
        "pandas[parquet]==2.2.3 ; python_version >= '3.11'\n\nscipy===1.14.1  # exact\n"
    )
    res = check_lockfile(path)
    assert res.passed and res.details["requirements"] == 3, res.message
    path.write_text("numpy==2.1.0\npandas>=2.0\nscikit-learn\n-e ./local\n")
    res = check_lockfile(path)
    assert not res.passed and res.value == 3
    assert "pandas>=2.0" in res.message and "scikit-learn" in res.message
    assert not check_lockfile(tmp_path / "missing.txt").passed
    path.write_text("# nothing\n")
    assert not check_lockfile(path).passed


def test_retrain_metric():
    assert check_retrain_metric(0.781, 0.785, 0.01, "roc_auc").passed
    res = check_retrain_metric(0.75, 0.785, 0.01, "roc_auc")
    assert not res.passed and res.value == pytest.approx(0.035) and "roc_auc" in res.message
    assert not check_retrain_metric(float("nan"), 0.785, 0.01, "roc_auc").passed


def test_python_version_against_lock():
    running = ".".join(platform.python_version().split(".")[:2])
    assert check_python({"python": platform.python_version()}).passed
    assert check_python({}, expected=running).passed
    res = check_python({"python": "2.7.18"})
    assert not res.passed and "2.7" in res.message


def test_lockfile_comment_after_a_tab_is_a_comment(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("numpy==1.26.4\t# via pandas\npandas==2.1.0 ; python_version >= '3.9'  # pinned\n")
    res = check_lockfile(lock)
    assert res.passed, res.message
