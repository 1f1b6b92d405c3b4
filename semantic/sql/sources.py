"""One aggregation per metric source at the requested grain, as its plan says: the FROM clause
with the planned joins, the scope, date and filter conditions, the measures (COUNT(*) for
primary keys, COUNT(*) FILTER for conditional counts, distinct rows first where the plan
de-duplicates) and the scope pushdown (:mod:`semantic.sql.pushdown`).

>>> from semantic.model.loader import load_model
>>> from semantic.plan.planner import plan_query
>>> m = load_model()
>>> p = plan_query(m, ["test_count"])
>>> source_select(m, p, p.sources[0]).sql()
"SELECT COUNT(*) AS test_count FROM tests AS tests WHERE tests.status IN ('running', 'locked', 'customer_finalized', 'archived')"
"""

from __future__ import annotations

from sqlglot import exp

from semantic.model.spec import Model
from semantic.plan.query_plan import QueryPlan, SourcePlan
from semantic.plan.views import qualify
from semantic.sql.builders import add_join, in_values, literal, table
from semantic.sql.filters import condition, semi_join
from semantic.sql.metrics import aggregate, only_where
from semantic.sql.pushdown import KEY_SUFFIX, push_scope


def key_alias(dim: str) -> str:
    """The column of a dimension's key in the aggregation CTEs (``month__key``)."""
    return f"{dim}{KEY_SUFFIX}"


def _from(model: Model, sp: SourcePlan, select: exp.Select) -> exp.Select:
    m = model.models
    select = select.from_(table(m[sp.model].table, sp.model), copy=False)
    for step in sp.joins:
        join = step.join
        extra = [step.not_null.key.copy().is_(exp.null()).not_()] if step.not_null is not None else []
        on = exp.and_(*[exp.EQ(this=exp.column(s, join.source), expression=exp.column(t, join.target))
                        for s, t in join.on], *extra, copy=False)
        select = add_join(select, table(m[join.target].table, join.target), "inner" if join.required else "left", on=on)
    return select


def _conditions(model: Model, plan: QueryPlan, sp: SourcePlan) -> list[exp.Expression]:
    where: list[exp.Expression] = []
    if sp.scope is not None:
        where.append(in_values(sp.scope.key, plan.scope_values, False))
    if sp.dates is not None:
        if plan.date_start:
            where.append(sp.dates.key.copy() >= literal(plan.date_start))
        if plan.date_end:
            where.append(sp.dates.key.copy() < literal(plan.date_end))
    for use in sp.filter_uses:
        dim = model.dimensions[use.filter.dimension]
        where.append(semi_join(model, dim, use.filter, use.view) if use.semi_join
                     else condition(dim, use.filter, use.view.key))
    return where


def source_select(model: Model, plan: QueryPlan, sp: SourcePlan) -> exp.Select:
    """The aggregation CTE of one source."""
    src = sp.model
    dims = [model.dimensions[v.dimension] for v in sp.group_keys]
    keys = [exp.alias_(exp.TimestampTrunc(this=v.key.copy(), unit=exp.var(d.granularity.upper())) if d.is_time
                       else v.key.copy(), key_alias(d.name), copy=False) for d, v in zip(dims, sp.group_keys)]
    grouped = {v.dimension: v.key for v in sp.group_keys}
    where = _conditions(model, plan, sp)
    measures = []
    filtered: set[str] = set()
    for ms in sp.measures:
        metric = model.metrics[ms.metric]
        conds = [qualify(c, src) for c in (metric.filter, ms.extra_filter) if c is not None]
        conds = [c for c in conds if c not in where]  # already a condition on every row
        if conds:
            filtered.add(ms.name)
        measures.append((ms.name, metric, only_where(qualify(metric.expr, src), conds)))
    pk = model.models[src].primary_key

    def agg(metric, value, filtered=False):
        is_pk = isinstance(metric.expr, exp.Column) and (metric.expr.name,) == pk
        if metric.type != "count_distinct":
            return aggregate(metric.type, value)
        if value is not None and any(not d.is_time and grouped[d.name] == value for d in dims):
            # distinct values of the grouped key itself: 1 per group, 0 for its NULL group
            return exp.Case(ifs=[exp.If(this=exp.Is(this=value.copy(), expression=exp.null()),
                                        true=exp.Literal.number(0))], default=exp.Literal.number(1))
        if is_pk and (not sp.rows_repeat or sp.deduplicate):
            # the primary key is unique and non-NULL: counting rows counts distinct keys
            if isinstance(value, exp.Column):  # (a de-duplicated filtered value may be NULL)
                return exp.Count(this=value) if filtered else exp.Count(this=exp.Star())
            if isinstance(value, exp.Case) and len(value.args["ifs"]) == 1 and value.args.get("default") is None \
                    and isinstance(value.args["ifs"][0].args["true"], exp.Column):
                # COUNT(CASE WHEN c THEN pk END) with a non-NULL pk: rows where c holds
                cond = value.args["ifs"][0].this
                if isinstance(cond, exp.Not) and isinstance(cond.this, exp.Is) \
                        and isinstance(cond.this.this, exp.Column) and isinstance(cond.this.expression, exp.Null):
                    return exp.Count(this=cond.this.this.copy())  # c is "x IS NOT NULL": COUNT(x)
                return exp.Filter(this=exp.Count(this=exp.Star()),
                                  expression=exp.Where(this=value.args["ifs"][0].this))
            return exp.Count(this=value)
        return aggregate(metric.type, value)

    if sp.deduplicate:
        inner = exp.select(*keys, *[exp.alias_(exp.column(c, src), f"pk__{c}", copy=False) for c in pk],
                           *[exp.alias_(v, f"v__{n}", copy=False) for n, _, v in measures]).distinct(copy=False)
        inner = _from(model, sp, inner)
        if where:
            inner = inner.where(exp.and_(*where, copy=False), copy=False)
        inner = _push(plan, src, inner)
        outer = exp.select(*[exp.column(key_alias(d.name)) for d in dims],
                           *[exp.alias_(agg(mt, exp.column(f"v__{n}"), n in filtered), n, copy=False) for n, mt, _ in measures]
                           ).from_(exp.alias_(inner.subquery(), "d", table=True, copy=False), copy=False)
        if dims:
            outer = outer.group_by(*[exp.column(key_alias(d.name)) for d in dims], copy=False)
        return outer
    select = _from(model, sp, exp.select(*keys, *[exp.alias_(agg(mt, v), n, copy=False) for n, mt, v in measures]))
    if where:
        select = select.where(exp.and_(*where, copy=False), copy=False)
    if dims:
        select = select.group_by(*[k.this.copy() for k in keys], copy=False)
    return _push(plan, src, select)


def _push(plan: QueryPlan, src: str, select: exp.Select) -> exp.Select:
    scope = plan.scope_model
    if not scope or src == scope:
        return select
    return push_scope(select, scope, null_rejecting=plan.scope_values is not None)
