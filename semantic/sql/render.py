"""Render a :class:`~semantic.plan.QueryPlan` into one sqlglot SELECT (builders only).

Shape: one aggregation CTE per metric source at the requested grain (render_sources.py), the
pieces stitched NULL-safely (``IS NOT DISTINCT FROM``, or the equalities of
:func:`same_key` where outer joins need them): one piece alone, two by a FULL JOIN, more
through a UNION spine of dimension combinations; labels looked up after aggregation
(render_labels.py), filters as conditions and semi-joins (render_filters.py), counts COALESCEd
to 0 and ratios NULL on a zero denominator.

>>> from semantic.model.loader import load_model
>>> from semantic.plan.planner import plan_query
>>> m = load_model()
>>> sql = render_plan(m, plan_query(m, ["bug_count"])).sql("duckdb")
>>> sql.startswith("WITH agg_bugs AS")
True
"""

from __future__ import annotations

from sqlglot import exp

from semantic.model.loader import find_path
from semantic.plan.planner import QueryPlan, SourcePlan, metric_inputs, reaches
from semantic.sql.filters import FiltersMixin, literal
from semantic.sql.labels import LabelsMixin
from semantic.sql.sources import SourcesMixin, _key_alias
from semantic.model.spec import Dimension, Model
from semantic.sql.builders import add_join, table
from semantic.plan.timegrain import periods

COUNTING = ("count", "count_distinct", "sum")
# Any value of the key's type: the NULL flags of same_key tell a NULL from the sentinel itself.
_SENTINELS = {
    "integer": exp.Literal.number(0), "float": exp.Literal.number(0), "string": exp.Literal.string(""),
    "boolean": exp.false(), "time": exp.cast(exp.Literal.string("1970-01-01 00:00:00"), "TIMESTAMP"),
}


def same_key(left: exp.Expression, right: exp.Expression, sentinel: exp.Expression) -> exp.Expression:
    """``left IS NOT DISTINCT FROM right`` as equalities only (a hash/merge-joinable condition):
    ``COALESCE(left, s) = COALESCE(right, s) AND (left IS NULL) = (right IS NULL)``.

    >>> same_key(exp.column("k", "a"), exp.column("k", "b"), exp.Literal.number(0)).sql()
    'COALESCE(a.k, 0) = COALESCE(b.k, 0) AND (a.k IS NULL) = (b.k IS NULL)'
    """
    values = exp.EQ(this=exp.Coalesce(this=left, expressions=[sentinel.copy()]),
                    expression=exp.Coalesce(this=right, expressions=[sentinel.copy()]))
    nulls = exp.EQ(this=exp.paren(exp.Is(this=left.copy(), expression=exp.null()), copy=False),
                   expression=exp.paren(exp.Is(this=right.copy(), expression=exp.null()), copy=False))
    return exp.and_(values, nulls, copy=False)


