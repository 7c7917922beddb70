"""The copies the tests use are the contract in ../shared, byte for byte.

tests/fixtures/reference/ holds the two reference specs and examples/credit/data/raw the
German credit data, so the tests run from a plain clone. When ../shared is beside the
checkout (as in CI), these tests prove the copies are current; elsewhere they skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import REFERENCE, SHARED
from mlprod.schema import load_spec

REPO = Path(__file__).resolve().parents[2]
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not beside this checkout")


@needs_shared
@pytest.mark.parametrize("name", ["credit.mlprod.yaml", "minimal.mlprod.yaml"])
def test_reference_spec_copies_are_the_contract(name: str) -> None:
    assert (REFERENCE / name).read_bytes() == (SHARED / "spec" / name).read_bytes()


@needs_shared
def test_example_data_is_the_shared_data() -> None:
    ours = REPO / "examples" / "credit" / "data" / "raw" / "german_credit.csv"
    assert ours.read_bytes() == (SHARED / "data" / "german_credit.csv").read_bytes()


@pytest.mark.parametrize("name", ["credit.mlprod.yaml", "minimal.mlprod.yaml"])
def test_reference_specs_validate_unchanged(name: str) -> None:
    load_spec(REFERENCE / name)
