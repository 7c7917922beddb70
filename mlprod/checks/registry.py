"""Model registries: a directory registry, and MLflow's registry when mlflow is installed.

Directory layout (docs/formats.md): `<root>/<version>/model.joblib` plus an optional
`<root>/<version>/metadata.json` ({"version", "sha256", ...user metadata}).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from mlprod.errors import RefusedError, UsageError

from .formats import (
    REGISTRY_METADATA_FILE,
    REGISTRY_MODEL_FILE,
    dumps_json,
    file_sha256,
    read_json,
    write_text_atomic,
)
from .registry_mlflow import MlflowRegistry
from .release import SEMVER

__all__ = ["DirectoryRegistry", "MlflowRegistry", "open_registry"]


def _version_key(v: str) -> tuple[Any, ...]:
    m = SEMVER.match(v)
    if m is None:
        return (1, v)  # non-semver folders sort after, by name
    pre = m.group(4)
    # A pre-release sorts before its release (semver precedence, simplified to text order).
    return (0, int(m.group(1)), int(m.group(2)), int(m.group(3)), pre is None, pre or "")


class DirectoryRegistry:
    """Model versions stored as folders `<root>/<version>/model.joblib`."""

    def __init__(self, root_path: str | Path) -> None:
        self.root = Path(root_path)

    def describe(self) -> str:
        """How messages name this registry."""
        return f"registry {self.root.as_posix()}"

    def versions(self) -> list[str]:
        """Registered versions (folders holding a model.joblib), in semver order."""
        if not self.root.is_dir():
            return []
        found = [p.name for p in self.root.iterdir() if p.is_dir() and (p / REGISTRY_MODEL_FILE).is_file()]
        return sorted(found, key=_version_key)

    def path(self, version: str) -> Path:
        """The artifact path of a version (it need not exist)."""
        if not version or "/" in version or "\\" in version or version in (".", ".."):
            raise UsageError(f"{version!r} is not a valid version for a directory registry")
        return self.root / version / REGISTRY_MODEL_FILE

    def has(self, version: str) -> bool:
        """True when the version's artifact exists."""
        return self.path(version).is_file()

    def metadata(self, version: str) -> dict[str, Any]:
        """The version's metadata.json, or {} when there is none."""
        meta = self.root / version / REGISTRY_METADATA_FILE
        if not meta.is_file():
            return {}
        data = read_json(meta, "registry metadata")
        return data if isinstance(data, dict) else {}

    def sha256(self, version: str) -> str:
        """The sha256 of the version's artifact, computed from the file (metadata is informative only)."""
        if not self.has(version):
            raise UsageError(f"version {version} is not in {self.describe()}")
        return file_sha256(self.path(version))

    def register(
        self,
        version: str,
        artifact_path: str | Path,
        metadata: dict[str, Any] | None = None,
        *,
        overwrite: bool = False,
    ) -> Path:
        """Copy the artifact to `<root>/<version>/model.joblib` and write metadata.json with its sha256.

        An existing version with a different artifact is refused unless `overwrite`.
        """
        src = Path(artifact_path)
        if not src.is_file():
            raise UsageError(f"artifact {src.as_posix()} does not exist")
        if not SEMVER.match(version):
            raise UsageError(f"version {version!r} is not a semantic version")
        digest = file_sha256(src)
        dest = self.path(version)
        if dest.exists() and not overwrite and file_sha256(dest) != digest:
            raise RefusedError(
                f"version {version} is already in {self.describe()} with a different artifact",
                hint="bump the version",
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp")
        shutil.copyfile(src, tmp)
        tmp.replace(dest)
        meta = {**(metadata or {}), "version": version, "sha256": digest}
        write_text_atomic(dest.parent / REGISTRY_METADATA_FILE, dumps_json(meta))
        return dest


def open_registry(
    kind: str, path: str | Path | None = None, name: str | None = None, *, root: str | Path | None = None
) -> DirectoryRegistry | MlflowRegistry:
    """The registry a spec's `release.registry` describes (paths relative to `root`)."""
    if kind == "directory":
        if path is None:
            raise UsageError("a directory registry needs a path")
        p = Path(path)
        return DirectoryRegistry(Path(root) / p if root is not None and not p.is_absolute() else p)
    if kind == "mlflow":
        if not name:
            raise UsageError("an mlflow registry needs a registered model name (release.registry.name)")
        return MlflowRegistry(name)
    raise UsageError(f"unknown registry kind {kind!r} (directory | mlflow)")
