"""The directory model registry."""

from __future__ import annotations

import hashlib
import json

import pytest

from mlprod.checks.registry import DirectoryRegistry, open_registry
from mlprod.errors import RefusedError, UsageError


def test_register_copies_and_records_sha(tmp_path):
    src = tmp_path / "model.joblib"
    src.write_bytes(b"abc")
    reg = DirectoryRegistry(tmp_path / "reg")
    assert reg.versions() == [] and not reg.has("1.0.0")
    dest = reg.register("1.0.0", src, {"metric": 0.8})
    assert dest == tmp_path / "reg/1.0.0/model.joblib" == reg.path("1.0.0")
    assert dest.read_bytes() == b"abc"
    sha = hashlib.sha256(b"abc").hexdigest()
    assert reg.sha256("1.0.0") == sha
    meta = json.loads((tmp_path / "reg/1.0.0/metadata.json").read_text())
    assert meta == {"metric": 0.8, "sha256": sha, "version": "1.0.0"} == reg.metadata("1.0.0")
    reg.register("1.0.0", src)  # same bytes again: fine


def test_versions_sort_by_semver(tmp_path):
    src = tmp_path / "m"
    src.write_bytes(b"x")
    reg = DirectoryRegistry(tmp_path / "reg")
    for v in ["0.10.0", "0.9.0", "1.0.0", "1.0.0-rc.1"]:
        reg.register(v, src)
    (tmp_path / "reg/notes").mkdir()  # a folder without a model is not a version
    assert reg.versions() == ["0.9.0", "0.10.0", "1.0.0-rc.1", "1.0.0"]


def test_register_refuses_conflicts_and_bad_versions(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"a")
    b.write_bytes(b"b")
    reg = DirectoryRegistry(tmp_path / "reg")
    reg.register("1.0.0", a)
    with pytest.raises(RefusedError, match="different artifact"):
        reg.register("1.0.0", b)
    reg.register("1.0.0", b, overwrite=True)
    assert reg.path("1.0.0").read_bytes() == b"b"
    with pytest.raises(UsageError):
        reg.register("latest", a)
    with pytest.raises(UsageError):
        reg.path("../escape")
    with pytest.raises(UsageError, match="does not exist"):
        reg.register("2.0.0", tmp_path / "missing")
    with pytest.raises(UsageError, match="not in"):
        reg.sha256("3.0.0")


def test_open_registry(tmp_path):
    reg = open_registry("directory", "models/registry", root=tmp_path)
    assert isinstance(reg, DirectoryRegistry) and reg.root == tmp_path / "models/registry"
    with pytest.raises(UsageError):
        open_registry("s3", "x")
    try:
        import mlflow  # noqa: F401
    except ImportError:
        with pytest.raises(UsageError, match="pip install mlflow"):
            open_registry("mlflow", name="credit")
