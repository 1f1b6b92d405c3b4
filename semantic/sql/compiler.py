"""Compile a query to SQL text for a dialect: resolve -> plan -> sqlglot tree -> SQL.

Compiled SQL is kept for the 1,024 most recently used queries (normalised), the model is loaded
once, and no sqlglot optimizer pass runs in the hot path.

Dialects. The pieces of an answer are stitched by outer joins on NULL-safe key equality (the
NULL group is a group). DuckDB gets ``IS NOT DISTINCT FROM``, which it hash-joins. Elsewhere
that condition is not accepted or not kept in an outer join: BigQuery requires an equality of
both sides in a FULL/LEFT OUTER JOIN, Postgres runs a FULL JOIN only on hash- or
merge-joinable conditions, and older Trino refuses non-equi FULL JOINs. So every other dialect
gets the same meaning as equalities only, ``COALESCE(a, s) = COALESCE(b, s) AND (a IS NULL) =
(b IS NULL)`` with a sentinel ``s`` of the key's type (``semantic.sql.render.same_key``); the NULL
flags keep a NULL key apart from a real key equal to the sentinel. What a dialect cannot keep
is refused with :class:`UnsupportedDialectError` (ISO week labels, below, and any construct
sqlglot reports as unsupported).

>>> from semantic.model.loader import load_model
>>> c = compile_query(load_model(), ["test_count"], ["month"], dialect="postgres")
>>> "TO_CHAR" in c.sql
True
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from semantic.config import Guardrails
from semantic.errors import UnsupportedDialectError
from semantic.model.spec import Model
from semantic.plan.arguments import QueryRequest, query_request
from semantic.plan.planner import plan_query
from semantic.plan.query_plan import QueryPlan
from semantic.plan.saved_queries import SavedQueryRequest
from semantic.sql.columns import answer_columns
from semantic.sql.portable import for_dialect
from semantic.sql.render import render_plan

DIALECTS = ("duckdb", "postgres", "snowflake", "bigquery", "trino", "spark")
# Granularities whose label no dialect but DuckDB renders faithfully through sqlglot: the
# ISO week needs the ISO *year* (%G) and week (%V); postgres' TO_CHAR reads the literal W
# of 'IYYY-WIW' as week-of-month, trino maps %V to the Sunday-based week, snowflake and
# spark keep the strftime codes verbatim, and BigQuery truncates WEEK to Sunday.
UNSUPPORTED = {d: {"week": "ISO week labels ('2025-W07', ISO year)"} for d in DIALECTS if d != "duckdb"}
NULL_SAFE_JOIN_DIALECTS = ("duckdb",)  # the others stitch with equalities (module docstring)


@dataclass(frozen=True)
class Compiled:
    """A plan, its tree (adjusted for the dialect, :mod:`semantic.sql.portable`) and SQL text in one dialect."""

    plan: QueryPlan
    tree: exp.Expression
    sql: str
    dialect: str

    @functools.cached_property
    def probe_sql(self) -> str:
        """What query_metrics runs: one row past the limit, to tell a cut answer from a complete
        one without counting every answer's rows (rendered on first execution)."""
        if not self.plan.dimensions:
            return self.sql
        return self.tree.copy().limit(self.plan.limit + 1, copy=False).sql(dialect=self.dialect)

    @property
    def count_sql(self) -> str:
        """Rows of the whole answer, before sorting and the limit (asked when it was cut)."""
        answer = self.tree.copy()
        answer.set("order", None)
        answer.set("limit", None)
        return exp.select(exp.Count(this=exp.Star())).from_(answer.subquery("answer"), copy=False) \
            .sql(dialect=self.dialect)


def _typed(value):
    """Values with their types: True, 1 and 1.0 are equal keys, but different filters."""
    if isinstance(value, tuple):
        return tuple(_typed(v) for v in value)
    return (type(value).__name__, value)


def compile_query(model: Model, metrics, dimensions=(), filters=None, *, date_start=None, date_end=None,
                  sort_by=None, sort_order="desc", limit=None, fill_missing=False, dialect="duckdb",
                  config: Guardrails | None = None) -> Compiled:
    """Plan, render and cache one query (raises typed SemanticErrors for bad input)."""
    if not isinstance(dialect, str) or dialect not in DIALECTS:
        raise UnsupportedDialectError(f"unknown dialect {dialect!r}; supported: {', '.join(DIALECTS)}")
    request = query_request(metrics, dimensions, filters, sort_by, sort_order, limit, fill_missing)
    config = config or Guardrails()
    key = (model, request, _typed(request.filters), date_start, date_end, dialect,
           config.max_dimensions, config.default_row_limit, config.max_row_limit)
    return _COMPILED.get(key, lambda: _compile(model, request, date_start, date_end, dialect, config))


def compile_saved_query(model: Model, request: SavedQueryRequest, *, dialect="duckdb",
                        config: Guardrails | None = None) -> Compiled:
    """Compile a saved query resolved on a day (:func:`semantic.plan.saved_queries.resolve_saved_query`)."""
    args = request.arguments()
    return compile_query(model, args["metrics"], args["dimensions"], args["filters"],
                         date_start=request.date_range.start, date_end=request.date_range.end,
                         sort_by=args["sort_by"], sort_order=args["sort_order"], limit=args["limit"],
                         fill_missing=args["fill_missing"], dialect=dialect, config=config)


class LruCache:
    """The ``size`` most recently used compiled queries; the least recently used goes first.

    >>> cache = LruCache(2)
    >>> [cache.get(k, lambda: k.upper()) for k in ("a", "b", "a", "c")]
    ['A', 'B', 'A', 'C']
    >>> list(cache.items)
    ['a', 'c']
    """

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()  # notebooks and tests ask from several threads

    def get(self, key, compute):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = compute()
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


_COMPILED = LruCache(1024)


def _compile(model, request: QueryRequest, date_start, date_end, dialect, config) -> Compiled:
    plan = plan_query(model, request.metrics, request.dimensions, dict(request.filters), date_start, date_end,
                      request.sort_by, request.sort_order, request.limit, request.fill_missing,
                      config.max_dimensions, config.default_row_limit, config.max_row_limit)
    for dim in plan.dimensions:
        grain = model.dimensions[dim].granularity
        if grain in UNSUPPORTED.get(dialect, {}):
            raise UnsupportedDialectError(
                f"dialect {dialect} cannot keep the meaning of dimension {dim!r}: "
                f"{UNSUPPORTED[dialect][grain]} have no faithful equivalent there; "
                f"use duckdb, or group by day/month/quarter/year")
    tree = render_plan(model, plan, equality_joins=dialect not in NULL_SAFE_JOIN_DIALECTS)
    text = {c.name for c in answer_columns(model, plan) if c.type == "VARCHAR"}
    tree = for_dialect(tree, dialect, [name for name, _ in plan.order_by if name in text])
    try:
        sql = tree.sql(dialect=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.UnsupportedError as e:
        raise UnsupportedDialectError(f"dialect {dialect} cannot express this query: {e}") from None
    return Compiled(plan, tree, sql, dialect)


def clear_cache() -> None:
    """Forget compiled queries (used by benchmarks to time cold compiles)."""
    _COMPILED.clear()
