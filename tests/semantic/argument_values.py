"""Hypothesis strategies for the arguments of ``query_metrics`` / ``explain``: values a careless
or hostile caller may pass (any Python value), valid queries built from the packaged model, and
for each argument values that are certainly wrong. Shared by the property tests and
``benchmarks/fault_inputs.py``.

Valid queries are built from the model's own names: metrics grouped by dimensions every one of
their sources reaches (a bug-grain dimension groups only bug metrics), dates inside the range
the time grains can list, sort keys among the requested columns.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from hypothesis import strategies as st

from semantic.answer.freshness import TableFreshness
from semantic.config import Guardrails
from semantic.model.loader import MODELS_DIR, load_model
from semantic.plan.dates import DateExpressionError, parse_date_expression
from semantic.plan.resolve import metric_inputs
from semantic.plan.timegrain import LABELS
from semantic.plan.views import reaches
from semantic.sql.compiler import DIALECTS

MODEL = load_model()
METRICS = sorted(n for n, m in MODEL.metrics.items() if not m.hidden)
DIMENSIONS = sorted(MODEL.dimensions)
COLUMNS = METRICS + DIMENSIONS + [f"{d}_id" for d in DIMENSIONS if MODEL.dimensions[d].has_id]
ARGUMENTS = ("metrics", "dimensions", "filters", "start_date", "end_date", "sort_by", "sort_order", "limit",
             "fill_missing", "dialect", "warehouse", "today", "freshness", "config", "model")
# the word a typed error about each argument must contain
NAMED_BY = {"metrics": "metric", "dimensions": "dimension", "filters": "filter", "sort_by": "sort",
            "start_date": "start_date", "end_date": "end_date"}
RELATIVE_DATES = ("today", "yesterday", "3 days ago", "2 weeks ago", "1 month ago", "last 30 days", "last 2 weeks",
                  "this week", "this month", "this quarter", "this year", "last week", "last month",
                  "last quarter", "last year", "YTD", "  Last 7 DAYS ")


def _sources(metric: str) -> set[str]:
    return {MODEL.metrics[i.metric].model for i in metric_inputs(MODEL, MODEL.metrics[metric])}


def groups(metric: str, dimension: str) -> bool:
    return all(reaches(MODEL, MODEL.dimensions[dimension], s) for s in _sources(metric))


class StaticFreshness:
    """A FreshnessSource that reports every table fresh (or returns ``reply`` as is)."""

    def __init__(self, reply=None):
        self.reply = reply

    def table_freshness(self, tables):
        if self.reply is not None:
            return self.reply
        now = datetime.now(timezone.utc)
        return {t: TableFreshness(t, now, 0.0, "passing", "test", "static") for t in tables}


class FailingFreshness:
    def table_freshness(self, tables):
        raise RuntimeError("the freshness service is down")


# -- any Python value -----------------------------------------------------------------------
def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True



_offsets = st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59))
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70), st.floats(),
    st.text(max_size=12), st.binary(max_size=6), st.dates(),
    st.datetimes(timezones=st.none() | st.builds(timezone, _offsets)),
    st.sampled_from([Decimal("1.5"), complex(1, 2), Ellipsis, float("nan"), float("inf"), "", " ", ",", "\x00",
                     "\ud800", "bug_count,", "ASC", "-1"]),
    st.builds(object), st.builds(lambda: iter(["bug_count"])), st.builds(bytearray, st.binary(max_size=3)),
)
HASHABLE = SCALARS.filter(_hashable)
ANY = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.tuples(inner, inner), st.frozensets(HASHABLE, max_size=2),
                            st.dictionaries(HASHABLE, inner, max_size=2)),
    max_leaves=6,
)


def anything_but_names(names) -> st.SearchStrategy:
    """Any value, with the model's names mixed in so that some of them come close to valid."""
    return st.one_of(ANY, st.sampled_from(names), st.lists(st.sampled_from(names) | SCALARS, max_size=3))


# -- valid values ---------------------------------------------------------------------------

