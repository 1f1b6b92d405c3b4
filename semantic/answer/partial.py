"""Partial periods: rows of a time dimension that do not hold a whole period of data.

A period is **partial** when it is still open on the clock's day (it ends after that day:
"this month" holds only the days so far, and its figures will still grow) or when the query's
date range cuts it (``start_date="last 12 months"`` starts in the middle of a month). Such a
row is not comparable with its whole neighbours: an answer names it in its warnings, in
``metadata["partial_periods"]`` and ``df.attrs["partial_periods"]``
(``{dimension: {label: why}}``), and ``Answer.plot()`` draws it hatched.

>>> from semantic.plan.dates import DateRange
>>> rng = DateRange(datetime(2024, 3, 16), datetime(2025, 3, 16))
>>> partial_periods("month", ["2024-03", "2024-04", "2025-03"], rng, date(2025, 3, 15))
{'2024-03': 'cut by the date range (from 2024-03-16)', '2025-03': 'still open (data through 2025-03-15)'}
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from semantic.plan.dates import DateRange
from semantic.plan.timegrain import is_label, label_bounds


def partial_periods(grain: str, labels: Iterable, rng: DateRange, today: date) -> dict[str, str]:
    """Each label of ``labels`` naming a partial period, with why (in label order)."""
    end_of_today = datetime.combine(today + timedelta(days=1), time())
    partial = {}
    for label in sorted({str(x) for x in labels if isinstance(x, str) and is_label(grain, x)}):
        start, end = label_bounds(grain, label)
        if end > end_of_today:
            partial[label] = f"still open (data through {today.isoformat()})"
        elif rng.start is not None and rng.start > start:
            partial[label] = f"cut by the date range (from {rng.start:%Y-%m-%d})"
        elif rng.end is not None and rng.end < end:
            partial[label] = f"cut by the date range (until {rng.end - timedelta(days=1):%Y-%m-%d})"
    return partial


def partial_warning(dimension: str, partial: dict[str, str]) -> str:
    """One warning naming a dimension's partial periods.

    >>> partial_warning("month", {"2025-03": "still open (data through 2025-03-15)"})
    'partial month: 2025-03 still open (data through 2025-03-15); a partial period holds less than a whole one'
    """
    listed = "; ".join(f"{label} {why}" for label, why in partial.items())
    return f"partial {dimension}: {listed}; a partial period holds less than a whole one"
