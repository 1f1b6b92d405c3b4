"""Render a :class:`~semantic.plan.QueryPlan` into one sqlglot SELECT (builders only).

Shape: one aggregation CTE per metric source at the requested grain, a spine of dimension
combinations, the pieces stitched NULL-safely (``IS NOT DISTINCT FROM``), labels looked up
after aggregation, counts COALESCEd to 0 and ratios NULL on a zero denominator.

>>> from semantic.loader import load_model
>>> from semantic.plan import plan_query
>>> m = load_model()
>>> sql = render_plan(m, plan_query(m, ["bug_count"])).sql("duckdb")
>>> sql.startswith("WITH agg_bugs AS")
True
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlglot import exp

from semantic.loader import find_path
from semantic.pushdown import push_scope
from semantic.plan import FilterSpec, QueryPlan, SourcePlan, metric_inputs, reaches
from semantic.spec import Dimension, Join, Model
from semantic.timegrain import period_bounds, periods

TIME_FORMATS = {"day": "%Y-%m-%d", "week": "%G-W%V", "month": "%Y-%m", "year": "%Y"}
COUNTING = ("count", "count_distinct", "sum")


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
        select = select.from_(exp.alias_(exp.to_table(m[self.source].table), self.source, table=True, copy=False), copy=False)
        for target, (join, extra) in self.joins.items():
            on = exp.and_(*[exp.EQ(this=exp.column(s, join.source), expression=exp.column(t, target))
                            for s, t in join.on], *([extra] if extra is not None else []), copy=False)
            kind = "inner" if join.required else "left"
            select = select.join(exp.alias_(exp.to_table(m[target].table), target, table=True, copy=False), on=on, join_type=kind, copy=False)
        return select


class Renderer:
    """Builds the SQL tree of one plan."""

    def __init__(self, model: Model, plan: QueryPlan):
        self.model, self.plan = model, plan
        self.dims = [model.dimensions[d] for d in plan.dimensions]
        self.ctes: list[tuple[str, exp.Expression]] = []
        self.label_ctes: set[str] = set()

    # -- expressions -------------------------------------------------------------------
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

    def _time_key(self, dim: Dimension, key: exp.Expression) -> exp.Expression:
        return exp.TimestampTrunc(this=key, unit=exp.var(dim.granularity.upper()))

    def _labels_cte(self, dim: Dimension) -> str:
        """CTE of (key, label) over every key any lookup knows (for label filters)."""
        name = f"{dim.name}_labels"
        if name in self.label_ctes:
            return name
        m = self.model.models
        if len(dim.lookups) == 1:  # one lookup: its (aggregated) rows are the keys
            lk = dim.lookups[0]
            select = exp.select(exp.alias_(exp.column(dim.key_column, lk), "key", copy=False),
                                exp.alias_(self._qualify(dim.label_expr, lk), "label", copy=False)) \
                .from_(self._lookup_rel(dim, lk, lk), copy=False) \
                .where(exp.column(dim.key_column, lk).is_(exp.null()).not_(), copy=False)
        else:
            keys = None
            for lk in dim.lookups:
                part = exp.select(exp.column(dim.key_column)).from_(exp.to_table(m[lk].table), copy=False) \
                    .where(exp.column(dim.key_column).is_(exp.null()).not_(), copy=False)
                keys = part if keys is None else exp.union(keys, part, distinct=True, copy=False)
            select = exp.select(exp.alias_(exp.column(dim.key_column, "k"), "key", copy=False),
                                exp.alias_(self._qualify(dim.label_expr, dim.lookups[0]), "label", copy=False)) \
                .from_(exp.alias_(keys.subquery(), "k", table=True, copy=False), copy=False)
            select = self._join_lookups(select, dim, exp.column(dim.key_column, "k"))
        self.ctes.append((name, select))
        self.label_ctes.add(name)
        return name

    def _lookup_rel(self, dim: Dimension, lk: str, alias: str) -> exp.Expression:
        """A lookup table by key: the table itself when the key is its primary key, else the
        smallest value of each label column per key."""
        m = self.model.models
        if m[lk].primary_key == (dim.key_column,):
            return exp.alias_(exp.to_table(m[lk].table), alias, table=True, copy=False)
        used = sorted({c.name for c in dim.label_expr.find_all(exp.Column) if c.table == lk})
        agg = exp.select(exp.column(dim.key_column), *[exp.alias_(exp.Min(this=exp.column(c)), c, copy=False) for c in used]) \
            .from_(exp.to_table(m[lk].table), copy=False).group_by(exp.column(dim.key_column), copy=False)
        return exp.alias_(agg.subquery(), alias, table=True, copy=False)

    def _join_lookups(self, select: exp.Select, dim: Dimension, key: exp.Expression, prefix: str = "") -> exp.Select:
        """LEFT JOIN every lookup of a dimension on a key (aliases ``<prefix><lookup>``)."""
        for lk in dim.lookups:
            alias = f"{prefix}{lk}"
            select = select.join(self._lookup_rel(dim, lk, alias),
                                 on=exp.EQ(this=exp.column(dim.key_column, alias), expression=key.copy()),
                                 join_type="left", copy=False)
        return select

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
        sub = exp.select(exp.column("key")).from_(exp.to_table(labels), copy=False) \
            .where(_in(exp.column("label"), f.values, f.include_null), copy=False)
        match = exp.In(this=key.copy(), query=sub.subquery())
        return exp.or_(key.copy().is_(exp.null()), match, copy=False) if f.include_null else match

    def _exists(self, dim: Dimension, f: FilterSpec, key: exp.Expression, path, fro: _From):
        """A filter through a fan-out join as a semi-join: any member matches."""
        k = next(i for i, s in enumerate(path) if s.fans_out)
        fro.add_path(path[:k])
        inner_alias = {s.target: f"{s.target}_x" for s in path[k:]}
        m = self.model.models
        first = path[k]
        sub_from = exp.alias_(exp.to_table(m[first.target].table), inner_alias[first.target], table=True, copy=False)
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
                q = q.join(exp.alias_(exp.to_table(m[step.target].table), inner_alias[step.target], table=True, copy=False),
                           on=exp.and_(*[exp.EQ(this=exp.column(s, inner_alias.get(step.source, step.source)),
                                                expression=exp.column(t, inner_alias[step.target])) for s, t in step.on], copy=False), copy=False)
            if not single:
                test = exp.Exists(this=q.where(exp.and_(*corr, cond, copy=False), copy=False))
                return exp.Not(this=test) if negated else test
            if negated:  # NOT EXISTS: a NULL outer key or a NULL inner key must not make it NULL
                q = q.where(exp.and_(cond, inner_col.copy().is_(exp.null()).not_(), copy=False), copy=False)
                test = exp.In(this=exp.column(first.on[0][0], first.source), query=q.subquery())
                return exp.Not(this=exp.func("COALESCE", test, exp.false()))
            return exp.In(this=exp.column(first.on[0][0], first.source), query=q.where(cond, copy=False).subquery())

        # a member matches (a value, or None for a member whose label is NULL) ...
        any_member = sub(exp.and_(not_null, self._condition(dim, f, inner_key), copy=False))
        if not f.include_null:
            return any_member
        # ... or, for None, the test has no member at all (its NULL group)
        return exp.or_(any_member, sub(not_null, negated=True), copy=False)

    # -- source CTEs ---------------------------------------------------------------------
    def _source_select(self, sp: SourcePlan) -> exp.Select:
        plan, model = self.plan, self.model
        src = sp.model
        fro = _From(model, src)
        keys: list[exp.Expression] = []
        grouped: dict[str, exp.Expression] = {}
        for dim in self.dims:
            key, path = self._dim_view(dim, src)
            fro.add_path(path, key.copy().is_(exp.null()).not_() if path and path[-1].fans_out else None)
            grouped[dim.name] = key
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
            views = [(True, *self._dim_view(dim, src, home=True))]
            if any(s == src for s, _ in dim.overrides):
                views.append((False, *self._dim_view(dim, src)))
            for home, key, path in views:
                is_group_key = dim.name in grouped and key == grouped[dim.name]
                if path and any(s.fans_out for s in path) and not is_group_key:
                    where.append(self._exists(dim, f, key, path, fro))
                else:
                    fro.add_path(path)
                    where.append(self._condition(dim, f, key, raw=key))
        fanned = fro.fans_out(grouped)
        measures = []
        need_dedup = False
        for ms in sp.measures:
            metric = model.metrics[ms.metric]
            value = self._qualify(metric.expr, src)
            conds = [self._qualify(c, src) for c in (metric.filter, ms.extra_filter) if c is not None]
            conds = [c for c in conds if c not in where]  # already a condition on every row
            if conds:
                value = exp.Case(ifs=[exp.If(this=exp.and_(*conds, copy=False), true=value)])
            measures.append((ms.name, metric, value))
            if fanned and metric.type in ("count", "sum", "avg"):
                need_dedup = True
        pk = model.models[src].primary_key

        def agg(metric, value):
            t = metric.type
            is_pk = isinstance(metric.expr, exp.Column) and (metric.expr.name,) == pk
            if t == "count_distinct":
                if value is not None and any(not d.is_time and grouped[d.name] == value for d in self.dims):
                    # distinct values of the grouped key itself: 1 per group, 0 for its NULL group
                    return exp.Case(ifs=[exp.If(this=exp.Is(this=value.copy(), expression=exp.null()),
                                                true=exp.Literal.number(0))], default=exp.Literal.number(1))
                if is_pk and (not fanned or need_dedup):
                    # the primary key is unique and non-NULL: counting rows counts distinct keys
                    if isinstance(value, exp.Column):
                        return exp.Count(this=exp.Star())
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
                               *[exp.alias_(agg(mt, exp.column(f"v__{n}")), n, copy=False) for n, mt, _ in measures]
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
                .from_(exp.to_table(m[dim.members_model].table), copy=False).where(exp.column(dim.key_column).is_(exp.null()).not_(), copy=False)
            key = exp.column(dim.key_column)
        else:
            select = exp.select(exp.column(alias)).distinct(copy=False).from_(exp.to_table(observed), copy=False)
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
            final = exp.select().from_(exp.to_table(names[order[0]]), copy=False)
            for s in order[1:]:
                final = final.join(exp.to_table(names[s]), join_type="cross", copy=False)
            keys = {}
        else:
            scope = plan.scope_model
            parts = ["scope_keys"] if plan.spine_needs_scope else []
            all_test = scope is not None and all(
                find_path(model.models, scope, d.model) is not None or d.model == scope for d in self.dims)
            for s in order:
                if not all_test or s == scope or any(any(o == s for o, _ in d.overrides) for d in self.dims):
                    parts.append(names[s])
            if plan.fill_missing:
                observed = parts[0] if len(parts) == 1 else self._union(parts, kcols, "spine_observed")
                cross = exp.select(*[exp.column(k, f"m_{d.name}") for k, d in zip(kcols, self.dims)])
                for i, d in enumerate(self.dims):
                    rel = self._members(d, observed).subquery(f"m_{d.name}")
                    cross = cross.from_(rel, copy=False) if i == 0 else cross.join(rel, join_type="cross", copy=False)
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
                final = exp.select().from_(exp.to_table(first), copy=False).join(
                    exp.to_table(second), join_type="full", copy=False,
                    on=exp.and_(*[exp.NullSafeEQ(this=exp.column(k, first), expression=exp.column(k, second))
                                  for k in kcols], copy=False))
                keys = {k: exp.func("COALESCE", exp.column(k, first), exp.column(k, second)) for k in kcols}
            else:
                final = exp.select().from_(exp.to_table(spine), copy=False)
                keys = {k: exp.column(k, spine) for k in kcols}
            for s in order:
                if names[s] in parts if spine is None else names[s] == spine:
                    continue
                on = exp.and_(*[exp.NullSafeEQ(this=keys[k].copy(), expression=exp.column(k, names[s]))
                                for k in kcols], copy=False)
                final = final.join(exp.to_table(names[s]), on=on, join_type="left", copy=False)
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
        # rows before the limit; without dimensions the answer is always exactly one row
        total = exp.Window(this=exp.Count(this=exp.Star())) if self.dims else exp.Literal.number(1)
        cols.append(exp.alias_(total, "_total_rows", copy=False))
        final = final.select(*cols, copy=False)
        if self.dims:  # without dimensions there is exactly one row: nothing to sort or cut
            final = final.order_by(*[exp.Ordered(this=exp.column(c), desc=desc, nulls_first=False) for c, desc in plan.order_by], copy=False)
            final = final.limit(plan.limit, copy=False)
        for name, cte in self.ctes:
            final = final.with_(name, as_=cte, copy=False)
        return final

    def _union(self, parts, kcols, name) -> str:
        union = None
        for p in parts:
            sel = exp.select(*[exp.column(k) for k in kcols]).from_(exp.to_table(p), copy=False)
            union = sel if union is None else exp.union(union, sel, distinct=True, copy=False)
        self.ctes.append((name, union))
        return name

    def _time_label(self, dim: Dimension, key: exp.Expression) -> exp.Expression:
        if dim.granularity == "quarter":
            year = exp.TimeToStr(this=exp.cast(key.copy(), "DATE"), format=exp.Literal.string("%Y"))
            q = exp.cast(exp.Extract(this=exp.var("QUARTER"), expression=key.copy()), "VARCHAR")
            return exp.DPipe(this=exp.DPipe(this=year, expression=exp.Literal.string("-Q")), expression=q)
        return exp.TimeToStr(this=exp.cast(key, "DATE"), format=exp.Literal.string(TIME_FORMATS[dim.granularity]))

    def _input_value(self, inp, names) -> exp.Expression:
        base = self.model.metrics[inp.metric]
        col = exp.column(inp.name, names[base.model])
        if base.type in COUNTING:
            return exp.func("COALESCE", col, exp.Literal.number(0))
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


def render_plan(model: Model, plan: QueryPlan) -> exp.Select:
    """The SQL tree of a plan."""
    return Renderer(model, plan).build()