def _label(grain: str, day: date) -> str:
    if grain == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return day.strftime(LABELS[grain].strftime)


@st.composite
def filter_value(draw, dimension: str):
    dim = MODEL.dimensions[dimension]
    if dim.is_time:
        one = st.builds(_label, st.just(dim.granularity), st.dates(date(2000, 1, 1), date(2030, 12, 31)))
    elif dim.allowed_values is not None:
        one = st.sampled_from(dim.allowed_values)
    elif (dim.label_type or dim.value_type) == "integer":
        one = st.integers(-10, 10_000)
    else:
        one = st.text(max_size=8)
    return draw(st.one_of(one, st.none(), st.lists(one | st.none(), min_size=1, max_size=3)))


@st.composite
def valid_filters(draw):
    names = draw(st.lists(st.sampled_from(DIMENSIONS), max_size=2, unique=True))
    filters = {}
    for name in names:
        dim = MODEL.dimensions[name]
        key = f"{name}_id" if dim.has_id and draw(st.booleans()) else name
        if key.endswith("_id") and key != name:
            filters[key] = draw(st.integers(0, 10_000) | st.none()) if dim.value_type == "integer" else draw(
                st.text(max_size=8))
        else:
            filters[key] = draw(filter_value(name))
    return filters or None


def _ordered(first: date, second: date) -> tuple[date, date]:
    return (first, second) if first <= second else (second, first)


@st.composite
def valid_dates(draw):
    """start_date, end_date: absent, ISO texts, date objects, datetimes or relative forms; in order."""
    kind = draw(st.sampled_from(["none", "start", "end", "both", "relative", "datetime"]))
    days = st.dates(date(2000, 1, 1), date(2030, 12, 31))
    if kind == "none":
        return None, None
    if kind == "relative":
        return draw(st.sampled_from(RELATIVE_DATES)), None
    first, last = _ordered(draw(days), draw(days))
    if kind == "datetime":
        return datetime.combine(first, datetime.min.time(), timezone.utc), None
    if kind == "start":
        return first.isoformat(), None
    if kind == "end":
        return None, last
    return first.isoformat(), last.isoformat()


@st.composite
def valid_query(draw, warehouses):
    """A query every part of which is valid and which the model can answer."""
    metrics = draw(st.lists(st.sampled_from(METRICS), min_size=1, max_size=3, unique=True))
    reachable = [d for d in DIMENSIONS if all(groups(m, d) for m in metrics)]
    dimensions = draw(st.lists(st.sampled_from(reachable), max_size=3, unique=True))
    start_date, end_date = draw(valid_dates())
    columns = metrics + dimensions + [f"{d}_id" for d in dimensions if MODEL.dimensions[d].has_id]
    sort_by = draw(st.none() | st.lists(st.sampled_from(columns), min_size=1, max_size=2, unique=True))
    use_week = "week" in dimensions
    query = dict(
        metrics=draw(st.sampled_from([metrics, tuple(metrics), ", ".join(metrics)])),
        dimensions=draw(st.sampled_from([dimensions, ",".join(dimensions)])),
        filters=draw(valid_filters()),
        start_date=start_date, end_date=end_date,
        sort_by=sort_by if sort_by is None or draw(st.booleans()) else ",".join(sort_by),
        sort_order=draw(st.sampled_from(["asc", "desc", "ASC", " Desc "])),
        limit=draw(st.none() | st.integers(1, 10 ** 12)),
        fill_missing=draw(st.booleans()),
        dialect=draw(st.sampled_from(["duckdb"] if use_week else DIALECTS)),
        warehouse=draw(st.sampled_from(warehouses)),
        today=draw(st.sampled_from([None, date(2025, 3, 15), "2025-03-15", datetime(2025, 3, 15, 23, 30),
                                    lambda: date(2025, 3, 15)])),
        freshness=draw(st.sampled_from([None, StaticFreshness(), FailingFreshness(), StaticFreshness({"x": 1})])),
        config=draw(st.sampled_from([None, Guardrails(), Guardrails(max_row_limit=3)])),
        model=draw(st.sampled_from([None, MODEL, str(MODELS_DIR), MODELS_DIR])),
    )
    if query["fill_missing"] and any(MODEL.dimensions[d].is_time for d in dimensions) and start_date is not None:
        query["end_date"] = query["end_date"] or date(2030, 12, 31)  # a bounded, listable range
    return query


