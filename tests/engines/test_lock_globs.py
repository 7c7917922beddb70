"""`mlprod lock` over engines: a glob hashes each file (sorted); a table is recorded as not lockable."""

from __future__ import annotations

import hashlib
from pathlib import Path

from mlprod.generator.locking import locked_datasets, unlockable_tables
from mlprod.schema import parse_spec_text

from mlprod.checks.reproducibility import build_lock, check_hashes


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_glob_is_hashed_file_by_file_and_checked(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "ref"
    folder.mkdir(parents=True)
    for name in ("b.parquet", "a.parquet"):
        (folder / name).write_bytes(name.encode() * 10)
    lock = build_lock(tmp_path, {"reference": "data/ref/*.parquet"}, [])
    entry = lock["datasets"]["reference"]
    assert list(entry["files"]) == ["data/ref/a.parquet", "data/ref/b.parquet"]
    assert entry["files"]["data/ref/a.parquet"] == _sha(folder / "a.parquet")
    assert [r.passed for r in check_hashes(tmp_path, lock)] == [True]
    (folder / "c.parquet").write_bytes(b"new")  # a file added to the glob
    (folder / "a.parquet").write_bytes(b"changed")
    [r] = check_hashes(tmp_path, lock)
    assert (
        not r.passed
        and "added: data/ref/c.parquet" in r.message
        and "changed: data/ref/a.parquet" in r.message
    )


def test_table_is_not_lockable_with_reason() -> None:
    spec = parse_spec_text(
        """version: 1
project: {name: churn, task: binary_classification}
model: {load: churn.model:load}
data:
  target: churned
  features: [tenure]
  engine: duckdb
  datasets: {train: {table: warehouse.train}, test: {path: data/test/*.parquet}}
"""
    )
    assert unlockable_tables(spec) == {"train": "table warehouse.train has no file to hash; not lockable"}
    assert locked_datasets(spec) == {"test": "data/test/*.parquet"}
