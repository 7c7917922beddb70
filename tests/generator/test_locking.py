"""Which data sets `mlprod lock` records: model data yes, monitoring-only data no, `locked` overrides."""

from __future__ import annotations

from typing import Any

import yaml
from helpers import credit_spec_text
from mlprod.generator.locking import locked_datasets, unlocked_datasets
from mlprod.generator.units.suites import locked_files, locked_paths
from mlprod.schema import parse_spec_text
from mlprod.schema.models import Spec


def spec_with(change: Any = None) -> Spec:
    data = yaml.safe_load(credit_spec_text())
    if change is not None:
        change(data)
    return parse_spec_text(yaml.safe_dump(data, sort_keys=False))


def test_credit_locks_model_data_not_current() -> None:
    spec = spec_with()
    assert locked_datasets(spec) == {
        "reference": "data/train.csv",
        "test": "data/test.csv",
        "train": "data/train.csv",
    }
    assert unlocked_datasets(spec) == ["current"]
    assert "data/current.csv" not in locked_paths(spec)
    assert locked_files(spec)["datasets"] == locked_datasets(spec)


def test_locked_true_and_false_override() -> None:
    def override(d: dict[str, Any]) -> None:
        d["data"]["datasets"]["current"]["locked"] = True
        d["data"]["datasets"]["test"]["locked"] = False

    spec = spec_with(override)
    assert set(locked_datasets(spec)) == {"current", "reference", "train"}
    assert unlocked_datasets(spec) == ["test"]


def test_a_monitoring_data_set_that_also_proves_the_model_is_locked() -> None:
    def fairness_on_current(d: dict[str, Any]) -> None:
        d["fairness"]["dataset"] = "current"

    assert "current" in locked_datasets(spec_with(fairness_on_current))


def test_only_monitoring_uses_leave_a_data_set_out() -> None:
    """A data set nothing names is locked (it may rebuild the model); a scan target alone is not."""

    def extra(d: dict[str, Any]) -> None:
        d["data"]["datasets"]["holdout"] = {"path": "data/holdout.csv"}
        d["data"]["datasets"]["scanned"] = {"path": "data/scanned.csv"}
        d["privacy"]["scan"]["datasets"] = ["current", "scanned"]

    spec = spec_with(extra)
    assert "holdout" in locked_datasets(spec)
    assert unlocked_datasets(spec) == ["current", "scanned"]
