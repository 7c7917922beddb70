"""Privacy: PII columns absent, PII patterns absent from values, k-anonymity.

Value scans look at text and datetime columns (object, string, category and datetime dtypes):
a phone number or card stored as an integer is not found, but numeric features such as
amounts never produce false alarms. Each distinct value is scanned once and counted by
frequency. Beside the regular expressions, pii_detectors.py holds the detectors of issue 15
(`person_name`, `date_of_birth`, `ssn`, `ipv4`, `ipv6`); a source with nothing to scan is
not judged.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from typing import Any

from mlprod.errors import UsageError

from .pii_detectors import (
    IPV4_RE,
    IPV6_RE,
    NAME_RE,
    NAME_SHARE,
    SSN_RE,
    birth_date_rows,
    is_ipv4,
    is_ipv6,
    is_person_name,
    is_ssn,
)
from .results import CheckResult

CONCERN = "privacy"

EMAIL_RE = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
# International (+ or 00 prefix), an area code in parentheses, or digit groups with separators;
# the digit count (9 to 15) and a date shape are checked after, on the candidates only.
PHONE_RE = (
    r"(?<![\w+])(?:"
    r"(?:\+|00)\d{1,3}[\s./-]?(?:\(\d{1,5}\)[\s./-]?)?\d{1,8}(?:[\s./-]\d{1,8}){0,4}"
    r"|\(\d{1,5}\)[\s./-]?\d{2,8}(?:[\s./-]\d{2,8}){0,3}"
    r"|\d{2,5}(?:[\s./-]\d{2,8}){1,4}"
    r")(?!\w)"
)
_DATE_LIKE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
# Digit runs that are not phone numbers, blanked out before the phone and card scans: dates
# and timestamps (ISO or day-first, with a time), IPv4 addresses and US ZIP+4 codes. Each must
# stand alone (no further digit group on either side), so a phone written with dots such as
# 06.12.34.56.78 is not mistaken for a date.
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
NOT_PHONE_RE = (
    r"(?<![\d./-])(?:"
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}" + _TIME + r"|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}" + _TIME + r"|"
    r"\d{1,3}(?:\.\d{1,3}){3}"
    r"|\d{5}-\d{4}"
    r")(?![./-]?\d)"
)
IBAN_RE = r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])"
CARD_RE = r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])"


def find_emails(text: str) -> list[str]:
    """Email addresses in a text."""
    return re.findall(EMAIL_RE, str(text))


def luhn_valid(number: str) -> bool:
    """The Luhn checksum of a card number (spaces and dashes ignored); 13 to 19 digits."""
    digits = re.sub(r"[ -]", "", str(number))
    if not digits.isdigit() or not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_valid_iban(text: str) -> bool:
    """ISO 13616 check: country code, check digits, 15-34 characters, mod-97 remainder 1."""
    s = re.sub(r"\s", "", str(text)).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", s):
        return False
    rearranged = s[4:] + s[:4]
    as_digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(as_digits) % 97 == 1


def is_phone(text: str) -> bool:
    """A phone-number candidate: 9 to 15 digits (ITU E.164 allows at most 15), not shaped like a date."""
    text = str(text).strip()
    return 9 <= sum(ch.isdigit() for ch in text) <= 15 and not _DATE_LIKE.fullmatch(text)


# name -> (regex, validator of a candidate or None)
BUILTIN: dict[str, tuple[str, Callable[[str], bool] | None]] = {
    "email": (EMAIL_RE, None),
    "phone": (PHONE_RE, is_phone),
    "iban": (IBAN_RE, is_valid_iban),
    "credit_card": (CARD_RE, luhn_valid),
    "ssn": (SSN_RE, is_ssn),
    "ipv4": (IPV4_RE, is_ipv4),
    "ipv6": (IPV6_RE, is_ipv6),
    "person_name": (NAME_RE, is_person_name),
}
COLUMN_DETECTORS: dict[str, Callable[[Any], int]] = {"date_of_birth": birth_date_rows}
# A UUID is an identifier, not a phone or card number: blanked out before those scans.
UUID_RE = r"(?<![0-9A-Fa-f-])[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}(?![0-9A-Fa-f-])"
# A valid SSN (US rules) is not a phone number: blanked out before the phone scan.
_SSN_PART = r"(?!000|666|9)\d{3}SEP(?!00)\d{2}SEP(?!0000)\d{4}"
VALID_SSN_RE = "".join(
    [r"(?<![\d-])(?:", _SSN_PART.replace("SEP", "-"), "|", _SSN_PART.replace("SEP", " "), r")(?![\d-])"]
)


def _is_table(x: Any) -> bool:
    from mlprod.engines import Table

    return isinstance(x, Table)


def _text_columns(df: Any) -> list[str]:
    import pandas as pd

    return [
        c
        for c in df.columns
        if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))
    ]


def _compile(patterns: Iterable[str], custom: dict[str, str] | None) -> dict[str, tuple[str, Any]]:
    out: dict[str, tuple[str, Any]] = {}
    for name in patterns:
        if name in COLUMN_DETECTORS:
            continue
        if name not in BUILTIN:
            known = ", ".join([*BUILTIN, *COLUMN_DETECTORS])
            raise UsageError(f"unknown PII pattern {name!r} (known: {known})")
        out[name] = BUILTIN[name]
    for name, rx in (custom or {}).items():
        try:
            re.compile(rx)
        except re.error as exc:
            raise UsageError(f"custom PII pattern {name!r} is not a valid regular expression: {exc}") from exc
        out[name] = (rx, None)
    return out


def scan_values(
    df: Any,
    patterns: Iterable[str],
    custom: dict[str, str] | None = None,
    *,
    columns: Iterable[str] | None = None,
) -> dict[str, dict[str, int]]:
    """Rows per text column whose value contains each pattern: {column: {pattern: count}}, non-zero only.

    Distinct values are scanned once with pandas' vectorised regex methods; card and IBAN
    candidates are then validated (Luhn, mod-97) so random digit runs are not reported.
    """
    patterns = list(patterns)
    compiled = _compile(patterns, custom)
    column_detectors = {n: COLUMN_DETECTORS[n] for n in patterns if n in COLUMN_DETECTORS}
    cols = list(columns) if columns is not None else _text_columns(df)
    found: dict[str, dict[str, int]] = {}
    for col in cols:
        counts = df[col].dropna().astype(str).value_counts()
        if counts.empty:
            continue
        column_hits = {n: detect(df[col]) for n, detect in column_detectors.items()}
        hits = scan_counts(counts, compiled, column_hits, int(counts.sum()))
        if hits:
            found[str(col)] = hits
    return found


def scan_counts(
    counts: Any, compiled: dict[str, tuple[str, Any]], column_hits: dict[str, int], total: int
) -> dict[str, int]:
    """{pattern: rows} of one column from its distinct values and their counts (a Series value -> rows).

    `total` is the column's non-missing rows (a name column holds names in most of them).
    Shared by every engine: an engine hands over distinct candidate values with counts.
    """
    values = counts.index.to_series(index=range(len(counts)))
    freq = counts.to_numpy()
    # The digit groups of an IBAN look like a phone or card number: blank IBAN-shaped
    # tokens out before the digit-only patterns (only when a value has such a token).
    has_iban = values.str.contains(IBAN_RE, regex=True)
    digits_view = values.where(~has_iban, values.str.replace(IBAN_RE, " ", regex=True))
    # Dates, timestamps, IPv4 addresses and ZIP+4 codes are digit groups too: not phones.
    not_phone = digits_view.str.contains(NOT_PHONE_RE, regex=True)
    if not_phone.any():
        digits_view = digits_view.where(~not_phone, digits_view.str.replace(NOT_PHONE_RE, " ", regex=True))
    for blank in (VALID_SSN_RE, UUID_RE):
        has = digits_view.str.contains(blank, regex=True)
        if has.any():
            digits_view = digits_view.where(~has, digits_view.str.replace(blank, " ", regex=True))
    hits: dict[str, int] = {n: k for n, k in column_hits.items() if k}
    for name, (rx, validate) in compiled.items():
        texts = digits_view if name in ("phone", "credit_card") else values
        mask = texts.str.contains(rx, regex=True).to_numpy()
        if mask.any() and validate is not None:
            cand = texts[mask].str.extractall(f"({rx})")[0]
            ok = cand.map(validate)
            valid_rows = set(ok[ok].index.get_level_values(0))
            mask = values.index.isin(list(valid_rows))
        n = int(freq[mask].sum())
        if name == "person_name" and n < NAME_SHARE * total:
            n = 0  # a column of names, not a stray name-like value in free text
        if n:
            hits[name] = n
    return hits


def check_pii_patterns(
    df: Any, patterns: Iterable[str], custom: dict[str, str] | None = None, *, subject: str = "data"
) -> CheckResult:
    """No value of a text column matches a PII pattern; the message names the offending columns."""
    patterns = list(patterns)
    if _is_table(df):  # an engine table: candidates from the engine, exact tests here
        from .data_tables import scan_table, text_columns

        text_cols, found = text_columns(df), scan_table(df, patterns, custom)
    else:
        text_cols = _text_columns(df)
        found = scan_values(df, patterns, custom)
    names = [*patterns, *(custom or {})]
    details = {"scanned_columns": [str(c) for c in text_cols], "patterns": names, "found": found}
    if not text_cols:
        kind = type(df).__name__ if not hasattr(df, "columns") else "no text or date column"
        return CheckResult(
            CONCERN,
            "pii_patterns",
            True,
            f"PII values in {subject} not judged: nothing to scan ({kind})",
            None,
            0.0,
            subject,
            details,
            judged=False,
        )
    if not found:
        return CheckResult(
            CONCERN,
            "pii_patterns",
            True,
            f"no {', '.join(names)} found in the {len(text_cols)} text columns of {subject}"
            if text_cols
            else f"PII patterns in {subject} not judged: it has no text column to scan",
            0.0,
            0.0,
            subject,
            details,
            judged=bool(text_cols),
        )
    parts = [
        f"{col} ({', '.join(f'{n} {p}' for p, n in sorted(hits.items()))})"
        for col, hits in sorted(found.items())
    ]
    total = float(sum(sum(h.values()) for h in found.values()))
    return CheckResult(
        CONCERN,
        "pii_patterns",
        False,
        f"PII values found in {subject}: {'; '.join(parts)}",
        total,
        0.0,
        subject,
        details,
    )


def check_pii_not_features(features: Iterable[str], pii: Iterable[str]) -> CheckResult:
    """No PII column is a model feature."""
    bad = sorted(set(features) & set(pii))
    if bad:
        return CheckResult(
            CONCERN,
            "pii_not_features",
            False,
            f"PII columns are model features: {', '.join(bad)}",
            float(len(bad)),
            0.0,
            "data.features",
            {"columns": bad},
        )
    return CheckResult(
        CONCERN, "pii_not_features", True, "no PII column is a model feature", 0.0, 0.0, "data.features"
    )


def check_pii_columns_absent(df: Any, pii: Iterable[str], *, subject: str) -> CheckResult:
    """None of the PII columns is present in `df` (a data set or a stage's output)."""
    cols = set(df.columns()) if _is_table(df) else set(map(str, getattr(df, "columns", [])))
    bad = sorted(c for c in pii if c in cols)
    if bad:
        return CheckResult(
            CONCERN,
            "pii_columns_absent",
            False,
            f"{subject} contains PII columns: {', '.join(bad)}",
            float(len(bad)),
            0.0,
            subject,
            {"columns": bad},
        )
    return CheckResult(
        CONCERN, "pii_columns_absent", True, f"{subject} contains no PII column", 0.0, 0.0, subject
    )


def generalize_column(values: Any, edges: list[float]) -> Any:
    """Left-closed bins [a, b) as labels "[a, b)"; values outside the edges are "unbinned", NaN "missing"."""
    import numpy as np
    import pandas as pd

    edges_a = np.asarray(sorted(edges), dtype=float)
    labels = [f"[{a:g}, {b:g})" for a, b in itertools.pairwise(edges_a)]
    num = pd.to_numeric(values, errors="coerce")
    binned = pd.cut(num, edges_a, right=False, labels=labels).astype(object)
    out = binned.where(binned.notna(), "unbinned")
    return out.where(num.notna(), "missing")


def check_k_anonymity(
    df: Any,
    quasi_identifiers: Iterable[str],
    min_k: int,
    generalize: dict[str, list[float]] | None = None,
    *,
    subject: str = "data",
) -> CheckResult:
    """Every combination of (generalised) quasi-identifier values is shared by at least min_k rows."""
    if _is_table(df):
        from .data_tables import k_anonymity_table

        return k_anonymity_table(df, quasi_identifiers, min_k, generalize, subject=subject)
    qi = list(quasi_identifiers)
    missing = [c for c in qi if c not in df.columns]
    if missing:
        return CheckResult(
            CONCERN,
            "k_anonymity",
            False,
            f"{subject} lacks quasi-identifier columns {', '.join(missing)} "
            f"(columns: {', '.join(map(str, df.columns))})",
            None,
            float(min_k),
            subject,
        )
    if not qi or len(df) == 0:
        why = "no quasi-identifiers" if not qi else "no rows"
        return CheckResult(
            CONCERN,
            "k_anonymity",
            True,
            f"k-anonymity of {subject} not judged: {why}",
            None,
            float(min_k),
            subject,
            judged=False,
        )
    import pandas as pd

    generalize = generalize or {}
    frame = pd.DataFrame(
        {
            c: generalize_column(df[c], generalize[c])
            if c in generalize
            else df[c].astype(object).where(df[c].notna(), "missing")
            for c in qi
        }
    )
    sizes = frame.groupby(qi, sort=True, observed=True, dropna=False).size()
    k = int(sizes.min())
    small = sizes[sizes < min_k]
    details: dict[str, Any] = {
        "groups": int(sizes.size),
        "small_groups": int(small.size),
        "rows_in_small_groups": int(small.sum()),
        "quasi_identifiers": qi,
    }
    if small.size:
        worst = small.sort_values(kind="stable").head(3)
        examples = ", ".join(
            "("
            + ", ".join(
                f"{c}={v}" for c, v in zip(qi, key if isinstance(key, tuple) else (key,), strict=True)
            )
            + f": {n} rows)"
            for key, n in worst.items()
        )
        details["examples"] = examples
        msg = (
            f"k-anonymity of {subject} over {', '.join(qi)} is {k} < {min_k}: "
            f"{small.size} of {sizes.size} groups "
            f"({int(small.sum())} rows) are smaller, e.g. {examples}"
        )
        return CheckResult(CONCERN, "k_anonymity", False, msg, float(k), float(min_k), subject, details)
    return CheckResult(
        CONCERN,
        "k_anonymity",
        True,
        f"k-anonymity of {subject} over {', '.join(qi)} is {k} >= {min_k} ({sizes.size} groups)",
        float(k),
        float(min_k),
        subject,
        details,
    )
