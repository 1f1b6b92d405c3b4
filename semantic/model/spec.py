"""Typed, immutable objects of a loaded semantic model (what the YAML files declare).

Vocabulary follows dbt MetricFlow / Cube: semantic models (tables with a primary key and
joins of explicit cardinality), dimensions (categorical, or time with granularities),
metrics (count, count_distinct, sum, avg, min, max with an optional filter; ratio; derived)
and saved queries (a named question with its exports).
Expressions from the YAML are parsed once, at load, into sqlglot trees kept here.

>>> from semantic.model.loader import load_model
>>> model = load_model()
>>> model.metrics["bug_count"].type, model.metrics["bug_count"].model
('count_distinct', 'bugs')
>>> model.dimensions["week"].granularity
'week'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlglot import exp

AGGREGATIONS = ("count", "count_distinct", "sum", "avg", "min", "max")
METRIC_TYPES = AGGREGATIONS + ("ratio", "derived")
CARDINALITIES = ("many_to_one", "one_to_one", "one_to_many", "many_to_many")
GRANULARITIES = ("day", "week", "month", "quarter", "year")
VALUE_TYPES = ("integer", "string", "boolean", "timestamp", "float")
EXPORT_FORMATS = ("csv", "parquet", "json")
_PYTHON_TYPES = {"integer": (int,), "string": (str,), "boolean": (bool,), "float": (int, float), "timestamp": (date,)}


def fits_type(value: Any, value_type: str) -> bool:
    """Whether a Python value is of a declared value type (a boolean is not a number).

    >>> fits_type(3, "integer"), fits_type(True, "integer"), fits_type(3, "float"), fits_type("3", "integer")
    (True, False, True, False)
    """
    if isinstance(value, bool) and value_type != "boolean":
        return False
    return isinstance(value, _PYTHON_TYPES.get(value_type, (object,)))


@dataclass(frozen=True)
class Location:
    """Where something was declared: file and 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Join:
    """A join from one semantic model to another, with its cardinality."""

    source: str
    target: str
    type: str
    on: tuple[tuple[str, str], ...]  # (source column, target column)
    bridge: bool = False
    required: bool = False  # inner join: rows without a match are never counted
    where: Location | None = None

    @property
    def fans_out(self) -> bool:
        return self.type in ("one_to_many", "many_to_many")


@dataclass(frozen=True)
class DefaultScope:
    """The rows of a model an answer counts unless a filter on ``dimension`` replaces them."""

    dimension: str
    values: tuple[Any, ...]
    description: str  # what the default keeps, in words ("executed tests")
    where: Location | None = None


@dataclass(frozen=True)
class SemanticModel:
    """A warehouse table with its primary key, typed columns and joins.

    ``entity`` / ``entities`` name one row and several in the words of answers and errors
    ("a bug-only dimension", "tests in scope")."""

    name: str
    table: str
    description: str
    primary_key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # (name, value type)
    joins: tuple[Join, ...] = ()
    default_scope: DefaultScope | None = None
    entity: str = ""
    entities: str = ""
    where: Location | None = None
    table_where: Location | None = None  # the line naming the table
    column_where: tuple[tuple[str, Location], ...] = ()  # the line declaring each column

    def column_type(self, name: str) -> str | None:
        return dict(self.columns).get(name)

    def column_location(self, name: str) -> Location | None:
        return dict(self.column_where).get(name, self.where)


