"""Byte-identical output across runs and PYTHONHASHSEED values (all product units)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import credit_spec_text, read_tree, write_tree


def _generate(root: Path, seed: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run(
        [sys.executable, "-m", "mlprod", "generate", "--spec", str(root / "mlprod.yaml")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_two_runs_and_two_hash_seeds_give_identical_trees(tmp_path: Path) -> None:
    trees = []
    for seed in ("1", "2"):
        root = write_tree(tmp_path / f"seed{seed}", {"mlprod.yaml": credit_spec_text()})
        proc = _generate(root, seed)
        assert proc.returncode == 0, proc.stderr
        first = read_tree(root)
        proc = _generate(root, "3")
        assert proc.returncode == 0 and "0 created, 0 updated" in proc.stdout, proc.stdout + proc.stderr
        assert read_tree(root) == first
        trees.append(first)
    assert trees[0] == trees[1]
    assert len(trees[0]) > 2
    for rel, data in trees[0].items():  # '\n' endings, UTF-8
        assert b"\r" not in data, rel
        data.decode("utf-8")
