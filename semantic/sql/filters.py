"""Filters as conditions: IN lists of literals, time labels as timestamp ranges, label filters
through the (key, label) CTE, and filters behind a fan-out join as semi-joins (any member matches).

>>> from semantic.model.loader import load_model
>>> from semantic.plan.query_plan import FilterSpec
>>> m = load_model()
>>> condition(m.dimensions["month"], FilterSpec("month", "label", ("2025-02",), False), exp.column("end_at")).sql()
"end_at >= CAST('2025-02-01 00:00:00' AS TIMESTAMP) AND end_at < CAST('2025-03-01 00:00:00' AS TIMESTAMP)"
"""

from __future__ import annotations

from sqlglot import exp

from semantic.model.spec import Dimension, Model
from semantic.plan.query_plan import DimensionView, FilterSpec
from semantic.plan.timegrain import label_bounds
from semantic.sql.builders import add_join, in_values, literal, table


def labels_cte_name(dim: Dimension) -> str:
    """The CTE of (key, label) pairs a label filter on ``dim`` looks its keys up in."""
    return f"{dim.name}_labels"


def needs_labels_cte(dim: Dimension, f: FilterSpec) -> bool:
    """Whether a filter compares labels that only a lookup knows (so it reads the labels CTE)."""
    return not dim.is_time and f.target == "label" and dim.label_expr is not None


def with_key(expression: exp.Expression, key: exp.Expression) -> exp.Expression:
    """An id/label expression of a dimension with its identifier ``key`` replaced by the key."""
    return expression.copy().transform(lambda n: key.copy() if isinstance(n, exp.Column) and n.name == "key" else n)


def condition(dim: Dimension, f: FilterSpec, key: exp.Expression) -> exp.Expression:
    """The filter as a condition on a key (for a time dimension, the untruncated timestamp)."""
    if dim.is_time:
        parts = []
        for v in f.values:
            start, end = label_bounds(dim.granularity, v)
            parts.append(exp.and_(key.copy() >= literal(start), key.copy() < literal(end), copy=False))
        if f.include_null:
            parts.append(exp.Is(this=key.copy(), expression=exp.null()))
        return exp.or_(*parts, copy=False) if len(parts) > 1 else parts[0]
    if f.target == "id" and dim.id_expr is not None:
        return in_values(with_key(dim.id_expr, key), f.values, f.include_null)
    if not needs_labels_cte(dim, f):
        return in_values(key, f.values, f.include_null)
    # one lookup of the keys whose label matches (a NULL label matches None)
    sub = exp.select(exp.column("key")).from_(table(labels_cte_name(dim)), copy=False) \
        .where(in_values(exp.column("label"), f.values, f.include_null), copy=False)
    match = exp.In(this=key.copy(), query=sub.subquery())
    return exp.or_(key.copy().is_(exp.null()), match, copy=False) if f.include_null else match


def semi_join(model: Model, dim: Dimension, f: FilterSpec, view: DimensionView) -> exp.Expression:
    """A filter through a fan-out join as a semi-join: any member matches. The plan joined the
    path up to the fan-out join; the rest of the path is inside the subquery."""
    path = view.path
    k = next(i for i, s in enumerate(path) if s.fans_out)
    inner_alias = {s.target: f"{s.target}_x" for s in path[k:]}
    m = model.models
    first = path[k]
    sub_from = table(m[first.target].table, inner_alias[first.target])
    corr = [exp.EQ(this=exp.column(s, first.source), expression=exp.column(t, inner_alias[first.target]))
            for s, t in first.on]
    inner_key = view.key.copy()
    for col in inner_key.find_all(exp.Column):
        if col.table in inner_alias:
            col.set("table", exp.to_identifier(inner_alias[col.table]))
    not_null = inner_key.copy().is_(exp.null()).not_()

    def sub(cond, negated=False):
        single = len(first.on) == 1  # one join column: an uncorrelated semi-join (IN)
        inner_col = exp.column(first.on[0][1], inner_alias[first.target]) if single else None
        q = exp.select(inner_col if single else exp.Literal.number(1)).from_(sub_from.copy(), copy=False)
        for step in path[k + 1:]:
            q = add_join(q, table(m[step.target].table, inner_alias[step.target]), "",
                         on=exp.and_(*[exp.EQ(this=exp.column(s, inner_alias.get(step.source, step.source)),
                                              expression=exp.column(t, inner_alias[step.target])) for s, t in step.on], copy=False))
        if not single:
            test = exp.Exists(this=q.where(exp.and_(*corr, cond, copy=False), copy=False))
            return exp.Not(this=test) if negated else test
        if negated:  # NOT EXISTS: a NULL outer key or a NULL inner key must not make it NULL
            q = q.where(exp.and_(cond, inner_col.copy().is_(exp.null()).not_(), copy=False), copy=False)
            test = exp.In(this=exp.column(first.on[0][0], first.source), query=q.subquery())
            return exp.Not(this=exp.Coalesce(this=test, expressions=[exp.false()]))
        return exp.In(this=exp.column(first.on[0][0], first.source), query=q.where(cond, copy=False).subquery())

    # a member matches (a value, or None for a member whose label is NULL) ...
    any_member = sub(exp.and_(not_null, condition(dim, f, inner_key), copy=False))
    if not f.include_null:
        return any_member
    # ... or, for None, the test has no member at all (its NULL group)
    return exp.or_(any_member, sub(not_null, negated=True), copy=False)
