"""The plan of one query: immutable objects holding every decision, for the renderer to translate.

A :class:`QueryPlan` says which metric sources are aggregated (one :class:`SourcePlan` each),
and for each source which joins its FROM clause needs, how every dimension key and filter is
read from it, which time dimension the date range bounds, and whether rows must be
de-duplicated before aggregation; it also says which pieces give the answer's rows (the
spine) and, with ``fill_missing``, the members of each dimension. ``semantic.sql`` takes no
decision of its own: it turns these objects into one sqlglot SELECT.

>>> FilterSpec("severity", "label", ("critical", "high"), True).describe()
"severity in ('critical', 'high', NULL)"
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlglot import exp

from semantic.model.spec import Join


@dataclass(frozen=True)
class FilterSpec:
    """One filter: a dimension, which of its columns (label / id), values, and NULL."""

    dimension: str
    target: str  # "label" or "id"
    values: tuple[Any, ...]
    include_null: bool

    def describe(self) -> str:
        shown = [repr(v) for v in self.values] + (["NULL"] if self.include_null else [])
        col = self.dimension if self.target == "label" else f"{self.dimension}_id"
        return f"{col} = {shown[0]}" if len(shown) == 1 else f"{col} in ({', '.join(shown)})"


@dataclass(frozen=True)
class Measure:
    """One aggregated column of a source CTE (a simple metric, maybe with an extra filter)."""

    name: str
    metric: str
    extra_filter: exp.Expression | None = None


@dataclass(frozen=True)
class DimensionView:
    """A dimension's key as one source reads it: the expression with each column on the alias
    of its semantic model, and the joins from the source that reach those columns."""

    dimension: str
    key: exp.Expression
    path: tuple[Join, ...]


@dataclass(frozen=True)
class JoinStep:
    """One join of a source's FROM clause. A fan-out join made for a grouped key keeps only the
    rows where that key is not NULL (``not_null``): a row without a member is grouped by the
    source's own NULL group instead."""

    join: Join
    not_null: DimensionView | None = None


@dataclass(frozen=True)
class FilterUse:
    """A filter as one source applies it: a condition on a key its FROM clause joins, or a
    semi-join (any member matches) when the key lies behind a fan-out join it does not group by."""

    filter: FilterSpec
    view: DimensionView
    semi_join: bool


@dataclass(frozen=True)
class SourcePlan:
    """One aggregation CTE: a semantic model aggregated at the requested grain.

    Metrics of one model that read a dimension through different roles (``customer`` as
    ``submitted_by`` for one, as its own key for another) group by different keys, so each
    key choice is a piece of its own (``name``), stitched on the dimension values like a
    piece of another model."""

    model: str
    name: str  # the piece: the model, plus its roles ("tests__customer_as_submitted_by")
    roles: tuple[tuple[str, str], ...]  # (dimension, the role dimension whose key it reads here)
    measures: tuple[Measure, ...]
    filters: tuple[FilterSpec, ...]  # the query's filters that restrict this source's rows
    group_keys: tuple[DimensionView, ...]  # one per requested dimension, in order
    joins: tuple[JoinStep, ...]
    filter_uses: tuple[FilterUse, ...]
    scope: DimensionView | None  # the default scope's key, when the default scope applies
    dates: DimensionView | None  # the time key the date range bounds (None: no range)
    rows_repeat: bool  # a fan-out join can repeat a source row
    deduplicate: bool  # aggregate distinct (keys, primary key, values) rows: a repeat would count twice


@dataclass(frozen=True)
class Members:
    """Every member of a dimension (``fill_missing``): listed ``values``, the keys of
    ``table_model``, or, with neither, the values the answer's pieces observe."""

    dimension: str
    values: tuple[Any, ...] | None
    table_model: str | None


@dataclass(frozen=True)
class QueryPlan:
    """A resolved query. Rows of the answer come from the spine: the dimension combinations of
    the scope model (``scope_keys``, a source without measures) and of ``row_sources``."""

    metrics: tuple[str, ...]
    dimensions: tuple[str, ...]
    sources: tuple[SourcePlan, ...]
    filters: tuple[FilterSpec, ...]
    scope_model: str | None
    scope_values: tuple[Any, ...] | None  # default scope values, None when replaced by a filter
    date_start: datetime | None
    date_end: datetime | None
    date_dimension: str | None  # the time dimension a date range bounds (the scope model's)
    rows_from_scope: bool  # every dimension reaches the scope model: its rows in scope give the rows
    scope_keys: SourcePlan | None  # the scope's combinations join the spine
    row_sources: tuple[str, ...]  # pieces (SourcePlan.name) whose own combinations join the spine
    fill_missing: bool
    members: tuple[Members, ...]  # with fill_missing, one per dimension
    order_by: tuple[tuple[str, bool], ...]  # (output column, descending)
    limit: int
    warnings: tuple[str, ...]
