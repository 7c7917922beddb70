"""`mlprod lock` and `mlprod record`: what they write, what re-running says, and their exit codes."""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path

import pytest
from suitekit import mlprod, run_generated

from mlprod.checks.formats import read_golden

pytestmark = pytest.mark.slow


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_lock_records_every_file_the_spec_names(credit_copy: Path) -> None:
    lock = json.loads((credit_copy / "mlprod.lock").read_text(encoding="utf-8"))
    assert lock["python"] == platform.python_version()
    assert lock["datasets"]["test"] == {"path": "data/test.csv", "sha256": sha(credit_copy / "data/test.csv")}
    for rel in (
        "models/model.joblib",
        "models/registry/0.9.0/model.joblib",
        "models/registry/1.0.0/model.joblib",
    ):
        assert lock["artifacts"][rel] == sha(credit_copy / rel)
    assert lock["lockfile"] == {"path": "requirements.lock", "sha256": sha(credit_copy / "requirements.lock")}


def test_lock_rerun_says_what_changed(credit_copy: Path) -> None:
    again = mlprod(credit_copy, "lock")
    assert again.returncode == 0 and "unchanged" in again.stdout
    with (credit_copy / "data" / "test.csv").open("a", encoding="utf-8") as fh:
        fh.write("\n")
    changed = mlprod(credit_copy, "lock")
    assert changed.returncode == 0, changed.stderr
    assert "dataset test (data/test.csv) changed" in changed.stdout


def test_monitoring_data_is_not_locked(credit_copy: Path) -> None:
    """`current` (drift.current, privacy scans) changes by design: neither locked nor checked."""
    lock = json.loads((credit_copy / "mlprod.lock").read_text(encoding="utf-8"))
    assert sorted(lock["datasets"]) == ["reference", "test", "train"]
    proc = mlprod(credit_copy, "lock")
    assert "not locked (monitoring data, or `locked: false`): current" in proc.stdout


def test_refreshing_current_keeps_reproducibility_and_changing_train_fails_it(credit_copy: Path) -> None:
    current = credit_copy / "data" / "current.csv"
    rows = current.read_text(encoding="utf-8").splitlines(keepends=True)
    current.write_text("".join([rows[0], *reversed(rows[1:-1])]), encoding="utf-8")  # a new batch
    outcomes, proc = run_generated(credit_copy, "test_reproducibility.py")
    assert outcomes and all(o.status == "passed" for o in outcomes.values()), proc.stdout
    train = credit_copy / "data" / "train.csv"
    lines = train.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[-1] = lines[-1].replace("Applicant", "Applicant X")  # a non-feature value
    train.write_text("".join(lines), encoding="utf-8")
    outcomes, _ = run_generated(credit_copy, "test_reproducibility.py")
    failed = sorted(name for name, o in outcomes.items() if o.status == "failed")
    assert failed == ["test_reproducibility.py::test_file_matches_lock[data/train.csv]"]


def test_lock_refuses_when_a_file_is_missing(credit_copy: Path) -> None:
    (credit_copy / "requirements.lock").unlink()
    before = (credit_copy / "mlprod.lock").read_bytes()
    proc = mlprod(credit_copy, "lock")
    assert proc.returncode == 3
    assert "requirements.lock" in proc.stderr and "Traceback" not in proc.stderr
    assert (credit_copy / "mlprod.lock").read_bytes() == before


def test_lock_and_record_reject_an_invalid_spec(credit_copy: Path) -> None:
    spec = credit_copy / "mlprod.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("version: 1\n", "version: 1\nbogus: 1\n", 1))
    for command in ("lock", "record"):
        proc = mlprod(credit_copy, command)
        assert proc.returncode == 2, (command, proc.stderr)
        assert "bogus" in proc.stderr


def test_record_writes_golden_rows_with_ids_and_model_hash(credit_copy: Path) -> None:
    import pandas as pd

    golden = read_golden(credit_copy / "tests" / "golden" / "predictions.csv")
    test = pd.read_csv(credit_copy / "data" / "test.csv")
    assert golden.ids == test["application_id"].astype(str).head(100).tolist()
    assert golden.model_sha256 == sha(credit_copy / "models" / "model.joblib")
    assert len(golden.scores) == 100 and ((golden.scores >= 0) & (golden.scores <= 1)).all()


def test_record_rerun_says_whether_predictions_changed(credit_copy: Path) -> None:
    same = mlprod(credit_copy, "record")
    assert same.returncode == 0 and same.stdout.rstrip().endswith("unchanged"), same.stdout
    model = credit_copy / "credit" / "model.py"
    model.write_text(
        model.read_text(encoding="utf-8") + "\n\n_load = load_model\n\n\ndef load_model(path=None):\n"
        "    m = _load(path)\n    m.set_params(classify__C=0.01)\n"
        "    return m\n",
        encoding="utf-8",
    )
    # C only matters when fitting: the predictions stay the same, which record must say
    still = mlprod(credit_copy, "record")
    assert still.returncode == 0 and "unchanged" in still.stdout
    (credit_copy / "models" / "model.joblib").write_bytes(
        (credit_copy / "models/registry/0.9.0/model.joblib").read_bytes()
    )
    changed = mlprod(credit_copy, "record")
    assert changed.returncode == 0, changed.stderr
    assert "predictions changed" in changed.stdout and "model changed from" in changed.stdout


def test_record_explains_a_missing_model(credit_copy: Path) -> None:
    (credit_copy / "models" / "model.joblib").unlink()
    proc = mlprod(credit_copy, "record")
    assert proc.returncode == 3
    assert "models/model.joblib not found" in proc.stderr and "prepare.py" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_record_without_golden_in_the_spec_is_a_usage_error(credit_copy: Path) -> None:
    spec = credit_copy / "mlprod.yaml"
    text = spec.read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines(keepends=True) if not ln.lstrip().startswith("golden:")]
    spec.write_text("".join(lines), encoding="utf-8")
    proc = mlprod(credit_copy, "record")
    assert proc.returncode == 2
    assert "no golden predictions" in proc.stderr
