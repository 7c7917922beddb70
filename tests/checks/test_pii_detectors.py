"""The PII detectors of issue 15, measured on a labelled corpus.

Positives come from Faker locales, formats and generators NOT used to build the name lists
(scripts/build_name_lists.py lists the build locales); negatives are every non-PII column of
the credit data plus synthetic ids, amounts and event dates. Each detector must reach a recall
of at least 0.95 and report nothing on the negatives.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlprod.checks.pii_detectors import birth_date_rows, is_ipv4, is_ipv6, is_person_name, is_ssn
from mlprod.checks.privacy import check_pii_patterns, scan_values

REPO = Path(__file__).resolve().parents[2]
ALL = ["email", "phone", "iban", "credit_card", "person_name", "date_of_birth", "ssn", "ipv4", "ipv6"]
TEST_LOCALES = ["en_IE", "en_NZ", "de_AT", "de_CH", "fr_CA", "fr_BE", "fr_CH", "es_MX", "es_AR", "es_CO"]
TEST_LOCALES += ["pt_BR", "nl_BE"]
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y"]

faker = pytest.importorskip("faker", reason="the labelled corpus is generated with Faker (dev extra)")


def _build_locales() -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location(
        "build_name_lists", REPO / "scripts" / "build_name_lists.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BUILD_LOCALES


def test_name_lists_are_built_from_faker_not_typed() -> None:
    header = (REPO / "mlprod/checks/data/given_names.txt").read_text(encoding="utf-8").splitlines()[0]
    if f"Faker {faker.VERSION} " not in header:
        pytest.skip(f"lists built with another Faker ({header}); installed {faker.VERSION}")
    proc = subprocess.run(
        [sys.executable, "scripts/build_name_lists.py", "--check"], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not set(TEST_LOCALES) & set(_build_locales())


def recall(hits: list[bool]) -> float:
    return sum(hits) / len(hits)


def test_person_name_recall_on_locales_not_used_to_build() -> None:
    names = []
    for i, locale in enumerate(TEST_LOCALES):
        fake = faker.Faker(locale)
        fake.seed_instance(100 + i)
        names += [fake.name() for _ in range(200)]
    assert recall([is_person_name(n) for n in names]) >= 0.95
    # as a scanned column (the unit a privacy check reports): every locale's column is found
    for i, locale in enumerate(TEST_LOCALES):
        fake = faker.Faker(locale)
        fake.seed_instance(200 + i)
        column = pd.DataFrame({"holder": [fake.name() for _ in range(50)]})
        assert "person_name" in scan_values(column, ["person_name"]).get("holder", {}), locale


def test_date_of_birth_recall_on_text_and_datetime_columns() -> None:
    found = []
    for i, locale in enumerate(TEST_LOCALES):
        fake = faker.Faker(locale)
        fake.seed_instance(300 + i)
        for j, fmt in enumerate(DATE_FORMATS):
            births = [fake.date_of_birth(minimum_age=18 + j, maximum_age=75 + 5 * j) for _ in range(60)]
            found.append(birth_date_rows(pd.Series([d.strftime(fmt) for d in births])) > 0)
        found.append(birth_date_rows(pd.Series(pd.to_datetime(births))) > 0)
    assert recall(found) >= 0.95


def test_ssn_ipv4_ipv6_recall() -> None:
    fake = faker.Faker("en_US")
    fake.seed_instance(7)
    ssns = [fake.ssn() for _ in range(300)] + [fake.ssn().replace("-", " ") for _ in range(100)]
    assert recall([is_ssn(s) for s in ssns]) >= 0.95
    assert recall([is_ipv4(fake.ipv4()) for _ in range(300)]) >= 0.95
    assert recall([is_ipv6(fake.ipv6()) for _ in range(300)]) >= 0.95
    df = pd.DataFrame({"ssn": ssns[:50], "ip": [fake.ipv4() for _ in range(50)]})
    df["ip6"] = [fake.ipv6() for _ in range(50)]
    found = scan_values(df, ["ssn", "ipv4", "ipv6"])
    assert found["ssn"] == {"ssn": 50} and found["ip"] == {"ipv4": 50} and found["ip6"] == {"ipv6": 50}


def test_a_valid_ssn_is_not_a_phone_number() -> None:
    """Before issue 15, `123-45-6789` was reported as a phone number."""
    df = pd.DataFrame({"id": ["123-45-6789", "078-05-1120"]})
    assert scan_values(df, ["phone", "ssn"]) == {"id": {"ssn": 2}}
    # not valid SSNs (area 000 / 9xx, group 00, serial 0000): not reported as SSNs
    assert not [s for s in ["000-12-3456", "900-12-3456", "123-00-4567", "123-45-0000"] if is_ssn(s)]


def negatives() -> pd.DataFrame:
    """Every column of the raw credit data (none is PII) plus synthetic ids, amounts and event dates."""
    credit = pd.read_csv(REPO / "examples/credit/data/raw/german_credit.csv")
    rng = np.random.default_rng(0)
    n = len(credit)
    synthetic = pd.DataFrame(
        {
            "application_id": [f"APP-{i:06d}" for i in range(n)],
            "uuid": [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(n)],
            "amount_text": [f"{a:.2f}" for a in rng.lognormal(8, 1, n)],
            "event_date": (
                pd.Timestamp("2026-09-01") + pd.to_timedelta(rng.integers(0, 90, n), "D")
            ).strftime("%Y-%m-%d"),
            "applied_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365, n), "D"),
            "time_of_day": [
                f"{h:02d}:{m:02d}:00"
                for h, m in zip(rng.integers(0, 24, n), rng.integers(0, 60, n), strict=True)
            ],
        }
    )
    return pd.concat([credit, synthetic], axis=1)


def test_no_false_positive_on_the_credit_data_and_synthetic_negatives() -> None:
    df = negatives()
    assert scan_values(df, ALL) == {}
    result = check_pii_patterns(df, ALL, subject="negatives")
    assert result.passed and result.judged and "datetime" not in result.message
    assert "applied_at" in result.details["scanned_columns"]  # datetime columns are scanned


def test_nothing_to_scan_is_not_judged() -> None:
    r = check_pii_patterns(pd.DataFrame({"score": [0.1, 0.2]}), ALL, subject="the output of stage predict")
    assert r.passed and not r.judged and "not judged" in r.message
