"""Does a cron expression ever fire? (`0 0 31 2 *` names no real date and never does.)"""

from __future__ import annotations

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
#: the longest each month gets (February in a leap year)
_MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


def _values(field: str, low: int, high: int, names: dict[str, int]) -> set[int] | None:
    """The values a cron field allows; None when it is not valid."""
    out: set[int] = set()
    for part in field.lower().split(","):
        rng, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() else (1 if not step_text else 0)
        if step <= 0:
            return None
        if rng == "*":
            start, end = low, high
        else:
            a, _, b = rng.partition("-")
            first, last = names.get(a, int(a) if a.isdigit() else -1), None
            if b:
                last = names.get(b, int(b) if b.isdigit() else -1)
            if first < 0 or (last is not None and last < 0):
                return None
            start, end = first, (last if last is not None else (high if step_text else first))
        if start < low or end > high or start > end:
            return None
        out.update(range(start, end + 1, step))
    return out


def cron_never_fires(expression: str) -> bool:
    """True when a five-field cron names no real time (invalid fields included)."""
    fields = expression.split()
    if len(fields) != 5:
        return True
    minute, hour, dom, month, dow = fields
    days = _values(dom, 1, 31, {})
    months = _values(month, 1, 12, _MONTHS)
    weekdays = _values(dow, 0, 7, _DAYS)
    if None in (_values(minute, 0, 59, {}), _values(hour, 0, 23, {}), days, months, weekdays):
        return True
    assert days is not None and months is not None
    if dow.strip() != "*" and dom.strip() != "*":
        return False  # either field matching fires it: a weekday always comes
    if dom.strip() == "*":
        return False
    return not any(d <= _MONTH_DAYS[m] for m in months for d in days)
