"""Query resolution: names, filters and guardrails checked against the model, into an
immutable :class:`QueryPlan` that the renderer turns into SQL.

>>> from semantic.model.loader import load_model
>>> p = plan_query(load_model(), ["bugs_per_test"], ["feature"])
>>> [s.model for s in p.sources], p.spine_needs_scope
(['bugs', 'tests'], False)
>>> plan_query(load_model(), ["bug_count"], ["feature"]).spine_needs_scope
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from semantic.errors import (
    GuardrailError, InvalidFilterError, InvalidQueryError, UnknownDimensionError,
    UnknownMetricError, did_you_mean,
)
from semantic.model.loader import find_path
from semantic.model.spec import Dimension, Metric, MetricInput, Model

TIME_VALUE_FORMATS = {
    "day": (r"^\d{4}-\d{2}-\d{2}$", "2025-02-03"),
    "week": (r"^\d{4}-W\d{2}$", "2025-W07"),
    "month": (r"^\d{4}-\d{2}$", "2025-02"),
    "quarter": (r"^\d{4}-Q[1-4]$", "2025-Q1"),
    "year": (r"^\d{4}$", "2025"),
}
_PY_TYPES = {"integer": (int,), "string": (str,), "boolean": (bool,), "float": (int, float)}


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
    extra_filter: Any = None  # sqlglot expression or None


@dataclass(frozen=True)
class SourcePlan:
    """One aggregation CTE: a semantic model aggregated at the requested grain."""

    model: str
    measures: tuple[Measure, ...]
    filters: tuple[FilterSpec, ...]  # filters that restrict this source's rows


@dataclass(frozen=True)
class QueryPlan:
    metrics: tuple[str, ...]
    dimensions: tuple[str, ...]
    sources: tuple[SourcePlan, ...]
    filters: tuple[FilterSpec, ...]
    scope_model: str
    scope_values: tuple[Any, ...] | None  # default scope values, None when replaced by a filter
    date_start: datetime | None
    date_end: datetime | None
    spine_needs_scope: bool
    fill_missing: bool
    order_by: tuple[tuple[str, bool], ...]  # (output column, descending)
    limit: int
    warnings: tuple[str, ...]


def _dimension(model: Model, name: str) -> Dimension:
    if not isinstance(name, str) or name not in model.dimensions:
        raise UnknownDimensionError(
            f"unknown dimension {name!r}{did_you_mean(str(name), model.dimensions)}; "
            f"valid dimensions: {', '.join(sorted(model.dimensions))}")
    return model.dimensions[name]


def _metric(model: Model, name: str) -> Metric:
    if not isinstance(name, str) or name not in model.metrics or model.metrics[name].hidden:
        visible = sorted(n for n, m in model.metrics.items() if not m.hidden)
        raise UnknownMetricError(
            f"unknown metric {name!r}{did_you_mean(str(name), visible)}; valid metrics: {', '.join(visible)}")
    return model.metrics[name]


def metric_inputs(model: Model, metric: Metric) -> list[MetricInput]:
    """The simple-metric inputs a metric needs (itself when simple)."""
    if metric.is_simple:
        return [MetricInput(metric.name)]
    refs = [metric.numerator, metric.denominator] if metric.type == "ratio" else list(metric.inputs)
    out: list[MetricInput] = []
    for ref in refs:
        base = model.metrics[ref.metric]
        if base.is_simple:
            out.append(ref)
        else:
            out.extend(metric_inputs(model, base))
    return out


def reaches(model: Model, dim: Dimension, source: str) -> bool:
    """Whether a metric source can evaluate a dimension."""
    if any(name == source for name, _ in dim.overrides):
        return True
    return find_path(model.models, source, dim.model) is not None


def _unapplied_parts(model: Model, dim: Dimension, metric: Metric) -> tuple[list[str], bool]:
    """The parts of a metric a filter on ``dim`` cannot restrict, in words, and whether it
    restricts any part."""
    if metric.is_simple:
        applies = reaches(model, dim, metric.model)
        return ([] if applies else [metric.name]), applies
    roles = [("numerator", metric.numerator), ("denominator", metric.denominator)] \
        if metric.type == "ratio" else [("input", i) for i in metric.inputs]
    parts, restricted = [], False
    for role, inp in roles:
        inner, applies = _unapplied_parts(model, dim, model.metrics[inp.metric])
        restricted |= applies
        if inner:
            parts.append(f"{inp.metric}, the {role} of {metric.name}" if inner == [inp.metric]
                         else f"{', '.join(inner)} in the {role} of {metric.name}")
    return parts, restricted


def _unapplied_filter_warning(model: Model, f: FilterSpec, metrics: list[Metric]) -> str | None:
    dim = model.dimensions[f.dimension]
    unapplied, restricted = [], False
    for metric in metrics:
        parts, applies = _unapplied_parts(model, dim, metric)
        unapplied += [p for p in parts if p not in unapplied]
        restricted |= applies
    if not unapplied:
        return None
    effect = "it restricts the bug counts but not" if restricted else "it does not restrict"
    return f"the filter {f.describe()} is on a bug-only dimension: {effect} {'; nor '.join(unapplied)}"


def _filter_spec(model: Model, name: str, value: Any) -> FilterSpec:
    target = "label"
    if name not in model.dimensions and name.endswith("_id") and name[:-3] in model.dimensions \
            and model.dimensions[name[:-3]].has_id:
        name, target = name[:-3], "id"
    if name not in model.dimensions:
        names = sorted(model.dimensions) + sorted(f"{d}_id" for d, v in model.dimensions.items() if v.has_id)
        raise InvalidFilterError(
            f"cannot filter on unknown dimension {name!r}{did_you_mean(name, names)}; "
            f"filters accept: {', '.join(names)}")
    dim = model.dimensions[name]
    values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
    if not values:
        raise InvalidFilterError(f"empty list for filter {name!r}: give at least one value (None selects NULL)")
    include_null = any(v is None for v in values)
    values = [v for v in values if v is not None]
    if target == "id":
        vtype = "string" if dim.id_expr is not None and not _is_key(dim) else dim.value_type
    else:
        vtype = dim.label_type or dim.value_type
    for v in values:
        ok = isinstance(v, _PY_TYPES.get(vtype, (object,))) and not (vtype != "boolean" and isinstance(v, bool))
        if not ok:
            raise InvalidFilterError(
                f"filter {name if target == 'label' else name + '_id'}={v!r}: expected {vtype} values"
                f"{' (true/false)' if vtype == 'boolean' else ''}, or None for NULL")
        if dim.is_time:
            rx, example = TIME_VALUE_FORMATS[dim.granularity]
            if not re.match(rx, v) or not _valid_period(dim.granularity, v):
                raise InvalidFilterError(f"filter {name}={v!r}: expected a {dim.granularity} like {example!r}")
    ordered = tuple(dict.fromkeys(values))
    return FilterSpec(name, target, ordered, include_null)


def _is_key(dim: Dimension) -> bool:
    from sqlglot import exp
    return isinstance(dim.id_expr, exp.Column) and dim.id_expr.name == "key"


def _valid_period(grain: str, value: str) -> bool:
    from semantic.plan.timegrain import period_start
    try:
        period_start(grain, value)
        return True
    except ValueError:
        return False


def plan_query(
    model: Model,
    metrics,
    dimensions=(),
    filters=None,
    date_start: datetime | None = None,
    date_end: datetime | None = None,
    sort_by=None,
    sort_order: str = "desc",
    limit: int | None = None,
    fill_missing: bool = False,
    max_dimensions: int = 3,
    default_limit: int = 1000,
    max_limit: int = 1000,
) -> QueryPlan:
    """Check a query against the model and guardrails and return its plan."""
    if isinstance(metrics, str):
        metrics = [metrics]
    if isinstance(dimensions, str):
        dimensions = [dimensions]
    metrics, dimensions = list(metrics or []), list(dimensions or [])
    if not metrics:
        raise UnknownMetricError("no metric requested; give at least one of: "
                                 + ", ".join(sorted(n for n, m in model.metrics.items() if not m.hidden)))
    mobjs = [_metric(model, m) for m in dict.fromkeys(metrics)]
    dobjs = [_dimension(model, d) for d in dict.fromkeys(dimensions)]
    if len(dobjs) > max_dimensions:
        raise GuardrailError(f"{len(dobjs)} dimensions requested; at most {max_dimensions} are allowed "
                             f"(guardrail max_dimensions)")
    if filters is not None and not isinstance(filters, dict):
        raise InvalidFilterError("filters must be a mapping of dimension name to a value, a list of values, or None")
    fspecs = tuple(_filter_spec(model, str(k), v) for k, v in (filters or {}).items())

    # inputs per source, in a stable order
    by_source: dict[str, dict[str, Measure]] = {}
    owner: dict[str, list[str]] = {}
    for m in mobjs:
        for inp in metric_inputs(model, m):
            base = model.metrics[inp.metric]
            by_source.setdefault(base.model, {})[inp.name] = Measure(inp.name, inp.metric, inp.filter)
            owner.setdefault(base.model, []).append(m.name)
    for d in dobjs:
        for src, names in owner.items():
            if not reaches(model, d, src):
                grain = "bug" if d.model == "bugs" else d.model
                raise UnknownDimensionError(
                    f"dimension {d.name!r} is {grain}-grain and cannot group metric {names[0]!r} "
                    f"(computed on {src}); it can group only metrics computed on "
                    f"{', '.join(sorted(s for s in model.models if reaches(model, d, s) and any(mm.model == s for mm in model.metrics.values())))}")
    scope_model = next((sm.name for sm in model.models.values() if sm.default_scope), None)
    warnings: list[str] = []
    sources = []
    for src, measures in by_source.items():
        applied = []
        for f in fspecs:
            if reaches(model, model.dimensions[f.dimension], src):
                applied.append(f)
        sources.append(SourcePlan(src, tuple(measures.values()), tuple(applied)))
    for f in fspecs:
        warning = _unapplied_filter_warning(model, f, mobjs)
        if warning:
            warnings.append(warning)
    scope_values = None
    if scope_model:
        sdim, svalues = model.models[scope_model].default_scope
        scope_values = None if any(f.dimension == sdim for f in fspecs) else svalues
    all_test_reachable = scope_model is not None and all(reaches(model, d, scope_model) for d in dobjs)
    spine_needs_scope = bool(dobjs) and all_test_reachable and scope_model not in by_source
    # order
    columns = {d.name for d in dobjs} | {f"{d.name}_id" for d in dobjs if d.has_id} | {m.name for m in mobjs}
    if sort_order not in ("asc", "desc"):
        raise InvalidQueryError(f"sort_order must be 'asc' or 'desc', not {sort_order!r}")
    order: list[tuple[str, bool]] = []
    if sort_by is not None:
        for s in [sort_by] if isinstance(sort_by, str) else list(sort_by):
            if s not in columns:
                raise InvalidQueryError(f"cannot sort by {s!r}{did_you_mean(str(s), columns)}; "
                                        f"sort by a requested metric or dimension: {', '.join(sorted(columns))}")
            order.append((s, sort_order == "desc"))
    else:
        time_dims = [d.name for d in dobjs if d.is_time]
        order.append((time_dims[0], False) if time_dims else (mobjs[0].name, True))
    for d in dobjs:
        if all(d.name != c for c, _ in order):
            order.append((d.name, False))
        if d.has_id:
            order.append((f"{d.name}_id", False))
    if limit is None:
        limit = default_limit
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidQueryError(f"limit must be a positive integer, not {limit!r}")
    if limit > max_limit:
        warnings.append(f"limit {limit} is above the configured maximum of {max_limit} rows; "
                        f"the answer is capped at {max_limit} rows")
        limit = max_limit
    return QueryPlan(
        metrics=tuple(m.name for m in mobjs), dimensions=tuple(d.name for d in dobjs),
        sources=tuple(sources), filters=fspecs, scope_model=scope_model, scope_values=scope_values,
        date_start=date_start, date_end=date_end, spine_needs_scope=spine_needs_scope,
        fill_missing=bool(fill_missing), order_by=tuple(order), limit=limit, warnings=tuple(warnings),
    )


__all__ = ["FilterSpec", "Measure", "SourcePlan", "QueryPlan", "plan_query", "metric_inputs", "reaches"]
_ = date
