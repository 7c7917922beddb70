"""PII detectors beyond regular expressions (issue 15): person names, dates of birth, US SSNs, IPs.

- `person_name`: a value of two or more capitalised words (name particles such as "van",
  titles and initials allowed), no digit, at least one of them a given or family name of the
  lists built from Faker's locale providers (`scripts/build_name_lists.py`; the lists are
  package data, Faker is not needed at runtime). A column is reported when at least half of
  its values are names (`NAME_SHARE`), so a stray "Mark Price" in free text is not.
- `date_of_birth`: a column property, not a value's: at least 90% of its values are dates that
  imply an age of 0 to 120 years at the column's latest date, and those ages are spread over
  decades (interquartile range of at least 10 years), which separates birth dates from event
  dates clustered in a short window. Text and datetime columns.
- `ssn`: US format rules (area not 000, 666 or 900-999; group not 00; serial not 0000), written
  NNN-NN-NNNN or NNN NN NNNN. Such values are not phone numbers.
- `ipv4`, `ipv6`: addresses validated by the standard library's `ipaddress`.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Any

PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "du", "la", "le", "lo"}
    | {"ten", "ter", "zu", "y", "e", "bin", "ibn", "al", "el", "st"}
)
SSN_RE = r"(?<![\d-])(?:\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4})(?![\d-])"
IPV4_RE = r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"
IPV6_RE = r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|(?:\d{1,3}\.){3}\d{1,3})(?![\w:])"
NAME_RE = r"\A[^\d@]{3,80}\Z"  # a whole value without digits: the candidate the name test looks at
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%m-%d-%Y", "%Y%m%d")
DOB_SHARE = 0.9
NAME_SHARE = 0.5
DOB_MAX_AGE = 120.0
DOB_MIN_IQR = 10.0


def fold(word: str) -> str:
    """Casefolded and without diacritics: "Béatrice" and "beatrice" look the same up."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1)
def name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """(given names, family names), folded (`fold`), from the package data files."""
    base = resources.files("mlprod.checks") / "data"

    def read(name: str) -> frozenset[str]:
        text = (base / name).read_text(encoding="utf-8")
        return frozenset(fold(line) for line in text.splitlines() if line and not line.startswith("#"))

    return read("given_names.txt"), read("family_names.txt")


def _is_title(token: str) -> bool:
    """An honorific, degree or initial: "Dr.", "Sr(a).", "Dipl.-Ing.", "J."."""
    return "." in token or "(" in token


def _word(token: str) -> str | None:
    """The folded word of a capitalised token ("O'Neil", "Jean-Luc"), else None."""
    core = token.strip(",")
    if not core or not core[0].isupper():
        return None
    return fold(core) if core.replace("-", "").replace("'", "").replace("’", "").isalpha() else None


def is_person_name(text: str) -> bool:
    """Two to five words, no digit, each capitalised (or a particle, title or initial), one a known name."""
    tokens = str(text).split()
    if not 2 <= len(tokens) <= 6 or any(ch.isdigit() for ch in text):
        return False
    given, family = name_lists()
    parts: list[str] = []
    for t in tokens:
        if t in PARTICLES or _is_title(t):
            continue
        w = _word(t)
        if w is None:
            return False
        parts.extend(w.split("-"))
    return len(parts) >= 2 and any(p in given or p in family for p in parts)


def is_ssn(text: str) -> bool:
    """US SSN rules on NNN-NN-NNNN (or spaced): area not 000/666/9xx, group not 00, serial not 0000."""
    digits = re.sub(r"[- ]", "", str(text))
    if not re.fullmatch(r"\d{9}", digits):
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def is_ipv4(text: str) -> bool:
    """A dotted-quad IPv4 address (each part 0-255, no leading zeros)."""
    try:
        ipaddress.IPv4Address(str(text))
    except ValueError:
        return False
    return True


def is_ipv6(text: str) -> bool:
    """An IPv6 address (compressed, full or with an embedded IPv4 tail)."""
    try:
        ipaddress.IPv6Address(str(text))
    except ValueError:
        return False
    return True


def _dates(s: Any) -> Any:
    """The column as datetimes: as is for a datetime dtype, else the text format parsing most values."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(s):
        out = s
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_localize(None)
        return out
    text = s.astype(str).str.strip()
    best = None
    for fmt in DATE_FORMATS:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if best is None or parsed.notna().sum() > best.notna().sum():
            best = parsed
    return best


def birth_date_rows(s: Any) -> int:
    """Rows of a column of birth dates (see the module docstring), else 0."""
    import numpy as np
    import pandas as pd

    values = s.dropna()
    if values.empty or pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return 0
    if not pd.api.types.is_datetime64_any_dtype(values):
        values = values.astype(str)
        values = values[values.str.contains(r"\d", regex=True)]
        if len(values) < DOB_SHARE * len(s.dropna()) or values.empty:
            return 0
    dates = _dates(values).dropna()
    if len(dates) < DOB_SHARE * len(s.dropna()) or len(dates) < 2:
        return 0
    ages = (dates.max() - dates).dt.days.to_numpy(dtype=float) / 365.25
    plausible = (ages >= 0) & (ages <= DOB_MAX_AGE)
    if plausible.mean() < DOB_SHARE or plausible.sum() < DOB_SHARE * len(s.dropna()):
        return 0
    q1, q3 = np.quantile(ages[plausible], [0.25, 0.75])
    return int(plausible.sum()) if q3 - q1 >= DOB_MIN_IQR else 0
