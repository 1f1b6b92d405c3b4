"""Query resolution: metric, dimension and filter names checked against the model.

Every mistake is a typed error that names what is wrong and the valid choices.

>>> from semantic.model.loader import load_model
>>> resolve_filter(load_model(), "product_id", [1, None])
FilterSpec(dimension='product', target='id', values=(1,), include_null=True)
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from semantic.errors import InvalidFilterError, UnknownDimensionError, UnknownMetricError, did_you_mean
from semantic.model.spec import Dimension, Metric, MetricInput, Model, fits_type
from semantic.plan.query_plan import FilterSpec
from semantic.plan.timegrain import LABELS, is_label
from semantic.plan.views import reaches


def resolve_dimension(model: Model, name: str) -> Dimension:
    if not isinstance(name, str) or name not in model.dimensions:
        raise UnknownDimensionError(
            f"unknown dimension {name!r}{did_you_mean(str(name), model.dimensions)}; "
            f"valid dimensions: {', '.join(sorted(model.dimensions))}")
    return model.dimensions[name]


def resolve_metric(model: Model, name: str) -> Metric:
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


def unapplied_filter_warning(model: Model, f: FilterSpec, metrics: list[Metric]) -> str | None:
    dim = model.dimensions[f.dimension]
    unapplied, restricted = [], False
    for metric in metrics:
        parts, applies = _unapplied_parts(model, dim, metric)
        unapplied += [p for p in parts if p not in unapplied]
        restricted |= applies
    if not unapplied:
        return None
    entity = model.models[dim.model].entity
    effect = f"it restricts the {entity} counts but not" if restricted else "it does not restrict"
    return f"the filter {f.describe()} is on a {entity}-only dimension: {effect} {'; nor '.join(unapplied)}"


def resolve_filter(model: Model, name: str, value: Any) -> FilterSpec:
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
        if not fits_type(v, vtype):
            raise InvalidFilterError(
                f"filter {name if target == 'label' else name + '_id'}={v!r}: expected {vtype} values"
                f"{' (true/false)' if vtype == 'boolean' else ''}, or None for NULL")
        if dim.is_time:
            if not is_label(dim.granularity, v):
                raise InvalidFilterError(f"filter {name}={v!r}: expected a {dim.granularity} like "
                                         f"{LABELS[dim.granularity].example!r}")
    ordered = tuple(dict.fromkeys(values))
    return FilterSpec(name, target, ordered, include_null)


def _is_key(dim: Dimension) -> bool:
    return isinstance(dim.id_expr, exp.Column) and dim.id_expr.name == "key"
