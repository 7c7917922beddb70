"""MLflow's model registry as an mlprod registry: versions of one registered model name.

- The tracking store is the one named by MLFLOW_TRACKING_URI (or the `tracking_uri`
  argument); without one this refuses, instead of letting MLflow create an `mlflow.db`
  (or `mlruns/`) in whatever folder the tests run in.
- A model version maps to a semver through its `mlprod_version` tag. Its `sha256` tag is
  informative only: `sha256(version)` downloads the version's artifact and hashes the
  bytes, so a re-uploaded or tampered artifact cannot hide behind a stale tag.
- `register(version, artifact)` logs the artifact file as `model/model.joblib` of a run and
  creates the model version with the tags mlprod expects.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlprod.errors import RefusedError, UsageError

from .formats import REGISTRY_MODEL_FILE, file_sha256
from .release import SEMVER

TRACKING_HINT = (
    "set MLFLOW_TRACKING_URI to your tracking server (http://...) or a local store "
    "(sqlite:////absolute/path/mlflow.db)"
)


class MlflowRegistry:
    """The versions of the registered model `name` in MLflow's registry."""

    def __init__(self, name: str, tracking_uri: str | None = None) -> None:
        try:
            from mlflow.tracking import MlflowClient
        except ImportError as exc:
            raise UsageError("registry kind `mlflow` needs mlflow: pip install mlflow") from exc
        uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI", "")
        if not uri:
            raise UsageError("registry kind `mlflow` needs a tracking URI", hint=TRACKING_HINT)
        self.name = name
        self.tracking_uri = uri
        registry_uri = os.environ.get("MLFLOW_REGISTRY_URI") or uri
        self.client = MlflowClient(tracking_uri=uri, registry_uri=registry_uri)

    def describe(self) -> str:
        return f"MLflow registered model {self.name}"

    def _by_version(self) -> dict[str, Any]:
        out = {}
        for mv in self.client.search_model_versions(f"name='{self.name}'"):
            tag = (mv.tags or {}).get("mlprod_version")
            if tag:
                out[tag] = mv
        return out

    def versions(self) -> list[str]:
        from .registry import _version_key

        return sorted(self._by_version(), key=_version_key)

    def has(self, version: str) -> bool:
        return version in self._by_version()

    def _get(self, version: str) -> Any:
        mv = self._by_version().get(version)
        if mv is None:
            raise UsageError(f"version {version} is not in {self.describe()}")
        return mv

    def tagged_sha256(self, version: str) -> str:
        """The `sha256` tag of a version (what `register` recorded; not proof of the bytes)."""
        return str((self._get(version).tags or {}).get("sha256", ""))

    def sha256(self, version: str) -> str:
        """The sha256 of the version's model file, from bytes downloaded from the registry."""
        import mlflow

        mv = self._get(version)
        uri = self.client.get_model_version_download_uri(self.name, mv.version)
        with tempfile.TemporaryDirectory(prefix="mlprod-mlflow-") as tmp:
            local = Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=uri, dst_path=tmp, tracking_uri=self.tracking_uri
                )
            )
            if local.is_dir():
                files = [p for p in local.rglob("*") if p.is_file()]
                named = [p for p in files if p.name == REGISTRY_MODEL_FILE]
                if len(named) == 1:
                    local = named[0]
                elif len(files) == 1:
                    local = files[0]
                else:
                    raise UsageError(
                        f"version {version} of {self.describe()} has no single model file "
                        f"({REGISTRY_MODEL_FILE}) to hash among {len(files)} files"
                    )
            return file_sha256(local)

    def register(
        self,
        version: str,
        artifact_path: str | Path,
        metadata: dict[str, str] | None = None,
        *,
        experiment: str = "mlprod-registry",
        artifact_location: str | None = None,
    ) -> str:
        """Log the artifact as `model/model.joblib` of a new run and register it as `version`.

        The artifacts go to `artifact_location` when the experiment is created; by default,
        beside a local sqlite store (`<its folder>/mlartifacts`), never the working folder.
        Returns MLflow's version number. A version already registered is refused.
        """
        src = Path(artifact_path)
        if not src.is_file():
            raise UsageError(f"artifact {src.as_posix()} does not exist")
        if not SEMVER.match(version):
            raise UsageError(f"version {version!r} is not a semantic version")
        if self.has(version):
            raise RefusedError(f"version {version} is already in {self.describe()}", hint="bump the version")
        exp = self.client.get_experiment_by_name(experiment)
        exp_id = (
            exp.experiment_id
            if exp is not None
            else self.client.create_experiment(
                experiment, artifact_location=artifact_location or self._default_artifacts()
            )
        )
        run = self.client.create_run(exp_id, tags={"mlprod_version": version})
        with tempfile.TemporaryDirectory(prefix="mlprod-mlflow-") as tmp:
            shutil.copyfile(src, Path(tmp) / REGISTRY_MODEL_FILE)
            self.client.log_artifacts(run.info.run_id, tmp, artifact_path="model")
        self.client.set_terminated(run.info.run_id)
        try:
            self.client.get_registered_model(self.name)
        except Exception:  # MLflow raises its own RestException when the name is new
            self.client.create_registered_model(self.name)
        tags = {**(metadata or {}), "mlprod_version": version, "sha256": file_sha256(src)}
        mv = self.client.create_model_version(
            self.name, source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id, tags=tags
        )
        return str(mv.version)

    def _default_artifacts(self) -> str | None:
        parts = urlsplit(self.tracking_uri)
        if parts.scheme == "sqlite" and parts.path not in ("", "/", "/:memory:"):
            db = Path(parts.path[1:])  # sqlite:///relative.db, sqlite:////absolute.db
            return (db.resolve().parent / "mlartifacts").as_uri()
        return None