class Renderer(SourcesMixin, FiltersMixin, LabelsMixin):
    """Builds the SQL tree of one plan."""

    def __init__(self, model: Model, plan: QueryPlan, equality_joins: bool = False):
        self.model, self.plan, self.equality_joins = model, plan, equality_joins
        self.dims = [model.dimensions[d] for d in plan.dimensions]
        self.ctes: list[tuple[str, exp.Expression]] = []
        self.label_ctes: set[str] = set()

    # -- spine and final select ----------------------------------------------------------
    def _members(self, dim: Dimension, observed: str) -> exp.Select:
        alias = _key_alias(dim.name)
        plan, m = self.plan, self.model.models
        values = None
        scope = plan.scope_model
        if scope and plan.scope_values is not None and m[scope].default_scope[0] == dim.name:
            values = list(plan.scope_values)
        elif dim.is_time and plan.date_start and plan.date_end:
            values = periods(dim.granularity, plan.date_start, plan.date_end)
        elif dim.allowed_values is not None:
            values = list(dim.allowed_values)
        if values is not None:
            rel = exp.values([exp.tuple_(literal(v)) for v in values], alias="v", columns=[alias])
            select = exp.select(exp.column(alias, "v")).from_(rel, copy=False)
            key = exp.column(alias, "v")
        elif dim.members_model:
            select = exp.select(exp.alias_(exp.column(dim.key_column), alias, copy=False)).distinct(copy=False) \
                .from_(table(m[dim.members_model].table), copy=False).where(exp.column(dim.key_column).is_(exp.null()).not_(), copy=False)
            key = exp.column(dim.key_column)
        else:
            select = exp.select(exp.column(alias)).distinct(copy=False).from_(table(observed), copy=False)
            key = exp.column(alias)
        for f in plan.filters:
            if f.dimension == dim.name:
                select = select.where(self._condition(dim, f, key, raw=key), copy=False)
        return select

    def build(self) -> exp.Select:
        plan, model = self.plan, self.model
        names = {}
        if plan.spine_needs_scope:
            scoped = tuple(f for f in plan.filters if reaches(model, model.dimensions[f.dimension], plan.scope_model))
            self.ctes.append(("scope_keys", self._source_select(SourcePlan(plan.scope_model, (), scoped))))
        for sp in plan.sources:
            names[sp.model] = f"agg_{sp.model}"
            self.ctes.append((names[sp.model], self._source_select(sp)))
        kcols = [_key_alias(d.name) for d in self.dims]
        order = [sp.model for sp in plan.sources]
        if not self.dims:
            final = exp.select().from_(table(names[order[0]]), copy=False)
            for s in order[1:]:
                final = add_join(final, table(names[s]), "cross")
            keys = {}
        else:
            scope = plan.scope_model
            parts = ["scope_keys"] if plan.spine_needs_scope else []
            all_test = scope is not None and all(
                find_path(model.models, scope, d.model) is not None or d.model == scope for d in self.dims)
            for sp in plan.sources:
                s = sp.model
                # a source filtered on its own column (bugs.feature_id) may have rows of tests
                # outside the test scope: its groups are not among the scope's
                beyond_scope = any(self._filtered_on_own_column(model.dimensions[f.dimension], s) for f in sp.filters)
                if not all_test or s == scope or beyond_scope or any(any(o == s for o, _ in d.overrides) for d in self.dims):
                    parts.append(names[s])
            if plan.fill_missing:
                observed = parts[0] if len(parts) == 1 else self._union(parts, kcols, "spine_observed")
                cross = exp.select(*[exp.column(k, f"m_{d.name}") for k, d in zip(kcols, self.dims)])
                for i, d in enumerate(self.dims):
                    rel = self._members(d, observed).subquery(f"m_{d.name}")
                    cross = cross.from_(rel, copy=False) if i == 0 else add_join(cross, rel, "cross")
                self.ctes.append(("members", cross))
                spine = self._union([observed, "members"], kcols, "spine")
            elif len(parts) == 1:
                spine = parts[0]
            elif len(parts) == 2:
                spine = None  # two pieces: one FULL JOIN instead of a UNION spine and two joins
            else:
                spine = self._union(parts, kcols, "spine")
            if spine is None:
                first, second = parts
                final = add_join(exp.select().from_(table(first), copy=False), table(second), "full",
                             on=exp.and_(*[self._same_key(d, exp.column(k, first), exp.column(k, second))
                                           for k, d in zip(kcols, self.dims)], copy=False))
                keys = {k: exp.Coalesce(this=exp.column(k, first), expressions=[exp.column(k, second)]) for k in kcols}
            else:
                final = exp.select().from_(table(spine), copy=False)
                keys = {k: exp.column(k, spine) for k in kcols}
            for s in order:
                if names[s] in parts if spine is None else names[s] == spine:
                    continue
                on = exp.and_(*[self._same_key(d, keys[k].copy(), exp.column(k, names[s]))
                                for k, d in zip(kcols, self.dims)], copy=False)
                final = add_join(final, table(names[s]), "left", on=on)
        cols = []
        for d in self.dims:
            key = keys[_key_alias(d.name)].copy()
            if d.is_time:
                label = self._time_label(d, key)
            elif d.label_expr is not None:
                final = self._join_lookups(final, d, key, prefix=f"{d.name}__")
                label = self._qualify(d.label_expr, d.lookups[0], {lk: f"{d.name}__{lk}" for lk in d.lookups})
            else:
                label = key
            cols.append(exp.alias_(label, d.name, copy=False))
            if d.id_expr is not None:
                ident = d.id_expr.copy().transform(lambda n: key.copy() if isinstance(n, exp.Column) and n.name == "key" else n)
                cols.append(exp.alias_(ident, f"{d.name}_id", copy=False))
        for name in plan.metrics:
            cols.append(exp.alias_(self._metric_value(name, names), name, copy=False))
        final = final.select(*cols, copy=False)
        if self.dims:  # without dimensions there is exactly one row: nothing to sort or cut
            final = final.order_by(*[exp.Ordered(this=exp.column(c), desc=desc, nulls_first=False) for c, desc in plan.order_by], copy=False)
            final = final.limit(plan.limit, copy=False)
        for name, cte in self.ctes:
            final = final.with_(name, as_=cte, copy=False)
        return final

    def _same_key(self, dim: Dimension, left: exp.Expression, right: exp.Expression) -> exp.Expression:
        return same_key(left, right, _SENTINELS["time" if dim.is_time else dim.value_type]) \
            if self.equality_joins else exp.NullSafeEQ(this=left, expression=right)

    def _union(self, parts, kcols, name) -> str:
        union = None
        for p in parts:
            sel = exp.select(*[exp.column(k) for k in kcols]).from_(table(p), copy=False)
            union = sel if union is None else exp.union(union, sel, distinct=True, copy=False)
        self.ctes.append((name, union))
        return name

    def _input_value(self, inp, names) -> exp.Expression:
        base = self.model.metrics[inp.metric]
        col = exp.column(inp.name, names[base.model])
        if base.type in COUNTING:
            return exp.Coalesce(this=col, expressions=[exp.Literal.number(0)])
        return col

    def _metric_value(self, name: str, names) -> exp.Expression:
        metric = self.model.metrics[name]
        if metric.is_simple:
            return self._input_value(metric_inputs(self.model, metric)[0], names)
        if metric.type == "ratio":
            num, den = (self._ratio_part(p, names) for p in (metric.numerator, metric.denominator))
            return exp.Case(
                ifs=[exp.If(this=exp.or_(exp.Is(this=den.copy(), expression=exp.null()),
                                         exp.EQ(this=den.copy(), expression=exp.Literal.number(0)), copy=False), true=exp.null())],
                default=exp.Div(this=exp.Mul(this=num, expression=exp.Literal.number("1.0")), expression=den))
        values = {i.name: self._ratio_part(i, names) for i in metric.inputs}
        return metric.expr.copy().transform(
            lambda n: values[n.name].copy() if isinstance(n, exp.Column) and n.name in values else n)

    def _ratio_part(self, inp, names) -> exp.Expression:
        base = self.model.metrics[inp.metric]
        if base.is_simple:
            return self._input_value(inp, names)
        return exp.paren(self._metric_value(base.name, names))


def render_plan(model: Model, plan: QueryPlan, equality_joins: bool = False) -> exp.Select:
    """The SQL tree of a plan; ``equality_joins`` stitches with :func:`same_key`."""
    return Renderer(model, plan, equality_joins).build()
