"""The plan of one metric source: its joins, keys, filters, scope and date bounds, and whether
its rows must be de-duplicated before they are aggregated.

A fan-out join (one_to_many, many_to_many) can repeat a source row; a repeat is harmless for
COUNT(DISTINCT ...), MIN and MAX, but a COUNT, SUM or AVG over repeated rows would count them
twice, so such a source is de-duplicated first (``SourcePlan.deduplicate``).

>>> from semantic.model.loader import load_model
>>> m = load_model()
>>> test_count = (Measure("test_count", "test_count"),)
>>> sp = plan_source(m, "tests", test_count, (), [m.dimensions["feature"]], "tests", ("locked",), None)
>>> [(s.join.target, s.not_null is not None) for s in sp.joins], sp.rows_repeat, sp.deduplicate
([('test_features', True)], True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlglot import exp

from semantic.model.loader import find_path
from semantic.model.spec import Dimension, Join, Model
from semantic.plan.query_plan import DimensionView, FilterSpec, FilterUse, JoinStep, Measure, SourcePlan
from semantic.plan.views import dimension_view, filter_views

# Aggregations that a repeated row would change (COUNT(DISTINCT), MIN and MAX are immune).
REPEAT_SENSITIVE = ("count", "sum", "avg")


class _Joins:
    """The joins of one source's FROM clause, each target model joined once, in first-use order."""

    def __init__(self, model: Model):
        self.model = model
        self.steps: dict[str, tuple[Join, DimensionView | None]] = {}

    def add(self, path: tuple[Join, ...], not_null: DimensionView | None = None) -> None:
        for step in path:
            if step.target not in self.steps:
                self.steps[step.target] = (step, None)
        if path and not_null is not None and path[-1].fans_out:
            self.steps[path[-1].target] = (path[-1], not_null)

    def repeat_rows(self, group_keys: Sequence[DimensionView]) -> bool:
        """Whether a source row can repeat: a fan-out join whose primary key is not pinned
        by its join columns plus the grouped keys on it (then each row stays unique)."""
        keys = {(c.table, c.name) for v in group_keys for c in v.key.find_all(exp.Column)}
        for target, (join, _) in self.steps.items():
            if not join.fans_out:
                continue
            pinned = {t for _, t in join.on} | {name for table, name in keys if table == target}
            if not set(self.model.models[target].primary_key) <= pinned:
                return True
        return False


def piece_name(source: str, roles: tuple[tuple[str, str], ...]) -> str:
    """The name of a source's piece for a choice of roles.

    >>> piece_name("tests", ()), piece_name("tests", (("customer", "submitted_by"),))
    ('tests', 'tests__customer_as_submitted_by')
    """
    return "__".join([source, *(f"{dim}_as_{role}" for dim, role in roles)])


def plan_source(model: Model, source: str, measures: tuple[Measure, ...], filters: tuple[FilterSpec, ...],
                dims: Sequence[Dimension], scope_model: str | None, scope_values: tuple[Any, ...] | None,
                date_dimension: str | None, roles: tuple[tuple[str, str], ...] = ()) -> SourcePlan:
    """Plan one source aggregated by ``dims`` under the query's scope, dates and filters;
    a dimension in ``roles`` is read through its role dimension's key."""
    role_of = dict(roles)

    def read_as(dim: Dimension) -> Dimension:
        return model.dimensions[role_of[dim.name]] if dim.name in role_of else dim

    def relabel(view: DimensionView, dim: Dimension) -> DimensionView:
        return view if view.dimension == dim.name else replace(view, dimension=dim.name)

    joins = _Joins(model)
    group_keys = []
    for dim in dims:
        view = relabel(dimension_view(model, read_as(dim), source), dim)
        joins.add(view.path, view if view.path and view.path[-1].fans_out else None)
        group_keys.append(view)
    scope = dates = None
    if scope_model:
        joins.add(find_path(model.models, source, scope_model) or ())
        if scope_values is not None:
            scope_dim = model.dimensions[model.models[scope_model].default_scope.dimension]
            scope = dimension_view(model, scope_dim, source, home=True)
        if date_dimension is not None:
            dates = dimension_view(model, model.dimensions[date_dimension], source)
    grouped = {v.dimension: v for v in group_keys}
    uses = []
    for f in filters:
        dim = model.dimensions[f.dimension]
        for view in (relabel(v, dim) for v in filter_views(model, read_as(dim), source)):
            # the same column reached by another path (the bridge seen from its own test) is
            # another row: only the grouped key's own join may carry the condition directly
            own = grouped.get(f.dimension)
            is_group_key = own is not None and view.key == own.key and view.path == own.path
            fan_out = next((i for i, step in enumerate(view.path) if step.fans_out), None)
            if fan_out is not None and not is_group_key:
                joins.add(view.path[:fan_out])  # the semi-join starts at the fan-out join
                uses.append(FilterUse(f, view, semi_join=True))
            else:
                joins.add(view.path)
                uses.append(FilterUse(f, view, semi_join=False))
    repeat = joins.repeat_rows(group_keys)
    return SourcePlan(
        model=source, name=piece_name(source, roles), roles=roles, measures=measures, filters=filters,
        group_keys=tuple(group_keys),
        joins=tuple(JoinStep(join, not_null) for join, not_null in joins.steps.values()),
        filter_uses=tuple(uses), scope=scope, dates=dates, rows_repeat=repeat,
        deduplicate=repeat and any(model.metrics[ms.metric].type in REPEAT_SENSITIVE for ms in measures),
    )
