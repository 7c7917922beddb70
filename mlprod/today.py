"""Today's date, as every date-dependent check and rubric rule reads it.

`MLPROD_TODAY` (tests pin it) when set, else the local date. Only the spec's own date form
(YYYY-MM-DD) is accepted: Python 3.11 would also read 20261127 or 2026-W48-5.
"""

from __future__ import annotations

import os
import re
from datetime import date

from mlprod.errors import UsageError

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_iso_date(value: str, *, source: str = "MLPROD_TODAY") -> date:
    """`value` as a date, or a UsageError naming `source` (exit 2)."""
    text = value.strip()
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{source}={value!r} is not an ISO date", hint="use YYYY-MM-DD") from None


def today() -> date:
    """MLPROD_TODAY when set, else the local date."""
    pinned = os.environ.get("MLPROD_TODAY", "").strip()
    return parse_iso_date(pinned) if pinned else date.today()
