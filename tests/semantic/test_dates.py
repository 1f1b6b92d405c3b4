"""The relative-date grammar of semantic/README.md ("Dates"), form by form and by property."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic.plan.dates import (
    ACCEPTED_FORMS,
    DateExpressionError,
    DateRange,
    parse_date_expression,
    resolve_date_range,
)
from semantic.errors import SemanticError
from semantic.plan.timegrain import calendar_period

settings.register_profile("default", max_examples=150, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

TODAY = date(2025, 3, 15)  # a Saturday in Q1
D = date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", D(2025, 3, 15)),
        ("yesterday", D(2025, 3, 14)),
        ("0 days ago", D(2025, 3, 15)),
        ("1 day ago", D(2025, 3, 14)),
        ("3 days ago", D(2025, 3, 12)),
        ("2 weeks ago", D(2025, 3, 1)),
        ("1 month ago", D(2025, 2, 15)),
        ("3 months ago", D(2024, 12, 15)),
        ("1 year ago", D(2024, 3, 15)),
        ("2025-02-01", D(2025, 2, 1)),
        ("last 1 day", (D(2025, 3, 15), D(2025, 3, 15))),
        ("last 30 days", (D(2025, 2, 14), D(2025, 3, 15))),
        ("last 2 weeks", (D(2025, 3, 2), D(2025, 3, 15))),
        ("last 3 months", (D(2024, 12, 16), D(2025, 3, 15))),
        ("this week", (D(2025, 3, 10), D(2025, 3, 15))),
        ("this month", (D(2025, 3, 1), D(2025, 3, 15))),
        ("this quarter", (D(2025, 1, 1), D(2025, 3, 15))),
        ("this year", (D(2025, 1, 1), D(2025, 3, 15))),
        ("last week", (D(2025, 3, 3), D(2025, 3, 9))),
        ("last month", (D(2025, 2, 1), D(2025, 2, 28))),
        ("last quarter", (D(2024, 10, 1), D(2024, 12, 31))),
        ("last year", (D(2024, 1, 1), D(2024, 12, 31))),
        ("YTD", (D(2025, 1, 1), D(2025, 3, 15))),
    ],
)
def test_every_form(text, expected):
    assert parse_date_expression(text, today=TODAY) == expected


@pytest.mark.parametrize("text", ["  Last   Month ", "LAST MONTH", "last month\t", "\nlast\nmonth"])
def test_case_and_whitespace_are_ignored(text):
    assert parse_date_expression(text, today=TODAY) == (D(2025, 2, 1), D(2025, 2, 28))


def test_date_and_datetime_objects():
    assert parse_date_expression(D(2025, 1, 2), today=TODAY) == D(2025, 1, 2)
    assert parse_date_expression(datetime(2025, 1, 2, 23, 59), today=TODAY) == D(2025, 1, 2)
    late_in_new_york = datetime(2025, 1, 2, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert parse_date_expression(late_in_new_york, today=TODAY) == D(2025, 1, 3)
    assert resolve_date_range(D(2025, 1, 2), D(2025, 1, 2), today=TODAY) == DateRange(
        datetime(2025, 1, 2), datetime(2025, 1, 3)
    )


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        (D(2025, 3, 31), "1 month ago", D(2025, 2, 28)),
        (D(2024, 3, 31), "1 month ago", D(2024, 2, 29)),
        (D(2025, 5, 31), "1 month ago", D(2025, 4, 30)),
        (D(2025, 1, 31), "2 months ago", D(2024, 11, 30)),
        (D(2025, 1, 15), "1 month ago", D(2024, 12, 15)),
        (D(2024, 2, 29), "1 year ago", D(2023, 2, 28)),
        (D(2028, 2, 29), "4 years ago", D(2024, 2, 29)),
        (D(2025, 3, 31), "last 1 month", (D(2025, 3, 1), D(2025, 3, 31))),
        (D(2024, 3, 1), "last 1 month", (D(2024, 2, 2), D(2024, 3, 1))),
        (D(2024, 3, 1), "yesterday", D(2024, 2, 29)),
        (D(2025, 3, 1), "yesterday", D(2025, 2, 28)),
        (D(2024, 3, 10), "last month", (D(2024, 2, 1), D(2024, 2, 29))),
        (D(2025, 1, 1), "last month", (D(2024, 12, 1), D(2024, 12, 31))),
        (D(2025, 1, 1), "last quarter", (D(2024, 10, 1), D(2024, 12, 31))),
        (D(2025, 1, 1), "last year", (D(2024, 1, 1), D(2024, 12, 31))),
        (D(2025, 1, 1), "this quarter", (D(2025, 1, 1), D(2025, 1, 1))),
        (D(2025, 1, 1), "YTD", (D(2025, 1, 1), D(2025, 1, 1))),
        (D(2025, 3, 31), "this quarter", (D(2025, 1, 1), D(2025, 3, 31))),
        (D(2025, 4, 1), "this quarter", (D(2025, 4, 1), D(2025, 4, 1))),
        (D(2025, 4, 1), "last quarter", (D(2025, 1, 1), D(2025, 3, 31))),
        (D(2025, 9, 30), "last quarter", (D(2025, 4, 1), D(2025, 6, 30))),
        (D(2025, 12, 31), "this quarter", (D(2025, 10, 1), D(2025, 12, 31))),
        # ISO weeks start on Monday and cross year boundaries.
        (D(2025, 3, 10), "this week", (D(2025, 3, 10), D(2025, 3, 10))),
        (D(2025, 3, 16), "this week", (D(2025, 3, 10), D(2025, 3, 16))),
        (D(2025, 1, 1), "this week", (D(2024, 12, 30), D(2025, 1, 1))),
        (D(2025, 1, 1), "last week", (D(2024, 12, 23), D(2024, 12, 29))),
        (D(2021, 1, 3), "last week", (D(2020, 12, 21), D(2020, 12, 27))),
    ],
)
def test_calendar_edges(today, text, expected):
    assert parse_date_expression(text, today=today) == expected


def test_resolve_days_and_periods():
    r = resolve_date_range("2025-02-01", "2025-02-28", today=TODAY)
    assert (r.start, r.end) == (datetime(2025, 2, 1), datetime(2025, 3, 1))
    assert r.describe() == "2025-02-01 00:00 UTC to 2025-03-01 00:00 UTC (exclusive)"
    # A period alone as start_date means the whole period.
    assert resolve_date_range("last month", None, today=TODAY) == r
    # As start it contributes its first day, as end its last day (through the end of that day).
    assert resolve_date_range("last quarter", "last month", today=TODAY) == DateRange(
        datetime(2024, 10, 1), datetime(2025, 3, 1)
    )
    assert resolve_date_range("this month", "today", today=TODAY) == DateRange(
        datetime(2025, 3, 1), datetime(2025, 3, 16)
    )
    # A single day as start_date leaves the end open.
    assert resolve_date_range("yesterday", None, today=TODAY) == DateRange(datetime(2025, 3, 14), None)
    assert resolve_date_range(None, "2025-02-28", today=TODAY) == DateRange(None, datetime(2025, 3, 1))
    assert resolve_date_range(None, None, today=TODAY) == DateRange(None, None)


def test_describe_open_sides():
    assert DateRange(None, None).describe() == "all time"
    assert DateRange(datetime(2025, 1, 1), None).describe() == "from 2025-01-01 00:00 UTC"
    assert DateRange(None, datetime(2025, 1, 1)).describe() == "until 2025-01-01 00:00 UTC (exclusive)"


def test_contains_is_half_open_and_excludes_null():
    r = DateRange(datetime(2025, 2, 1), datetime(2025, 3, 1))
    assert r.contains(datetime(2025, 2, 1))
    assert r.contains(datetime(2025, 2, 28, 23, 59, 59, 999999))
    assert not r.contains(datetime(2025, 3, 1))
    assert not r.contains(datetime(2025, 1, 31, 23, 59, 59))
    assert not r.contains(None)
    assert DateRange(None, None).contains(None)


def test_default_clock_is_utc_today():
    r = resolve_date_range("today", None, today=None)
    assert r.start.date() in {
        (datetime.now(timezone.utc) + timedelta(days=delta)).date() for delta in (-1, 0)
    }


@pytest.mark.parametrize(
    "text",
    ["", "tomorrow", "next week", "last 0 days", "last 2 quarters", "3 fortnights ago", "-1 days ago",
     "2025-02-30", "2025-2-1", "2025/02/01", "this decade", "ytd 2024", "1000000 years ago"],
)
def test_anything_else_is_a_typed_error_listing_the_forms(text):
    with pytest.raises(DateExpressionError) as info:
        parse_date_expression(text, today=TODAY)
    assert isinstance(info.value, SemanticError)
    for form in ACCEPTED_FORMS:
        assert form in str(info.value)


@pytest.mark.parametrize("value", [20250201, 3.5, ["today"]])
def test_wrong_types_are_typed_errors(value):
    with pytest.raises(DateExpressionError, match="Accepted forms"):
        resolve_date_range(value, None, today=TODAY)


def test_start_after_end_is_an_error():
    with pytest.raises(DateExpressionError, match="after end_date"):
        resolve_date_range("today", "yesterday", today=TODAY)
    with pytest.raises(DateExpressionError):
        resolve_date_range("this month", "last month", today=TODAY)
    # The same day as start and end is a one-day range.
    assert resolve_date_range("today", "today", today=TODAY) == DateRange(
        datetime(2025, 3, 15), datetime(2025, 3, 16)
    )


def test_overflow_is_a_typed_error():
    with pytest.raises(DateExpressionError):
        resolve_date_range(None, date.max, today=TODAY)
    with pytest.raises(DateExpressionError):
        parse_date_expression("5000 years ago", today=TODAY)


days = st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31))
units = st.sampled_from(["week", "month", "quarter", "year"])
periods = st.sampled_from(
    ["this week", "this month", "this quarter", "this year", "last week", "last month",
     "last quarter", "last year", "ytd"]
)


@given(today=days, text=st.one_of(periods, st.builds("last {} {}".format, st.integers(1, 400),
                                                      st.sampled_from(["days", "weeks", "months"]))))
def test_every_period_is_ordered_and_never_in_the_future(today, text):
    first, last = parse_date_expression(text, today=today)
    assert first <= last <= today
    r = resolve_date_range(text, None, today=today)
    assert r.start == datetime.combine(first, datetime.min.time())
    assert r.end == datetime.combine(last + timedelta(days=1), datetime.min.time())


@given(today=days, unit=units)
def test_last_period_is_the_period_before_this_one(today, unit):
    this_first, _ = parse_date_expression(f"this {unit}", today=today)
    last_first, last_last = parse_date_expression(f"last {unit}", today=today)
    assert last_last + timedelta(days=1) == this_first
    assert calendar_period(unit, last_first) == (last_first, last_last)


@given(day=days, unit=units)
def test_periods_tile_the_calendar(day, unit):
    first, last = calendar_period(unit, day)
    assert first <= day <= last
    assert calendar_period(unit, last + timedelta(days=1))[0] == last + timedelta(days=1)
    assert calendar_period(unit, first - timedelta(days=1))[1] == first - timedelta(days=1)
    if unit == "week":
        assert first.weekday() == 0 and last.weekday() == 6
        assert first.isocalendar()[:2] == day.isocalendar()[:2]
    else:
        assert first.day == 1
        assert last.year == first.year


@given(today=days, unit=st.sampled_from(["month", "year"]), n=st.integers(0, 60))
def test_months_and_years_ago_clamp_to_the_month_end(today, unit, n):
    shifted = parse_date_expression(f"{n} {unit}s ago", today=today)
    months = n * (12 if unit == "year" else 1)
    assert (today.year * 12 + today.month) - (shifted.year * 12 + shifted.month) == months
    assert shifted.day == today.day or (shifted.day < today.day and (shifted + timedelta(days=1)).day == 1)


@given(today=days, n=st.integers(1, 400), unit=st.sampled_from(["day", "week"]))
def test_last_n_days_and_weeks_span_exactly_n_periods(today, n, unit):
    first, last = parse_date_expression(f"last {n} {unit}s", today=today)
    assert (last - first).days + 1 == n * (7 if unit == "week" else 1)


@given(today=days, a=days, b=days)
def test_iso_ranges_are_half_open_and_ordered(today, a, b):
    if a > b:
        with pytest.raises(DateExpressionError):
            resolve_date_range(a.isoformat(), b.isoformat(), today=today)
        return
    r = resolve_date_range(a.isoformat(), b.isoformat(), today=today)
    assert r.start < r.end
    assert (r.end - r.start).days == (b - a).days + 1
