"""Scope pushdown: filter and pre-compute on the scope table before a large source joins it.

A metric source other than the scope model (bugs, test_features) joins the scope table (tests)
many-to-one. Conditions that read only the scope table (the default scope, date bounds, filters
on test dimensions, semi-joins through a test's bridges) and computed dimension keys on it
(``DATE_TRUNC`` of ``end_at``) are evaluated once per test in a derived table instead of once
per joined source row:

    FROM bugs JOIN tests ... WHERE tests.status IN (...) GROUP BY DATE_TRUNC('MONTH', tests.end_at)

becomes

    FROM bugs JOIN (SELECT tests.test_id, DATE_TRUNC('MONTH', tests.end_at) AS month__key
                    FROM tests AS tests WHERE tests.status IN (...)) AS tests ...
    GROUP BY tests.month__key

The answer is the same: the moved conditions were conjuncts of the WHERE, so applying them
before an inner join filters the same rows. A LEFT join becomes INNER only when a moved
condition rejects the NULL row of a missing match anyway (``null_rejecting``).

>>> s = exp.select("x").from_("bugs").join(exp.alias_(exp.to_table("tests"), "tests", table=True),
...     on="bugs.test_id = tests.test_id", join_type="inner").where("tests.status = 'locked'")
>>> push_scope(s, "tests", False).sql()
"SELECT x FROM bugs INNER JOIN (SELECT tests.test_id FROM tests AS tests WHERE tests.status = 'locked') AS tests ON bugs.test_id = tests.test_id"
"""

from __future__ import annotations

from sqlglot import exp

KEY_SUFFIX = "__key"


def _conjuncts(where: exp.Expression | None) -> list[exp.Expression]:
    if where is None:
        return []
    cond = where.this
    return list(cond.flatten()) if isinstance(cond, exp.And) else [cond]


def _inside_subquery(node: exp.Expression, top: exp.Expression) -> bool:
    parent = node.parent
    while parent is not None and parent is not top:
        if isinstance(parent, (exp.Select, exp.Subquery, exp.Exists)):
            return True
        parent = parent.parent
    return False


def _reads_only(e: exp.Expression, scope: str) -> bool:
    """Whether an expression reads the scope alias and no other table of the outer query."""
    local = {t.alias_or_name for t in e.find_all(exp.Table)}
    seen = False
    for c in e.find_all(exp.Column):
        if not c.table:
            if not _inside_subquery(c, e):
                return False
        elif c.table == scope:
            seen = True
        elif c.table not in local:
            return False
    return seen


def push_scope(select: exp.Select, scope: str, null_rejecting: bool) -> exp.Select:
    """Move scope-only conditions and computed scope keys into a derived scope table."""
    joins = select.args.get("joins") or []
    join = next((j for j in joins if isinstance(j.this, exp.Table) and j.this.alias_or_name == scope), None)
    if join is None:
        return select
    inner = join.args.get("kind") == "INNER" and not join.args.get("side")
    conds = _conjuncts(select.args.get("where"))
    moved = [c for c in conds if _reads_only(c, scope)]
    if not inner and not (null_rejecting and moved):
        return select
    computed: list[tuple[str, exp.Expression]] = []
    group = select.args.get("group")
    for proj in select.expressions:
        if isinstance(proj, exp.Alias) and proj.alias.endswith(KEY_SUFFIX) and not isinstance(proj.this, exp.Column) \
                and _reads_only(proj.this, scope):
            expr = proj.this
            if group is not None:
                for g in group.expressions:
                    if g == expr:
                        g.replace(exp.column(proj.alias, scope))
            computed.append((proj.alias, expr))
            proj.set("this", exp.column(proj.alias, scope))
    if not moved and not computed:
        return select
    kept = [c for c in conds if not any(c is m for m in moved)]
    select.set("where", exp.Where(this=exp.and_(*kept, copy=False)) if kept else None)
    table = join.this
    derived = exp.select().from_(table.copy(), copy=False)
    if moved:
        derived = derived.where(exp.and_(*moved, copy=False), copy=False)
    join.set("this", exp.alias_(exp.Subquery(this=derived), scope, table=True, copy=False))
    # the scope columns the rest of the query reads (outside the derived table)
    inside = {id(n) for n in derived.walk()}
    names: dict[str, None] = {}
    for c in select.find_all(exp.Column):
        if c.table == scope and id(c) not in inside:
            names.setdefault(c.name, None)
    derived.select(*[exp.column(n, scope) for n in names if n not in dict(computed)],
                   *[exp.alias_(e, a, copy=False) for a, e in computed], copy=False)
    if not inner:
        join.set("side", None)
        join.set("kind", "INNER")
    return select
