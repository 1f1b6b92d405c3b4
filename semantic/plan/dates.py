"""The relative-date grammar of the semantic layer (semantic/README.md, "Dates").

A date expression is either a single day or an inclusive period of days, resolved against an
injectable clock (``today``). Two expressions, a start and an end, resolve to a half-open
``[start, end)`` range of naive UTC timestamps.

>>> from datetime import date
>>> parse_date_expression("last month", today=date(2025, 3, 15))
(datetime.date(2025, 2, 1), datetime.date(2025, 2, 28))
>>> parse_date_expression("1 month ago", today=date(2025, 3, 31))
datetime.date(2025, 2, 28)
>>> resolve_date_range("last month", None, today=date(2025, 3, 15)).describe()
'2025-02-01 00:00 UTC to 2025-03-01 00:00 UTC (exclusive)'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from semantic.errors import InvalidArgumentError, SemanticError
from semantic.plan.arguments import shown
from semantic.plan.timegrain import add_periods, calendar_period

__all__ = [
    "ACCEPTED_FORMS",
    "DateExpressionError",
    "clock_day",
    "DateRange",
    "parse_date_expression",
    "resolve_date_range",
]

ACCEPTED_FORMS = (
    "an ISO date such as 2025-02-01 (or a date / datetime object)",
    "today",
    "yesterday",
    "N days ago, N weeks ago, N months ago, N years ago",
    "last N days, last N weeks, last N months (N days/weeks/months ending today)",
    "this week, this month, this quarter, this year (from the period's first day to today)",
    "last week, last month, last quarter, last year (the whole previous calendar period)",
    "YTD (1 January of this year to today)",
)

DateOrPeriod = date | tuple[date, date]


class DateExpressionError(SemanticError):
    """A start or end date the grammar does not accept, or a start after the end."""


@dataclass(frozen=True)
class DateRange:
    """A half-open ``[start, end)`` range of naive UTC timestamps; ``None`` leaves a side open.

    >>> DateRange(None, None).describe()
    'all time'
    """

    start: datetime | None
    end: datetime | None

    def describe(self) -> str:
        if self.start is None and self.end is None:
            return "all time"
        if self.end is None:
            return f"from {_fmt(self.start)}"
        if self.start is None:
            return f"until {_fmt(self.end)} (exclusive)"
        return f"{_fmt(self.start)} to {_fmt(self.end)} (exclusive)"

    def contains(self, moment: datetime | None) -> bool:
        """Whether a naive UTC timestamp lies in the range (``None`` never does unless unbounded)."""
        if self.start is None and self.end is None:
            return True
        if moment is None:
            return False
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)


def _fmt(moment: datetime | None) -> str:
    return f"{moment.date().isoformat()} {moment:%H:%M} UTC"  # isoformat: year 1 is 0001


_NUMBER = r"(\d{1,6})"
_AGO = re.compile(rf"{_NUMBER} (day|week|month|year)s? ago")
_LAST_N = re.compile(rf"last {_NUMBER} (day|week|month)s?")
_CURRENT = re.compile(r"this (week|month|quarter|year)")
_PREVIOUS = re.compile(r"last (week|month|quarter|year)")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_date_expression(text: str | date, *, today: date) -> DateOrPeriod:
    """One expression as a day or an inclusive ``(first, last)`` period.

    >>> parse_date_expression("  Last 7 DAYS ", today=date(2025, 3, 15))
    (datetime.date(2025, 3, 9), datetime.date(2025, 3, 15))
    >>> parse_date_expression("this week", today=date(2025, 3, 15))  # a Saturday
    (datetime.date(2025, 3, 10), datetime.date(2025, 3, 15))
    """
    if isinstance(text, date):
        try:
            return _utc_day(text)
        except DateExpressionError as exc:
            raise _error(exc.args[0]) from None
    if not isinstance(text, str):
        raise _error(f"a date must be text or a date, not {shown(text)}")
    spoken = " ".join(text.lower().split())
    try:
        return _parse_spoken(spoken, _utc_day(today))
    except DateExpressionError:
        raise
    except (OverflowError, ValueError) as exc:
        raise _error(f"{text!r} is not a valid date ({exc})") from None


def _parse_spoken(spoken: str, today: date) -> DateOrPeriod:
    if spoken == "today":
        return today
    if spoken == "yesterday":
        return today - timedelta(days=1)
    if spoken == "ytd":
        return date(today.year, 1, 1), today
    if match := _ISO.fullmatch(spoken):
        return date(*map(int, match.groups()))
    if match := _AGO.fullmatch(spoken):
        return add_periods(match[2], today, -int(match[1]))
    if match := _LAST_N.fullmatch(spoken):
        n = int(match[1])
        if n < 1:
            raise ValueError("the number of periods must be at least 1")
        return add_periods(match[2], today, -n) + timedelta(days=1), today
    if match := _CURRENT.fullmatch(spoken):
        return calendar_period(match[1], today)[0], today
    if match := _PREVIOUS.fullmatch(spoken):
        first = calendar_period(match[1], today)[0]
        return calendar_period(match[1], first - timedelta(days=1))
    raise _error(f"unrecognised date {spoken!r}")


def resolve_date_range(
    start_date: str | date | None, end_date: str | date | None, *, today: date | None = None
) -> DateRange:
    """Resolve a query's ``start_date`` / ``end_date`` to a half-open UTC range.

    A period as ``start_date`` contributes its first day (the whole period when there is no
    ``end_date``); as ``end_date`` its last day, counted through the end of that day.

    >>> r = resolve_date_range("2025-02-01", "2025-02-28", today=date(2025, 3, 15))
    >>> r.start, r.end
    (datetime.datetime(2025, 2, 1, 0, 0), datetime.datetime(2025, 3, 1, 0, 0))
    >>> resolve_date_range(None, "yesterday", today=date(2025, 3, 15)).describe()
    'until 2025-03-15 00:00 UTC (exclusive)'
    """
    today = clock_day(today)
    start = end = None
    if start_date is not None:
        parsed = _parse_argument("start_date", start_date, today)
        first, last = parsed if isinstance(parsed, tuple) else (parsed, None)
        start = _midnight(first)
        if last is not None and end_date is None:
            end = _day_after(last, "start_date")
    if end_date is not None:
        parsed = _parse_argument("end_date", end_date, today)
        end = _day_after(parsed[1] if isinstance(parsed, tuple) else parsed, "end_date")
    if start is not None and end is not None and start >= end:
        raise DateExpressionError(
            f"start_date {start_date!r} ({start.date().isoformat()}) is after end_date {end_date!r} "
            f"({(end - timedelta(days=1)).date().isoformat()}); give a start on or before the end"
        )
    return DateRange(start, end)


def _parse_argument(argument: str, value: Any, today: date) -> DateOrPeriod:
    try:
        return parse_date_expression(value, today=today)
    except DateExpressionError as exc:
        raise DateExpressionError(f"{argument}: {exc}") from None


def clock_day(today: Any = None) -> date:
    """The clock's UTC day: now when None; else a date, a datetime (its UTC day), an ISO date
    text, or a function returning one of these (an injectable clock).

    >>> clock_day("2025-03-15"), clock_day(lambda: datetime(2025, 3, 15, 23, 30, tzinfo=timezone(timedelta(hours=-3))))
    (datetime.date(2025, 3, 15), datetime.date(2025, 3, 16))
    """
    value = datetime.now(timezone.utc) if today is None else \
        today() if callable(today) and not isinstance(today, type) else today
    if isinstance(value, str) and _ISO.fullmatch(value.strip()):
        try:
            return date(*map(int, value.strip().split("-")))
        except ValueError as exc:
            raise InvalidArgumentError("today", f"today={value!r} is not a valid date ({exc})") from None
    if not isinstance(value, date):
        raise InvalidArgumentError("today", f"today must be a date, a datetime, an ISO date text such as "
                                            f"'2025-03-15', or a function returning one; not {shown(value)}")
    try:
        return _utc_day(value)
    except DateExpressionError as exc:
        raise InvalidArgumentError("today", f"today {exc.args[0]}") from None


def _utc_day(value: date) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            try:
                value = value.astimezone(timezone.utc)
            except OverflowError:
                raise DateExpressionError(f"{value.isoformat()} falls outside the days a UTC date can hold "
                                          f"(0001-01-01 to 9999-12-31)") from None
        return value.date()
    return value


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def _day_after(day: date, argument: str) -> datetime:
    try:
        return _midnight(day + timedelta(days=1))
    except OverflowError:
        raise _error(f"{argument}: {day} is the last representable day; no range can end after it") from None


def _error(problem: str) -> DateExpressionError:
    forms = "; ".join(ACCEPTED_FORMS)
    return DateExpressionError(f"{problem}. Accepted forms: {forms}. Case and extra spaces are ignored.")
