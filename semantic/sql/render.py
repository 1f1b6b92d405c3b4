"""Render a :class:`~semantic.plan.query_plan.QueryPlan` into one sqlglot SELECT (builders only).

Shape: one aggregation CTE per metric source (:mod:`semantic.sql.sources`), the pieces the
plan puts on the spine stitched NULL-safely (``IS NOT DISTINCT FROM``, or the equalities of
:func:`same_key` where outer joins need them): one piece alone, two by a FULL JOIN, more
through a UNION spine of dimension combinations; labels looked up after aggregation
(:mod:`semantic.sql.labels`), filters as conditions and semi-joins (:mod:`semantic.sql.filters`),
metric values from :mod:`semantic.sql.metrics`. Every decision was taken by the planner.

>>> from semantic.model.loader import load_model
>>> from semantic.plan.planner import plan_query
>>> m = load_model()
>>> sql = render_plan(m, plan_query(m, ["bug_count"])).sql("duckdb")
>>> sql.startswith("WITH agg_bugs AS")
True
"""

from __future__ import annotations

from sqlglot import exp

from semantic.model.spec import Dimension, Model
from semantic.plan.query_plan import Members, QueryPlan
from semantic.plan.views import qualify
from semantic.sql.builders import add_join, literal, table
from semantic.sql.filters import condition, labels_cte_name, needs_labels_cte, with_key
from semantic.sql.labels import join_lookups, labels_select, time_label
from semantic.sql.metrics import metric_value
from semantic.sql.sources import key_alias, source_select

# Any value of the key's type: the NULL flags of same_key tell a NULL from the sentinel itself.
_SENTINELS = {
    "integer": exp.Literal.number(0), "float": exp.Literal.number(0), "string": exp.Literal.string(""),
    "boolean": exp.false(), "time": exp.cast(exp.Literal.string("1970-01-01 00:00:00"), "TIMESTAMP"),
}
Ctes = list[tuple[str, exp.Expression]]


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


def _key_equals(dim: Dimension, left: exp.Expression, right: exp.Expression, equality_joins: bool) -> exp.Expression:
    if equality_joins:
        return same_key(left, right, _SENTINELS["time" if dim.is_time else dim.value_type])
    return exp.NullSafeEQ(this=left, expression=right)


def _labels_needed(model: Model, plan: QueryPlan) -> list[Dimension]:
    """Dimensions whose label filters read a (key, label) CTE, in the order the SQL first uses them."""
    filters = [use.filter for sp in ([plan.scope_keys] if plan.scope_keys else []) + list(plan.sources)
               for use in sp.filter_uses]
    if plan.fill_missing:
        filters += [f for d in plan.dimensions for f in plan.filters if f.dimension == d]
    dims = [model.dimensions[f.dimension] for f in filters if needs_labels_cte(model.dimensions[f.dimension], f)]
    return list({d.name: d for d in dims}.values())


def _members_select(model: Model, plan: QueryPlan, members: Members, observed: str) -> exp.Select:
    """Every member of a dimension: listed values, a table's keys, or the values observed."""
    dim = model.dimensions[members.dimension]
    alias = key_alias(dim.name)
    if members.values is not None:
        rel = exp.values([exp.tuple_(literal(v)) for v in members.values], alias="v", columns=[alias])
        select = exp.select(exp.column(alias, "v")).from_(rel, copy=False)
        key = exp.column(alias, "v")
    elif members.table_model:
        select = exp.select(exp.alias_(exp.column(dim.key_column), alias, copy=False)).distinct(copy=False) \
            .from_(table(model.models[members.table_model].table), copy=False) \
            .where(exp.column(dim.key_column).is_(exp.null()).not_(), copy=False)
        key = exp.column(dim.key_column)
    else:
        select = exp.select(exp.column(alias)).distinct(copy=False).from_(table(observed), copy=False)
        key = exp.column(alias)
    for f in plan.filters:
        if f.dimension == dim.name:
            select = select.where(condition(dim, f, key), copy=False)
    return select


def _union(ctes: Ctes, parts: list[str], kcols: list[str], name: str) -> str:
    union = None
    for p in parts:
        sel = exp.select(*[exp.column(k) for k in kcols]).from_(table(p), copy=False)
        union = sel if union is None else exp.union(union, sel, distinct=True, copy=False)
    ctes.append((name, union))
    return name


