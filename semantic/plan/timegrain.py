"""Time granularities on naive UTC timestamps: period labels and their bounds.

>>> period_start("week", "2025-W01")
datetime.datetime(2024, 12, 30, 0, 0)
>>> period_bounds("quarter", "2025-Q1")
(datetime.datetime(2025, 1, 1, 0, 0), datetime.datetime(2025, 4, 1, 0, 0))
"""

from __future__ import annotations

from datetime import date, datetime, timedelta


def period_start(grain: str, label: str) -> datetime:
    """First instant of the period a label names (raises ValueError when it names none)."""
    if grain == "day":
        return datetime.strptime(label, "%Y-%m-%d")
    if grain == "week":
        year, week = label.split("-W")
        return datetime.combine(date.fromisocalendar(int(year), int(week), 1), datetime.min.time())
    if grain == "month":
        return datetime.strptime(label, "%Y-%m")
    if grain == "quarter":
        year, q = label.split("-Q")
        return datetime(int(year), 3 * (int(q) - 1) + 1, 1)
    if grain == "year":
        return datetime(int(label), 1, 1)
    raise ValueError(grain)


def next_start(grain: str, start: datetime) -> datetime:
    """The first instant of the following period."""
    if grain == "day":
        return start + timedelta(days=1)
    if grain == "week":
        return start + timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    m = start.month - 1 + months
    return datetime(start.year + m // 12, m % 12 + 1, 1)


def period_bounds(grain: str, label: str) -> tuple[datetime, datetime]:
    """Half-open [start, end) of the period a label names."""
    start = period_start(grain, label)
    return start, next_start(grain, start)


def truncate(grain: str, moment: datetime) -> datetime:
    """Start of the period containing a moment."""
    day = moment.date()
    if grain == "week":
        day = day - timedelta(days=day.weekday())
    elif grain == "month":
        day = day.replace(day=1)
    elif grain == "quarter":
        day = day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    elif grain == "year":
        day = day.replace(month=1, day=1)
    return datetime.combine(day, datetime.min.time())


def periods(grain: str, start: datetime, end: datetime, cap: int = 10000) -> list[datetime]:
    """Starts of every period overlapping [start, end)."""
    out, cur = [], truncate(grain, start)
    while cur < end and len(out) < cap:
        out.append(cur)
        cur = next_start(grain, cur)
    return out
