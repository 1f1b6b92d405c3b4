"""One aggregation per metric source at the requested grain: the FROM clause with the joins
its dimensions and filters need, scope conditions, measures (COUNT(*) for primary keys,
COUNT(*) FILTER for conditional counts, de-duplication when a fan-out join can repeat a row)
and the scope pushdown (semantic/pushdown.py).
"""

from __future__ import annotations

from sqlglot import exp

from semantic.model.loader import find_path
from semantic.plan.planner import SourcePlan
from semantic.sql.pushdown import push_scope
from semantic.sql.filters import _in, literal
from semantic.model.spec import Dimension, Join, Model
from semantic.sql.builders import add_join, table


def _key_alias(dim: str) -> str:
    return f"{dim}__key"


class _From:
    """FROM clause of one source: base table plus the joins its expressions need."""

    def __init__(self, model: Model, source: str):
        self.model, self.source = model, source
        self.joins: dict[str, tuple[Join, exp.Expression | None]] = {}

    def add_path(self, path: tuple[Join, ...], not_null: exp.Expression | None = None) -> None:
        for step in path:
            if step.target not in self.joins:
                self.joins[step.target] = (step, None)
        if path and not_null is not None and path[-1].fans_out:
            self.joins[path[-1].target] = (path[-1], not_null)

    def fans_out(self, grouped: dict | None = None) -> bool:
        """Whether a source row can repeat: a fan-out join whose primary key is not pinned
        by its join columns plus the grouped keys on it (then each row stays unique)."""
        keys = {(c.table, c.name) for e in (grouped or {}).values() for c in e.find_all(exp.Column)}
        for target, (join, _) in self.joins.items():
            if not join.fans_out:
                continue
            pinned = {t for _, t in join.on} | {name for table, name in keys if table == target}
            if not set(self.model.models[target].primary_key) <= pinned:
                return True
        return False

    def apply(self, select: exp.Select) -> exp.Select:
        m = self.model.models
        select = select.from_(table(m[self.source].table, self.source), copy=False)
        for target, (join, extra) in self.joins.items():
            on = exp.and_(*[exp.EQ(this=exp.column(s, join.source), expression=exp.column(t, target))
                            for s, t in join.on], *([extra] if extra is not None else []), copy=False)
            kind = "inner" if join.required else "left"
            select = add_join(select, table(m[target].table, target), kind, on=on)
        return select


