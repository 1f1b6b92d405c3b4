"""Saved queries as questions: a saved query's arguments, its dates resolved against the clock,
and the check that plans every saved query of a model, each problem at its line of YAML.

A saved query is answered the way it is written: its dates (the layer's grammar) are resolved
against the clock of the moment it is answered, so "this quarter" is the quarter of the day a
table is materialised. When it groups by a time dimension, the start moves back to the first
day of that dimension's period: a trend's first period is whole ("12 months ago" .. "today" by month on
2026-12-02 starts on 2025-12-01, not mid-month), and the resolved range says so.
"12 months ago" by month is then always the 12 months before this one and this month so far.

>>> from datetime import date
>>> from semantic.model.loader import load_model
>>> r = resolve_saved_query(load_model(), "bugs_per_test_by_month", today=date(2026, 12, 2))
>>> r.date_range.describe()
'2025-12-01 00:00 UTC to 2026-12-03 00:00 UTC (exclusive)'
>>> r.describe_dates()
"'12 months ago' .. 'today' on 2026-12-02, from the first day of its first month: 2025-12-01 00:00 UTC to 2026-12-03 00:00 UTC (exclusive)"
>>> r.arguments()["start_date"], r.arguments()["end_date"]
(datetime.date(2025, 12, 1), datetime.date(2026, 12, 2))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from semantic.config import Guardrails
from semantic.errors import (
    GuardrailError, InvalidFilterError, ModelValidationError, SemanticError, UnknownDimensionError,
    UnknownSavedQueryError, did_you_mean,
)
from semantic.model.source import Problems
from semantic.model.spec import GRANULARITIES, Location, Model, SavedQuery
from semantic.plan.dates import DateExpressionError, DateRange, clock_day, resolve_date_range
from semantic.plan.planner import plan_query
from semantic.plan.query_plan import QueryPlan
from semantic.plan.timegrain import start_of


@dataclass(frozen=True)
class SavedQueryRequest:
    """A saved query on one day: the arguments ``query_metrics`` answers it with."""

    saved_query: SavedQuery
    today: date
    date_range: DateRange
    aligned_to: str | None = None  # the time dimension whose period the start was moved back to

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments of ``query_metrics`` / ``explain`` (dates as the resolved days)."""
        sq, rng = self.saved_query, self.date_range
        return {
            "metrics": sq.metrics, "dimensions": sq.group_by, "filters": sq.filters,
            "start_date": rng.start.date() if rng.start else None,
            "end_date": (rng.end - timedelta(days=1)).date() if rng.end else None,
            "sort_by": sq.sort_by or None, "sort_order": sq.sort_order, "limit": sq.limit,
            "fill_missing": sq.fill_missing,
        }

    def describe_dates(self) -> str:
        """The dates as written, the day they were resolved on, and the range they became."""
        sq = self.saved_query
        if sq.start_date is None and sq.end_date is None:
            return "all dates"
        written = " .. ".join(repr(text) if text else "open" for text in (sq.start_date, sq.end_date)) \
            if sq.end_date else repr(sq.start_date)
        aligned = f", from the first day of its first {self.aligned_to}" if self.aligned_to else ""
        return f"{written} on {self.today.isoformat()}{aligned}: {self.date_range.describe()}"


def saved_query(model: Model, name: Any) -> SavedQuery:
    """The model's saved query of that name (an :class:`UnknownSavedQueryError` says which exist)."""
    if isinstance(name, str) and name in model.saved_queries:
        return model.saved_queries[name]
    known = sorted(model.saved_queries)
    raise UnknownSavedQueryError(
        f"unknown saved query {name!r}{did_you_mean(str(name), known)}; "
        + (f"saved queries: {', '.join(known)}" if known else "the model defines no saved queries"))


def resolve_saved_query(model: Model, name: str | SavedQuery, today: Any = None) -> SavedQueryRequest:
    """A saved query's arguments on the clock's day (``today``: as ``query_metrics`` takes it)."""
    sq = name if isinstance(name, SavedQuery) else saved_query(model, name)
    day = clock_day(today)
    try:
        rng = resolve_date_range(sq.start_date, sq.end_date, today=day)
    except DateExpressionError as exc:
        key = "end_date" if str(exc).startswith("end_date") else "start_date"
        raise _located(sq, key, str(exc)) from None
    grains = [model.dimensions[d].granularity for d in sq.group_by if model.dimensions[d].is_time]
    grain = max(grains, key=GRANULARITIES.index) if grains and rng.start is not None else None
    if grain is not None:
        first = datetime.combine(start_of(grain, rng.start.date()), datetime.min.time())
        if first != rng.start:
            return SavedQueryRequest(sq, day, DateRange(first, rng.end), grain)
    return SavedQueryRequest(sq, day, rng)


def plan_saved_query(model: Model, request: SavedQueryRequest, config: Guardrails | None = None) -> QueryPlan:
    """The plan of a resolved saved query under ``config``'s guardrails."""
    config = config or Guardrails()
    args = request.arguments()
    return plan_query(model, args["metrics"], args["dimensions"], args["filters"], request.date_range.start,
                      request.date_range.end, args["sort_by"], args["sort_order"], args["limit"],
                      args["fill_missing"], config.max_dimensions, config.default_row_limit, config.max_row_limit)


# Which key of a saved query's parameters a planning error is about.
_KEY_OF_ERROR = ((InvalidFilterError, "where"), (UnknownDimensionError, "group_by"), (GuardrailError, "group_by"))


def check_saved_queries(model: Model, today: Any = None, config: Guardrails | None = None) -> None:
    """Plan every saved query of the model on ``today``; raise :class:`ModelValidationError`
    listing each one that cannot be answered (a filter value outside its dimension's values,
    a date the grammar does not know, a dimension that cannot group a metric, ...), each at the
    line of the key it is about."""
    problems = Problems()
    for sq in model.saved_queries.values():
        try:
            plan_saved_query(model, resolve_saved_query(model, sq, today), config)
        except ModelValidationError as exc:
            problems.error(exc.problem, _location(exc))
        except SemanticError as exc:
            key = next((k for kind, k in _KEY_OF_ERROR if isinstance(exc, kind)), "metrics")
            if "sort" in str(exc):
                key = "order_by"
            problems.error(f"saved query {sq.name} cannot be answered: {exc}", sq.location_of(key))
    problems.raise_if_any()


def _located(sq: SavedQuery, key: str, message: str) -> ModelValidationError:
    where = sq.location_of(key)
    return ModelValidationError(f"{key} of saved query {sq.name}: {message}",
                                file=where.file if where else None, line=where.line if where else None)


def _location(exc: ModelValidationError) -> Location | None:
    return Location(exc.file, exc.line) if exc.file and exc.line else None
