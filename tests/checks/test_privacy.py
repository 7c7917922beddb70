"""Privacy: PII columns, value detectors (email, phone, IBAN mod-97, card Luhn), k-anonymity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlprod.checks.privacy import (
    check_k_anonymity,
    check_pii_columns_absent,
    check_pii_not_features,
    check_pii_patterns,
    find_emails,
    generalize_column,
    is_valid_iban,
    luhn_valid,
    scan_values,
)
from mlprod.errors import UsageError

ALL = ["email", "phone", "iban", "credit_card"]


def _luhn_reference(number: str) -> bool:
    """The textbook formulation, independent of the implementation under test."""
    digits = [int(c) for c in number if c.isdigit()]
    odd, even = digits[-1::-2], digits[-2::-2]
    return (sum(odd) + sum(sum(divmod(2 * d, 10)) for d in even)) % 10 == 0


def test_luhn_known_numbers_and_random_agreement():
    assert luhn_valid("4111 1111 1111 1111")
    assert luhn_valid("5555-5555-5555-4444")
    assert not luhn_valid("4111 1111 1111 1112")  # a fake card number
    assert not luhn_valid("12345")  # too short
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = "".join(map(str, rng.integers(0, 10, size=16)))
        assert luhn_valid(n) == _luhn_reference(n), n


def test_iban_mod97():
    assert is_valid_iban("GB82 WEST 1234 5698 7654 32")
    assert is_valid_iban("DE89370400440532013000")
    assert not is_valid_iban("GB83 WEST 1234 5698 7654 32")  # check digit error
    assert not is_valid_iban("DE89370400440532013001")
    assert not is_valid_iban("not an iban")


def test_find_emails():
    assert find_emails("write to a.b+c@ex-ample.co.uk or x@y.io.") == ["a.b+c@ex-ample.co.uk", "x@y.io"]
    assert find_emails("no at sign here, @handle") == []


def test_email_column_is_found_and_numeric_columns_are_skipped():
    df = pd.DataFrame(
        {
            "contact": ["ann@example.com", "bob@example.org", None, "n/a"],
            "amount": [4111111111111111, 2, 3, 4],  # numbers are not scanned
            "note": ["ok", "fine", "call +49 30 1234567", "card 4111-1111-1111-1111"],
        }
    )
    found = scan_values(df, ALL)
    assert found == {"contact": {"email": 2}, "note": {"phone": 1, "credit_card": 1}}
    res = check_pii_patterns(df, ALL, subject="dataset current")
    assert not res.passed and res.concern == "privacy"
    assert "dataset current" in res.message and "contact (2 email)" in res.message
    assert res.value == 4


def test_validated_patterns_ignore_invalid_candidates():
    df = pd.DataFrame({"t": ["4111 1111 1111 1112", "GB83 WEST 1234 5698 7654 32", "2024-01-15", "id 12-34"]})
    assert scan_values(df, ALL) == {}
    assert check_pii_patterns(df, ALL, subject="stage features").passed


def test_counts_are_per_row_and_repeated_values_counted():
    df = pd.DataFrame({"t": ["a@b.com"] * 5 + ["clean"] * 3 + ["DE89 3704 0044 0532 0130 00"] * 2})
    assert scan_values(df, ["email", "iban"]) == {"t": {"email": 5, "iban": 2}}


def test_custom_patterns():
    df = pd.DataFrame({"t": ["EMP-000123", "x"], "c": pd.Series(["EMP-1", "y"], dtype="category")})
    assert scan_values(df, [], {"employee_id": r"EMP-\d{6}"}) == {"t": {"employee_id": 1}}
    with pytest.raises(UsageError, match="not a valid regular expression"):
        scan_values(df, [], {"bad": "("})
    with pytest.raises(UsageError, match="unknown PII pattern"):
        scan_values(df, ["passport"])


def test_pii_not_features_and_columns_absent():
    bad = check_pii_not_features(["age", "email"], ["email", "phone"])
    assert not bad.passed and "email" in bad.message
    assert check_pii_not_features(["age"], ["email"]).passed
    df = pd.DataFrame({"age": [1], "phone": ["x"]})
    res = check_pii_columns_absent(df, ["email", "phone"], subject="stage features")
    assert not res.passed and res.message == "stage features contains PII columns: phone"
    assert check_pii_columns_absent(df, ["email"], subject="dataset current").passed


def test_generalize_is_left_closed_with_unbinned_and_missing():
    out = generalize_column(pd.Series([18, 25.9, 26, 99.5, 100, 17, np.nan]), [18, 26, 36, 51, 100])
    assert out.tolist() == [
        "[18, 26)",
        "[18, 26)",
        "[26, 36)",
        "[51, 100)",
        "unbinned",
        "unbinned",
        "missing",
    ]


def _reference_min_k(df, qi, generalize):
    frame = df[qi].copy()
    for col, edges in generalize.items():
        frame[col] = pd.cut(frame[col], edges, right=False).astype(str)
    return int(frame.astype(str).value_counts().min())


def test_k_anonymity_violation_found():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"age": rng.integers(19, 99, size=200), "sex": rng.choice(["f", "m"], size=200)})
    df.loc[0, ["age", "sex"]] = [99, "x"]  # a unique person
    gen = {"age": [18, 26, 36, 51, 100]}
    res = check_k_anonymity(df, ["age", "sex"], 5, gen, subject="dataset current")
    assert not res.passed and res.value == 1 == _reference_min_k(df, ["age", "sex"], gen)
    assert "dataset current" in res.message and "sex=x" in res.message


def test_k_anonymity_passes_when_generalised():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"age": rng.integers(18, 100, size=400), "sex": rng.choice(["f", "m"], size=400)})
    gen = {"age": [18, 26, 36, 51, 100]}
    res = check_k_anonymity(df, ["age", "sex"], 5, gen)
    assert res.passed and res.value == _reference_min_k(df, ["age", "sex"], gen)
    assert not check_k_anonymity(df, ["age", "sex"], 5).passed  # raw ages are nearly unique


def test_k_anonymity_missing_column_and_empty():
    df = pd.DataFrame({"age": [20]})
    res = check_k_anonymity(df, ["age", "zip"], 2)
    assert not res.passed and "zip" in res.message and "columns: age" in res.message
    empty = check_k_anonymity(df.iloc[:0], ["age"], 2)
    assert empty.judged is False


def test_dates_timestamps_ip_addresses_and_zip_codes_are_not_phones():
    df = pd.DataFrame(
        {
            "applied_at": ["2024-01-15 10:30:00", "2024-02-01T08:00:00.123+01:00", "15/01/2024 10:30"],
            "client_ip": ["192.168.100.200", "10.0.0.1", "172.16.254.1"],
            "zip": ["12345-6789", "98052-6399", "10001-0001"],
        }
    )
    assert scan_values(df, ["phone", "credit_card"]) == {}
    phones = pd.DataFrame(
        {
            "note": [
                "call 030-1234-5678 on 2024-01-15",
                "06.12.34.56.78",
                "at 2024-01-15 10:30:00 +44 20 7946 0958",
            ]
        }
    )
    assert scan_values(phones, ["phone"]) == {"note": {"phone": 3}}
