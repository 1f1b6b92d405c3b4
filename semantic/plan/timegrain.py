"""Time grains: the calendar arithmetic of the layer and the labels of its periods.

The one home of both: the date grammar (:mod:`semantic.plan.dates`), time filters
(``month = '2025-02'`` as a timestamp range), the periods ``fill_missing`` lists, and the
labels the SQL writes (:mod:`semantic.sql.labels`) all read them here. Days are calendar days
in UTC; weeks are ISO weeks (from Monday, in the ISO year); timestamps are naive UTC.

>>> add_periods("month", date(2025, 3, 31), -1)
datetime.date(2025, 2, 28)
>>> calendar_period("quarter", date(2025, 5, 17))
(datetime.date(2025, 4, 1), datetime.date(2025, 6, 30))
>>> label_start("week", "2025-W01")
datetime.datetime(2024, 12, 30, 0, 0)
>>> label_bounds("quarter", "2025-Q1")
(datetime.datetime(2025, 1, 1, 0, 0), datetime.datetime(2025, 4, 1, 0, 0))
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from semantic.model.spec import GRANULARITIES

_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class LabelFormat:
    """How a period of a grain is labelled: an example, the pattern a label matches, and the
    strftime format the SQL writes it with (``None`` for the quarter, built from its parts)."""

    example: str
    pattern: re.Pattern
    strftime: str | None


LABELS = {
    "day": LabelFormat("2025-02-03", re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
    "week": LabelFormat("2025-W07", re.compile(r"\d{4}-W\d{2}"), "%G-W%V"),
    "month": LabelFormat("2025-02", re.compile(r"\d{4}-\d{2}"), "%Y-%m"),
    "quarter": LabelFormat("2025-Q1", re.compile(r"\d{4}-Q[1-4]"), None),
    "year": LabelFormat("2025", re.compile(r"\d{4}"), "%Y"),
}
if tuple(LABELS) != GRANULARITIES:
    raise AssertionError("every granularity of the model needs a label format")


def start_of(grain: str, day: date) -> date:
    """The first day of the period (ISO week from Monday) containing ``day``."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    if grain == "year":
        return day.replace(month=1, day=1)
    return day


def add_periods(grain: str, day: date, n: int) -> date:
    """``day`` moved by ``n`` periods (back when negative); calendar months, quarters and years
    are clamped to the month's last day.

    >>> add_periods("year", date(2024, 2, 29), -1)
    datetime.date(2023, 2, 28)
    """
    if grain == "day":
        return day + timedelta(days=n)
    if grain == "week":
        return day + timedelta(weeks=n)
    year, month = divmod(day.year * 12 + day.month - 1 + n * _MONTHS[grain], 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def calendar_period(grain: str, day: date) -> tuple[date, date]:
    """First and last day of the calendar period containing ``day`` (both inclusive)."""
    first = start_of(grain, day)
    if grain in ("day", "week"):
        return first, first + timedelta(days=6 if grain == "week" else 0)
    last_month = first.month + _MONTHS[grain] - 1
    return first, date(first.year, last_month, monthrange(first.year, last_month)[1])


def label_start(grain: str, label: str) -> datetime:
    """First instant of the period a label names (raises ValueError when it names none)."""
    if grain == "week":
        year, week = label.split("-W")
        return datetime.combine(date.fromisocalendar(int(year), int(week), 1), time())
    if grain == "quarter":
        year, q = label.split("-Q")
        return datetime(int(year), 3 * (int(q) - 1) + 1, 1)
    if grain not in LABELS:
        raise ValueError(grain)
    return datetime.strptime(label, LABELS[grain].strftime)


def is_label(grain: str, label: str) -> bool:
    """Whether a text is the label of a real period of the grain ('2025-W54' is not)."""
    if not LABELS[grain].pattern.fullmatch(label):
        return False
    try:
        label_start(grain, label)
    except ValueError:
        return False
    return True


def next_start(grain: str, start: datetime) -> datetime:
    """The first instant of the period after the one starting at ``start`` (``datetime.max``
    after the last period a date can hold, so the year 9999 ends instead of overflowing).

    >>> next_start("year", datetime(9999, 1, 1)) == datetime.max
    True
    """
    try:
        return datetime.combine(add_periods(grain, start.date(), 1), time())
    except (OverflowError, ValueError):
        return datetime.max


def label_bounds(grain: str, label: str) -> tuple[datetime, datetime]:
    """Half-open [start, end) of the period a label names."""
    start = label_start(grain, label)
    return start, next_start(grain, start)


def truncate(grain: str, moment: datetime) -> datetime:
    """Start of the period containing a moment."""
    return datetime.combine(start_of(grain, moment.date()), time())


def periods(grain: str, start: datetime, end: datetime, cap: int = 10_000) -> list[datetime]:
    """Starts of the periods overlapping [start, end), at most ``cap`` of them."""
    out, cur = [], truncate(grain, start)
    while cur < end and len(out) < cap:
        out.append(cur)
        cur = next_start(grain, cur)
    return out
