"""Query resolution: metric, dimension and filter names checked against the model.

Every mistake is a typed error that names what is wrong and the valid choices.

>>> from semantic.model.loader import load_model
>>> resolve_filter(load_model(), "product_id", [1, None])
FilterSpec(dimension='product', target='id', values=(1,), include_null=True)
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from semantic.errors import (
    InvalidFilterError, InvalidFilterValueError, RoleConflictError, UnknownDimensionError, UnknownMetricError, closest,
    did_you_mean,
)
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


def filter_target(model: Model, name: str) -> tuple[Dimension, str]:
    """The dimension a filter name reads and which of its columns: ``product`` is the label of
    product, ``product_id`` its id (raises :class:`InvalidFilterError` for an unknown name)."""
    target = "label"
    if name not in model.dimensions and name.endswith("_id") and name[:-3] in model.dimensions \
            and model.dimensions[name[:-3]].has_id:
        name, target = name[:-3], "id"
    if name not in model.dimensions:
        names = sorted(model.dimensions) + sorted(f"{d}_id" for d, v in model.dimensions.items() if v.has_id)
        raise InvalidFilterError(
            f"cannot filter on unknown dimension {name!r}{did_you_mean(name, names)}; "
            f"filters accept: {', '.join(names)}")
    return model.dimensions[name], target


def filter_value_type(dim: Dimension, target: str) -> str:
    """The value type a filter on a dimension's label or id compares with ("integer", "string", ...).

    >>> from semantic.model.loader import load_model
    >>> m = load_model()
    >>> filter_value_type(m.dimensions["product"], "id"), filter_value_type(m.dimensions["customer"], "id")
    ('integer', 'string')
    """
    if target == "id":
        return "string" if dim.id_expr is not None and not _is_key(dim) else dim.value_type
    return dim.label_type or dim.value_type


def _check_declared(dim: Dimension, name: str, value: Any) -> None:
    """A label value outside the dimension's declared values is an error with a suggestion."""
    if dim.allowed_values is None or value in dim.allowed_values:
        return
    shown = {_shown(v): v for v in dim.allowed_values}
    match = closest(_shown(value), shown)
    raise InvalidFilterValueError(
        f"filter {name}={value!r}: {value!r} is not a value of {name}"
        f"{f'; did you mean {shown[match]!r}?' if match else ''} "
        f"(allowed values: {', '.join(shown)}; None selects NULL)",
        dimension=name, value=value, allowed_values=dim.allowed_values, suggestion=shown.get(match))


def _shown(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def input_roles(model: Model, metric: str, dimensions) -> tuple[tuple[str, str], ...]:
    """The (dimension, role dimension) pairs a simple metric reads among ``dimensions``."""
    return tuple((d, role) for d in dimensions if (role := model.dimensions[d].role_for(metric)))


def roles_read(model: Model, metric: Metric, dimensions) -> tuple[tuple[str, str], ...]:
    """The roles a metric reads among ``dimensions``; a ratio or derived metric whose inputs read
    a dimension through different roles has no single answer per member: an error.

    >>> from semantic.model.loader import load_model
    >>> m = load_model()
    >>> roles_read(m, m.metrics["tests_submitted"], ["customer", "product"])
    (('customer', 'submitted_by'),)
    """
    readings = {inp.metric: input_roles(model, inp.metric, dimensions) for inp in metric_inputs(model, metric)}
    if len(set(readings.values())) > 1:
        dim = next(d for d in dimensions if len({dict(r).get(d) for r in readings.values()}) > 1)
        own = model.dimensions[dim].key_column
        shown = "; ".join(f"{name} reads it as {dict(r).get(dim) or own}" for name, r in readings.items())
        roles = sorted({dict(r).get(dim) or own for r in readings.values()})
        raise RoleConflictError(
            f"metric {metric.name} mixes two roles of dimension {dim!r} ({shown}), so a {dim} has no single "
            f"{metric.name}; group or filter by {' or '.join(r for r in roles if r in model.dimensions) or 'one role'} "
            f"instead")
    return next(iter(readings.values()))


def role_readings(model: Model, dim: Dimension, metrics: list[Metric]) -> dict[str, list[str]]:
    """How each metric reads a dimension with metric_roles: role dimension (or the dimension's
    own key column) -> the metrics reading it so, in order."""
    readings: dict[str, list[str]] = {}
    for metric in metrics:
        role = dict(roles_read(model, metric, [dim.name])).get(dim.name)
        readings.setdefault(role or dim.key_column, []).append(metric.name)
    return readings


def role_filter_warning(model: Model, f: FilterSpec, metrics: list[Metric]) -> str | None:
    """A filter on a dimension that some of the metrics read through another role, in words."""
    dim = model.dimensions[f.dimension]
    readings = role_readings(model, dim, metrics) if dim.metric_roles else {}
    if set(readings) <= {dim.key_column}:
        return None
    as_read = [f"as {FilterSpec(key, f.target, f.values, f.include_null).describe()} for {', '.join(names)}"
               for key, names in readings.items()]
    return f"the filter {f.describe()} is read per metric: {'; '.join(as_read)}"


def resolve_filter(model: Model, name: str, value: Any) -> FilterSpec:
    dim, target = filter_target(model, name)
    name = dim.name
    values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
    if not values:
        raise InvalidFilterError(f"empty list for filter {name!r}: give at least one value (None selects NULL)")
    include_null = any(v is None for v in values)
    values = [v for v in values if v is not None]
    vtype = filter_value_type(dim, target)
    for v in values:
        if not fits_type(v, vtype):
            raise InvalidFilterError(
                f"filter {name if target == 'label' else name + '_id'}={v!r}: expected {vtype} values"
                f"{' (true/false)' if vtype == 'boolean' else ''}, or None for NULL")
        if dim.is_time:
            if not is_label(dim.granularity, v):
                raise InvalidFilterError(f"filter {name}={v!r}: expected a {dim.granularity} like "
                                         f"{LABELS[dim.granularity].example!r}")
        elif target == "label":
            _check_declared(dim, name, v)
    ordered = tuple(dict.fromkeys(values))
    return FilterSpec(name, target, ordered, include_null)


def _is_key(dim: Dimension) -> bool:
    return isinstance(dim.id_expr, exp.Column) and dim.id_expr.name == "key"
