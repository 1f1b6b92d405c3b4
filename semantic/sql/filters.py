"""Filters as conditions: literals from user values, IN lists, label filters through the
label CTE, and filters through a fan-out bridge as semi-joins (any member matches).

>>> literal("x'; DROP TABLE bugs; --").sql()
"'x''; DROP TABLE bugs; --'"
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlglot import exp

from semantic.plan.planner import FilterSpec
from semantic.model.spec import Dimension
from semantic.sql.builders import add_join, table
from semantic.plan.timegrain import period_bounds


def literal(value: Any) -> exp.Expression:
    """A user value as a literal node (never SQL text)."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    return exp.Literal.string(str(value))


def _in(expression: exp.Expression, values, include_null: bool) -> exp.Expression:
    parts = []
    if len(values) == 1:
        parts.append(exp.EQ(this=expression.copy(), expression=literal(values[0])))
    elif values:
        parts.append(exp.In(this=expression.copy(), expressions=[literal(v) for v in values]))
    if include_null:
        parts.append(exp.Is(this=expression.copy(), expression=exp.null()))
    return exp.or_(*parts, copy=False) if len(parts) > 1 else parts[0]


class FiltersMixin:
    """Filter conditions of a :class:`~semantic.render.Renderer`."""

    def _condition(self, dim: Dimension, f: FilterSpec, key: exp.Expression, raw: exp.Expression | None = None):
        """The filter as a condition on a key (``raw`` is the untruncated time expression)."""
        if dim.is_time:
            target = raw if raw is not None else key
            parts = []
            for v in f.values:
                start, end = period_bounds(dim.granularity, v)
                parts.append(exp.and_(target.copy() >= literal(start), target.copy() < literal(end), copy=False))
            if f.include_null:
                parts.append(exp.Is(this=target.copy(), expression=exp.null()))
            return exp.or_(*parts, copy=False) if len(parts) > 1 else parts[0]
        if f.target == "id" and dim.id_expr is not None:
            ident = dim.id_expr.copy().transform(lambda n: key.copy() if isinstance(n, exp.Column) and n.name == "key" else n)
            return _in(ident, f.values, f.include_null)
        if dim.label_expr is None or f.target == "id":
            return _in(key, f.values, f.include_null)
        # one lookup of the keys whose label matches (a NULL label matches None)
        labels = self._labels_cte(dim)
        sub = exp.select(exp.column("key")).from_(table(labels), copy=False) \
            .where(_in(exp.column("label"), f.values, f.include_null), copy=False)
        match = exp.In(this=key.copy(), query=sub.subquery())
        return exp.or_(key.copy().is_(exp.null()), match, copy=False) if f.include_null else match

    def _exists(self, dim: Dimension, f: FilterSpec, key: exp.Expression, path, fro):
        """A filter through a fan-out join as a semi-join: any member matches."""
        k = next(i for i, s in enumerate(path) if s.fans_out)
        fro.add_path(path[:k])
        inner_alias = {s.target: f"{s.target}_x" for s in path[k:]}
        m = self.model.models
        first = path[k]
        sub_from = table(m[first.target].table, inner_alias[first.target])
        corr = [exp.EQ(this=exp.column(s, first.source), expression=exp.column(t, inner_alias[first.target]))
                for s, t in first.on]
        inner_key = key.copy()
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
        any_member = sub(exp.and_(not_null, self._condition(dim, f, inner_key), copy=False))
        if not f.include_null:
            return any_member
        # ... or, for None, the test has no member at all (its NULL group)
        return exp.or_(any_member, sub(not_null, negated=True), copy=False)