# -- values certainly wrong for one argument ------------------------------------------------

def _not_a_date_form(text: str) -> bool:
    try:
        parse_date_expression(text, today=date(2025, 3, 15))
    except DateExpressionError:
        return True
    return False


def _not_iso_day(text) -> bool:
    return not (isinstance(text, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", text))


def _not_a_name(known):
    return lambda v: not (isinstance(v, str) and all(n.strip() in known for n in v.split(",") if n.strip()))


def invalid(argument: str, missing_path: Path) -> st.SearchStrategy:
    """Values that are wrong for ``argument`` whatever the other arguments are."""
    not_str = ANY.filter(lambda v: not isinstance(v, str))
    wrong_type = {
        "metrics": st.one_of(
            st.integers(), st.floats(), st.dictionaries(st.text(max_size=3), st.text(max_size=3), min_size=1),
            st.lists(not_str, min_size=1, max_size=3), st.text(max_size=10).filter(_not_a_name(METRICS))
            .filter(str.strip), st.lists(st.text(max_size=6).filter(lambda t: t.strip() not in METRICS), min_size=1,
                                         max_size=2)),
        "dimensions": st.one_of(
            st.integers(), st.lists(not_str, min_size=1, max_size=3),
            st.text(max_size=10).filter(_not_a_name(DIMENSIONS)).filter(str.strip)),
        "filters": st.one_of(
            ANY.filter(lambda v: v is not None and not isinstance(v, dict)),
            st.dictionaries(not_str.filter(_hashable), st.text(max_size=3), min_size=1, max_size=2),
            st.dictionaries(st.sampled_from(DIMENSIONS), st.lists(st.lists(st.text(max_size=3), min_size=1),
                                                                   min_size=1, max_size=2), min_size=1),
            st.dictionaries(st.text(max_size=8).filter(lambda t: t not in DIMENSIONS and t[:-3] not in DIMENSIONS),
                            st.text(max_size=3), min_size=1, max_size=2)),
        "start_date": ANY.filter(lambda v: v is not None and not isinstance(v, (str, date)))
        | st.text(max_size=12).filter(_not_a_date_form),
        "end_date": ANY.filter(lambda v: v is not None and not isinstance(v, (str, date)))
        | st.text(max_size=12).filter(_not_a_date_form) | st.just(date(9999, 12, 31)),
        "sort_by": st.one_of(st.integers(), st.lists(not_str, min_size=1, max_size=2),
                             st.text(max_size=8).filter(lambda t: t.strip() and "," not in t and
                                                        t.strip() not in COLUMNS)),
        "sort_order": ANY.filter(lambda v: not (isinstance(v, str) and v.strip().lower() in ("asc", "desc"))),
        "limit": ANY.filter(lambda v: v is not None and not (type(v) is int and v >= 1)) | st.integers(max_value=0),
        "fill_missing": ANY.filter(lambda v: not isinstance(v, bool)),
        "dialect": ANY.filter(lambda v: v is not None and (v not in DIALECTS if _hashable(v) else True)),  # None: the engine's
        "warehouse": ANY.filter(lambda v: v is not None and not isinstance(v, str)) | st.just(str(missing_path)),
        "today": ANY.filter(lambda v: v is not None and not isinstance(v, date) and _not_iso_day(v))
        | st.functions(like=lambda: None, returns=SCALARS.filter(lambda v: not isinstance(v, date) and _not_iso_day(v)))
        | st.just(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=3)))),
        "freshness": ANY.filter(lambda v: v is not None),
        "config": ANY.filter(lambda v: v is not None),
        "model": ANY.filter(lambda v: v is not None and not isinstance(v, str)) | st.just(str(missing_path)),
    }
    return wrong_type[argument]
