"""Dimension labels: lookup tables by key, the (key, label) CTE for label filters, time labels.

Labels are looked up after aggregation (by key), so a label never multiplies rows: a lookup
whose key is not its primary key is reduced to the smallest label per key first.

>>> from semantic.model.loader import load_model
>>> time_label(load_model().dimensions["month"], exp.column("k")).sql("duckdb")
"STRFTIME(CAST(k AS DATE), '%Y-%m')"
"""

from __future__ import annotations

from sqlglot import exp

from semantic.model.spec import Dimension, Model
from semantic.plan.timegrain import LABELS
from semantic.plan.views import qualify
from semantic.sql.builders import add_join, table


def labels_select(model: Model, dim: Dimension) -> exp.Select:
    """(key, label) over every key any lookup knows (for label filters)."""
    m = model.models
    if len(dim.lookups) == 1:  # one lookup: its (aggregated) rows are the keys
        lk = dim.lookups[0]
        return exp.select(exp.alias_(exp.column(dim.key_column, lk), "key", copy=False),
                          exp.alias_(qualify(dim.label_expr, lk), "label", copy=False)) \
            .from_(lookup_relation(model, dim, lk, lk), copy=False) \
            .where(exp.column(dim.key_column, lk).is_(exp.null()).not_(), copy=False)
    keys = None
    for lk in dim.lookups:
        part = exp.select(exp.column(dim.key_column)).from_(table(m[lk].table), copy=False) \
            .where(exp.column(dim.key_column).is_(exp.null()).not_(), copy=False)
        keys = part if keys is None else exp.union(keys, part, distinct=True, copy=False)
    select = exp.select(exp.alias_(exp.column(dim.key_column, "k"), "key", copy=False),
                        exp.alias_(qualify(dim.label_expr, dim.lookups[0]), "label", copy=False)) \
        .from_(exp.alias_(keys.subquery(), "k", table=True, copy=False), copy=False)
    return join_lookups(model, select, dim, exp.column(dim.key_column, "k"))


def lookup_relation(model: Model, dim: Dimension, lk: str, alias: str) -> exp.Expression:
    """A lookup table by key: the table itself when the key is its primary key, else the
    smallest value of each label column per key."""
    m = model.models
    if m[lk].primary_key == (dim.key_column,):
        return table(m[lk].table, alias)
    used = sorted({c.name for c in dim.label_expr.find_all(exp.Column) if c.table == lk})
    agg = exp.select(exp.column(dim.key_column), *[exp.alias_(exp.Min(this=exp.column(c)), c, copy=False) for c in used]) \
        .from_(table(m[lk].table), copy=False).group_by(exp.column(dim.key_column), copy=False)
    return exp.alias_(agg.subquery(), alias, table=True, copy=False)


def join_lookups(model: Model, select: exp.Select, dim: Dimension, key: exp.Expression, prefix: str = "") -> exp.Select:
    """LEFT JOIN every lookup of a dimension on a key (aliases ``<prefix><lookup>``)."""
    for lk in dim.lookups:
        alias = f"{prefix}{lk}"
        select = add_join(select, lookup_relation(model, dim, lk, alias), "left",
                          on=exp.EQ(this=exp.column(dim.key_column, alias), expression=key.copy()))
    return select


def time_label(dim: Dimension, key: exp.Expression) -> exp.Expression:
    """The label of a truncated timestamp: '2025-02-03', '2025-W07', '2025-02', '2025-Q1', '2025'."""
    if dim.granularity == "quarter":
        year = exp.TimeToStr(this=exp.cast(key.copy(), "DATE"), format=exp.Literal.string("%Y"))
        q = exp.cast(exp.Extract(this=exp.var("QUARTER"), expression=key.copy()), "VARCHAR")
        return exp.DPipe(this=exp.DPipe(this=year, expression=exp.Literal.string("-Q")), expression=q)
    return exp.TimeToStr(this=exp.cast(key, "DATE"), format=exp.Literal.string(LABELS[dim.granularity].strftime))
