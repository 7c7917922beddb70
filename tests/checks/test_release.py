"""Release: today, semver, expiry, next release, rollback and registry hash."""

from __future__ import annotations

from datetime import date

import pytest

from mlprod.checks.registry import DirectoryRegistry
from mlprod.checks.release import (
    check_next_planned,
    check_not_expired,
    check_registry,
    check_rollback_present,
    check_semver,
    today,
)
from mlprod.errors import UsageError


def test_today_reads_mlprod_today(monkeypatch):
    monkeypatch.setenv("MLPROD_TODAY", "2030-01-02")
    assert today() == date(2030, 1, 2)
    monkeypatch.setenv("MLPROD_TODAY", "soon")
    with pytest.raises(UsageError, match="MLPROD_TODAY"):
        today()
    monkeypatch.delenv("MLPROD_TODAY")
    assert today() == date.today()


@pytest.mark.parametrize(
    "v", ["1.0.0", "0.9.0", "10.20.30", "1.0.0-rc.1", "1.0.0+build.5", "1.0.0-alpha+001"]
)
def test_semver_valid(v):
    assert check_semver(v).passed


@pytest.mark.parametrize("v", ["1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0.0", "latest", ""])
def test_semver_invalid(v):
    res = check_semver(v)
    assert not res.passed and res.concern == "release"


def test_expiry(monkeypatch):
    res = check_not_expired("2026-11-01", today="2026-11-27")
    assert not res.passed and "expired on 2026-11-01, 26 days ago" in res.message
    ok = check_not_expired("2027-11-01", today="2026-11-27")
    assert ok.passed and ok.value == (date(2027, 11, 1) - date(2026, 11, 27)).days
    assert check_not_expired("2026-11-27", today="2026-11-27").passed  # valid through the day
    monkeypatch.setenv("MLPROD_TODAY", "2028-01-01")
    assert not check_not_expired("2027-11-01").passed
    assert not check_not_expired(None).passed
    with pytest.raises(UsageError, match="not an ISO date"):
        check_not_expired("next year", today="2026-11-27")


def test_next_planned():
    ok = check_next_planned("2027-09-01", "2027-11-01", "2026-11-27", next_version="1.1.0")
    assert ok.passed and "next release 1.1.0 is planned on 2027-09-01" in ok.message
    late = check_next_planned("2027-12-01", "2027-11-01", "2026-11-27")
    assert not late.passed and "after the model expires on 2027-11-01" in late.message
    overdue = check_next_planned("2026-10-01", "2027-11-01", "2026-11-27")
    assert not overdue.passed and "overdue by 57 days" in overdue.message
    assert check_next_planned("2027-01-01", None, "2026-11-27").passed
    assert not check_next_planned(None, "2027-11-01", "2026-11-27").passed


@pytest.fixture
def registry(tmp_path):
    model = tmp_path / "model.joblib"
    model.write_bytes(b"model-1.0.0")
    old = tmp_path / "old.joblib"
    old.write_bytes(b"model-0.9.0")
    reg = DirectoryRegistry(tmp_path / "models/registry")
    reg.register("0.9.0", old)
    reg.register("1.0.0", model)
    return reg, model


def test_rollback_present(registry):
    reg, _ = registry
    assert check_rollback_present(reg, "0.9.0").passed
    res = check_rollback_present(reg, "0.8.0")
    assert not res.passed and "0.8.0 is not in registry" in res.message and "0.9.0, 1.0.0" in res.message
    assert not check_rollback_present(reg, None).passed


def test_registry_hash(registry):
    reg, model = registry
    assert check_registry(reg, "1.0.0", model).passed
    model.write_bytes(b"retrained")
    res = check_registry(reg, "1.0.0", model)
    assert not res.passed and "register the deployed model" in res.message
    missing = check_registry(reg, "2.0.0", model)
    assert not missing.passed and "2.0.0 is not in" in missing.message
    assert not check_registry(reg, "1.0.0", model.with_name("gone.joblib")).passed