class SourcesMixin:
    """Source CTEs of a :class:`~semantic.render.Renderer`."""

    def _path(self, source: str, base: str, table: str) -> tuple[Join, ...]:
        first = find_path(self.model.models, source, base) or ()
        return first + ((find_path(self.model.models, base, table) or ()) if table != base else ())

    def _qualify(self, expression: exp.Expression, base: str, alias_map=None) -> exp.Expression:
        out = expression.copy()
        for col in out.find_all(exp.Column):
            table = col.table or base
            col.set("table", exp.to_identifier((alias_map or {}).get(table, table)))
        return out

    def _dim_view(self, dim: Dimension, source: str, home: bool = False):
        """(key expression on the source's aliases, join path) of a dimension from a source."""
        override = None if home else next((e for s, e in dim.overrides if s == source), None)
        base, key = (source, override) if override is not None else (dim.model, dim.key)
        table = key.table if isinstance(key, exp.Column) and key.table else base
        return self._qualify(key, base), self._path(source, base, table)

    def _filter_views(self, dim: Dimension, source: str):
        """The (key, path) pairs a filter on ``dim`` must hold on for a source's rows.

        A source with a column of its own for the dimension (``bugs.feature_id``) is filtered on
        that column instead of on its test's members; the bridge that defines the dimension
        (``test_features``) is filtered on its own row and keeps the test rule (any member of
        its test matches)."""
        home = self._dim_view(dim, source, home=True)
        if not any(s == source for s, _ in dim.overrides):
            return [home]
        own = self._dim_view(dim, source)
        return [own] if self._filtered_on_own_column(dim, source) else [home, own]

    @staticmethod
    def _filtered_on_own_column(dim: Dimension, source: str) -> bool:
        """Whether a filter on ``dim`` reads the source's own column instead of its test's members."""
        is_bridge = isinstance(dim.key, exp.Column) and dim.key.table == source
        return not is_bridge and any(s == source for s, _ in dim.overrides)

    def _time_key(self, dim: Dimension, key: exp.Expression) -> exp.Expression:
        return exp.TimestampTrunc(this=key, unit=exp.var(dim.granularity.upper()))

    def _source_select(self, sp: SourcePlan) -> exp.Select:
        plan, model = self.plan, self.model
        src = sp.model
        fro = _From(model, src)
        keys: list[exp.Expression] = []
        grouped: dict[str, exp.Expression] = {}
        grouped_paths: dict[str, tuple[Join, ...]] = {}
        for dim in self.dims:
            key, path = self._dim_view(dim, src)
            fro.add_path(path, key.copy().is_(exp.null()).not_() if path and path[-1].fans_out else None)
            grouped[dim.name], grouped_paths[dim.name] = key, path
            keys.append(exp.alias_(self._time_key(dim, key) if dim.is_time else key, _key_alias(dim.name), copy=False))
        where: list[exp.Expression] = []
        scope = plan.scope_model
        if scope:
            fro.add_path(find_path(model.models, src, scope) or ())
            sdim, _ = model.models[scope].default_scope
            if plan.scope_values is not None:
                skey, _ = self._dim_view(model.dimensions[sdim], src, home=True)
                where.append(_in(skey, plan.scope_values, False))
            tdim = next((d for d in model.dimensions.values() if d.is_time and d.model == scope), None)
            if tdim is not None and (plan.date_start or plan.date_end):
                tkey, _ = self._dim_view(tdim, src)
                if plan.date_start:
                    where.append(tkey.copy() >= literal(plan.date_start))
                if plan.date_end:
                    where.append(tkey.copy() < literal(plan.date_end))
        for f in sp.filters:
            dim = model.dimensions[f.dimension]
            for key, path in self._filter_views(dim, src):
                # the same column reached by another path (the bridge seen from its own test) is
                # another row: only the grouped key's own join may carry the condition directly
                is_group_key = dim.name in grouped and key == grouped[dim.name] and path == grouped_paths[dim.name]
                if path and any(s.fans_out for s in path) and not is_group_key:
                    where.append(self._exists(dim, f, key, path, fro))
                else:
                    fro.add_path(path)
                    where.append(self._condition(dim, f, key, raw=key))
        fanned = fro.fans_out(grouped)
        measures = []
        need_dedup = False
        filtered: set[str] = set()
        for ms in sp.measures:
            metric = model.metrics[ms.metric]
            value = self._qualify(metric.expr, src)
            conds = [self._qualify(c, src) for c in (metric.filter, ms.extra_filter) if c is not None]
            conds = [c for c in conds if c not in where]  # already a condition on every row
            if conds:
                value = exp.Case(ifs=[exp.If(this=exp.and_(*conds, copy=False), true=value)])
                filtered.add(ms.name)
            measures.append((ms.name, metric, value))
            if fanned and metric.type in ("count", "sum", "avg"):
                need_dedup = True
        pk = model.models[src].primary_key

        def agg(metric, value, filtered=False):
            t = metric.type
            is_pk = isinstance(metric.expr, exp.Column) and (metric.expr.name,) == pk
            if t == "count_distinct":
                if value is not None and any(not d.is_time and grouped[d.name] == value for d in self.dims):
                    # distinct values of the grouped key itself: 1 per group, 0 for its NULL group
                    return exp.Case(ifs=[exp.If(this=exp.Is(this=value.copy(), expression=exp.null()),
                                                true=exp.Literal.number(0))], default=exp.Literal.number(1))
                if is_pk and (not fanned or need_dedup):
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
                return exp.Count(this=exp.Distinct(expressions=[value]))
            return {"count": exp.Count, "sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}[t](this=value)

        if need_dedup:
            inner = exp.select(*keys, *[exp.alias_(exp.column(c, src), f"pk__{c}", copy=False) for c in pk],
                               *[exp.alias_(v, f"v__{n}", copy=False) for n, _, v in measures]).distinct(copy=False)
            inner = fro.apply(inner)
            if where:
                inner = inner.where(exp.and_(*where, copy=False), copy=False)
            inner = self._push(inner, src)
            outer = exp.select(*[exp.column(_key_alias(d.name)) for d in self.dims],
                               *[exp.alias_(agg(mt, exp.column(f"v__{n}"), n in filtered), n, copy=False) for n, mt, _ in measures]
                               ).from_(exp.alias_(inner.subquery(), "d", table=True, copy=False), copy=False)
            if self.dims:
                outer = outer.group_by(*[exp.column(_key_alias(d.name)) for d in self.dims], copy=False)
            return outer
        select = exp.select(*keys, *[exp.alias_(agg(mt, v), n, copy=False) for n, mt, v in measures])
        select = fro.apply(select)
        if where:
            select = select.where(exp.and_(*where, copy=False), copy=False)
        if self.dims:
            select = select.group_by(*[k.this.copy() for k in keys], copy=False)
        return self._push(select, src)

    def _push(self, select: exp.Select, src: str) -> exp.Select:
        scope = self.plan.scope_model
        if not scope or src == scope:
            return select
        return push_scope(select, scope, null_rejecting=self.plan.scope_values is not None)