def _stitch(model: Model, plan: QueryPlan, ctes: Ctes, names: dict[str, str], equality_joins: bool):
    """The FROM clause joining the pieces, and each key column's expression on it."""
    dims = [model.dimensions[d] for d in plan.dimensions]
    kcols = [key_alias(d.name) for d in dims]
    order = [sp.name for sp in plan.sources]
    if not dims:
        final = exp.select().from_(table(names[order[0]]), copy=False)
        for s in order[1:]:
            final = add_join(final, table(names[s]), "cross")
        return final, {}
    parts = (["scope_keys"] if plan.scope_keys else []) + [names[s] for s in plan.row_sources]
    if plan.fill_missing:
        observed = parts[0] if len(parts) == 1 else _union(ctes, parts, kcols, "spine_observed")
        cross = exp.select(*[exp.column(k, f"m_{d.name}") for k, d in zip(kcols, dims)])
        for i, members in enumerate(plan.members):
            rel = _members_select(model, plan, members, observed).subquery(f"m_{members.dimension}")
            cross = cross.from_(rel, copy=False) if i == 0 else add_join(cross, rel, "cross")
        ctes.append(("members", cross))
        spine = _union(ctes, [observed, "members"], kcols, "spine")
    elif len(parts) == 1:
        spine = parts[0]
    elif len(parts) == 2:
        spine = None  # two pieces: one FULL JOIN instead of a UNION spine and two joins
    else:
        spine = _union(ctes, parts, kcols, "spine")
    if spine is None:
        first, second = parts
        final = add_join(exp.select().from_(table(first), copy=False), table(second), "full",
                         on=exp.and_(*[_key_equals(d, exp.column(k, first), exp.column(k, second), equality_joins)
                                       for k, d in zip(kcols, dims)], copy=False))
        keys = {k: exp.Coalesce(this=exp.column(k, first), expressions=[exp.column(k, second)]) for k in kcols}
    else:
        final = exp.select().from_(table(spine), copy=False)
        keys = {k: exp.column(k, spine) for k in kcols}
    for s in order:
        if names[s] in parts if spine is None else names[s] == spine:
            continue
        on = exp.and_(*[_key_equals(d, keys[k].copy(), exp.column(k, names[s]), equality_joins)
                        for k, d in zip(kcols, dims)], copy=False)
        final = add_join(final, table(names[s]), "left", on=on)
    return final, keys


def render_plan(model: Model, plan: QueryPlan, equality_joins: bool = False) -> exp.Select:
    """The SQL tree of a plan; ``equality_joins`` stitches with :func:`same_key`."""
    ctes: Ctes = [(labels_cte_name(d), labels_select(model, d)) for d in _labels_needed(model, plan)]
    if plan.scope_keys is not None:
        ctes.append(("scope_keys", source_select(model, plan, plan.scope_keys)))
    names, piece_of = {}, {}
    for sp in plan.sources:
        names[sp.name] = f"agg_{sp.name}"
        ctes.append((names[sp.name], source_select(model, plan, sp)))
        piece_of.update((ms.name, names[sp.name]) for ms in sp.measures)
    final, keys = _stitch(model, plan, ctes, names, equality_joins)
    cols = []
    for d in (model.dimensions[name] for name in plan.dimensions):
        key = keys[key_alias(d.name)].copy()
        if d.is_time:
            label = time_label(d, key)
        elif d.label_expr is not None:
            final = join_lookups(model, final, d, key, prefix=f"{d.name}__")
            label = qualify(d.label_expr, d.lookups[0], {lk: f"{d.name}__{lk}" for lk in d.lookups})
        else:
            label = key
        cols.append(exp.alias_(label, d.name, copy=False))
        if d.id_expr is not None:
            cols.append(exp.alias_(with_key(d.id_expr, key), f"{d.name}_id", copy=False))
    for name in plan.metrics:
        column = lambda inp: exp.column(inp.name, piece_of[inp.name])  # noqa: E731
        cols.append(exp.alias_(metric_value(model, model.metrics[name], column), name, copy=False))
    final = final.select(*cols, copy=False)
    if plan.dimensions:  # without dimensions there is exactly one row: nothing to sort or cut
        final = final.order_by(*[exp.Ordered(this=exp.column(c), desc=desc, nulls_first=False)
                                 for c, desc in plan.order_by], copy=False)
        final = final.limit(plan.limit, copy=False)
    for name, cte in ctes:
        final = final.with_(name, as_=cte, copy=False)
    return final
