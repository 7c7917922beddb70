"""MLflow's registry for real, with a local tracking store in a temporary folder.

Two versions are registered through mlprod, `rollback_to` resolves, and the hash check
reads the downloaded artifact bytes: a `sha256` tag that lies does not pass. Nothing is
written into the project folder (no stray `mlflow.db` or `mlruns/`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

mlflow = pytest.importorskip("mlflow")
pytestmark = pytest.mark.slow  # MLflow's store migrations take a few seconds

from mlprod.checks.registry import MlflowRegistry, open_registry  # noqa: E402
from mlprod.checks.release import check_registry, check_rollback_present  # noqa: E402
from mlprod.errors import RefusedError, UsageError  # noqa: E402


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_no_tracking_uri_refuses_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(UsageError, match="tracking URI") as err:
        open_registry("mlflow", name="credit")
    assert "MLFLOW_TRACKING_URI" in (err.value.hint or "")
    assert list(tmp_path.iterdir()) == []


def test_two_versions_rollback_and_hashes_from_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, store = tmp_path / "project", tmp_path / "store"
    project.mkdir()
    store.mkdir()
    monkeypatch.chdir(project)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store.as_posix()}/mlflow.db")
    old, new = project / "old.joblib", project / "new.joblib"
    old.write_bytes(b"model 0.9.0 bytes")
    new.write_bytes(b"model 1.0.0 bytes, different")

    registry = open_registry("mlflow", name="credit")
    assert isinstance(registry, MlflowRegistry)
    registry.register("0.9.0", old)
    registry.register("1.0.0", new, {"note": "bureau features"})
    with pytest.raises(RefusedError):
        registry.register("1.0.0", old)

    assert registry.versions() == ["0.9.0", "1.0.0"]
    assert registry.sha256("0.9.0") == sha(old) and registry.sha256("1.0.0") == sha(new)
    assert check_rollback_present(registry, "0.9.0").passed
    assert not check_rollback_present(registry, "0.8.0").passed
    assert check_registry(registry, "1.0.0", new).passed
    assert not check_registry(registry, "1.0.0", old).passed

    # A tag that claims the deployed hash does not pass: the bytes decide.
    mv = registry._get("1.0.0")
    registry.client.set_model_version_tag("credit", mv.version, "sha256", sha(old))
    assert registry.tagged_sha256("1.0.0") == sha(old)
    assert not check_registry(registry, "1.0.0", old).passed

    assert sorted(p.name for p in project.iterdir()) == ["new.joblib", "old.joblib"]  # nothing stray
    assert (store / "mlartifacts").is_dir()
