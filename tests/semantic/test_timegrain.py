"""Time grains: the labels the SQL writes are the labels the filters and fill_missing read."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from semantic.model.loader import load_model
from semantic.model.spec import GRANULARITIES
from semantic.plan.timegrain import LABELS, add_periods, is_label, label_bounds, label_start, periods, truncate
from semantic.sql.labels import time_label

moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31))
CON = duckdb.connect()


def sql_label(grain: str, moment: datetime) -> str:
    """The label DuckDB writes for the period of a moment, through the SQL the answers use."""
    key = exp.TimestampTrunc(this=exp.cast(exp.Literal.string(moment.isoformat(sep=" ")), "TIMESTAMP"),
                             unit=exp.var(grain.upper()))
    return CON.execute(exp.select(time_label(load_model().dimensions[grain], key)).sql("duckdb")).fetchone()[0]


@settings(max_examples=60, deadline=None)
@given(moment=moments, grain=st.sampled_from(GRANULARITIES))
@example(moment=datetime(2024, 12, 30, 23, 59), grain="week")  # ISO week 1 of 2025
@example(moment=datetime(2021, 1, 3, 12), grain="week")  # ISO week 53 of 2020
@example(moment=datetime(2025, 12, 31, 23, 59, 59), grain="quarter")
def test_the_sql_label_names_the_period_of_its_moment(moment, grain):
    label = sql_label(grain, moment)
    assert is_label(grain, label) and LABELS[grain].pattern.fullmatch(label)
    start, end = label_bounds(grain, label)
    assert start == label_start(grain, label) == truncate(grain, moment)
    assert start <= moment < end


@given(moment=moments, grain=st.sampled_from(GRANULARITIES))
def test_periods_follow_each_other(moment, grain):
    start = truncate(grain, moment)
    listed = periods(grain, start, start + timedelta(days=800))
    assert listed[0] == start and all(a < b for a, b in zip(listed, listed[1:]))
    assert all(truncate(grain, p) == p for p in listed)
    assert listed[1].date() == add_periods(grain, start.date(), 1)


@pytest.mark.parametrize(("grain", "text"), [("week", "2025-W53"), ("month", "2025-13"), ("day", "2025-02-30"),
                                             ("quarter", "2025-Q5"), ("year", "25"), ("month", "2025-02\n")])
def test_texts_that_name_no_period_are_not_labels(grain, text):
    assert not is_label(grain, text)


def test_every_granularity_has_a_label_format_with_a_valid_example():
    assert set(LABELS) == set(GRANULARITIES)
    assert all(is_label(grain, fmt.example) for grain, fmt in LABELS.items())