@dataclass(frozen=True)
class Dimension:
    """A categorical or time dimension.

    ``key`` is the grouping expression on ``model`` (qualified columns reach joined
    models); ``overrides`` give the key for other metric sources. ``id_expr``/``label_expr``
    are evaluated after aggregation over the key (identifier ``key``) and the ``lookups``.
    ``metric_roles`` name, for some metrics, another dimension (a role of the same entity,
    with the same id) whose key groups and filters those metrics instead of ``key``.
    """

    name: str
    description: str
    model: str
    key: exp.Expression
    key_column: str
    value_type: str
    overrides: tuple[tuple[str, exp.Expression], ...] = ()
    id_expr: exp.Expression | None = None
    label_expr: exp.Expression | None = None
    label_type: str | None = None
    lookups: tuple[str, ...] = ()
    members_model: str | None = None
    allowed_values: tuple[Any, ...] | None = None
    granularity: str | None = None  # set for time dimensions
    filter_description: str = ""  # what a filter on it keeps, in words, where that is not obvious
    metric_roles: tuple[tuple[str, str], ...] = ()  # (metric, role dimension)
    where: Location | None = None

    @property
    def is_time(self) -> bool:
        return self.granularity is not None

    def role_for(self, metric: str) -> str | None:
        """The dimension whose key reads this one for a metric (None: its own key)."""
        return next((role for name, role in self.metric_roles if name == metric), None)

    @property
    def has_id(self) -> bool:
        return self.id_expr is not None


@dataclass(frozen=True)
class MetricInput:
    """A ratio/derived input: a metric, optionally with an extra filter."""

    metric: str
    filter: exp.Expression | None = None
    alias: str | None = None

    @property
    def name(self) -> str:
        return self.alias or self.metric


@dataclass(frozen=True)
class Metric:
    """A metric: an aggregation over a model, a ratio of two inputs, or a derived expression."""

    name: str
    description: str
    type: str
    model: str | None = None
    expr: exp.Expression | None = None
    filter: exp.Expression | None = None
    numerator: MetricInput | None = None
    denominator: MetricInput | None = None
    inputs: tuple[MetricInput, ...] = ()
    hidden: bool = False
    where: Location | None = None
    expr_sql: str = ""
    filter_sql: str = ""

    @property
    def is_simple(self) -> bool:
        return self.type in AGGREGATIONS


@dataclass(frozen=True)
class Export:
    """A file a saved query's answer is written to when it is materialised: ``path`` is
    relative to the exports directory."""

    name: str
    format: str
    path: str
    where: Location | None = None


@dataclass(frozen=True)
class SavedQuery:
    """A named question (dbt MetricFlow's saved query): the arguments of ``query_metrics``,
    with ``order_by`` as written (``-name`` sorts descending) and dates in the date grammar,
    resolved against the clock whenever the question is answered. ``lines`` holds the line of
    each key of its ``query_params``."""

    name: str
    description: str
    metrics: tuple[str, ...]
    group_by: tuple[str, ...] = ()
    where: tuple[tuple[str, Any], ...] = ()  # (dimension, a value or a tuple of values)
    order_by: tuple[str, ...] = ()
    limit: int | None = None
    start_date: str | None = None
    end_date: str | None = None
    fill_missing: bool = False
    exports: tuple[Export, ...] = ()
    location: Location | None = None
    lines: tuple[tuple[str, Location], ...] = ()

    def location_of(self, key: str) -> Location | None:
        """Where a key of the query's parameters is written (else the saved query itself)."""
        return dict(self.lines).get(key, self.location)

    @property
    def filters(self) -> dict[str, Any] | None:
        return {name: list(value) if isinstance(value, tuple) else value for name, value in self.where} or None

    @property
    def sort_by(self) -> tuple[str, ...]:
        return tuple(item.lstrip("-") for item in self.order_by)

    @property
    def sort_order(self) -> str:
        return "desc" if any(item.startswith("-") for item in self.order_by) else "asc"


@dataclass(frozen=True)
class Model:
    """The whole semantic model: every semantic model, dimension, metric and saved query by name."""

    models: dict[str, SemanticModel]
    dimensions: dict[str, Dimension]
    metrics: dict[str, Metric]
    files: tuple[str, ...] = field(default=())
    saved_queries: dict[str, SavedQuery] = field(default_factory=dict)

    @property
    def scope_model(self) -> SemanticModel | None:
        """The semantic model whose default scope every answer starts from (at most one has one)."""
        return next((sm for sm in self.models.values() if sm.default_scope), None)

    def __hash__(self) -> int:  # dicts inside: hash by identity, models are cached singletons
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other
