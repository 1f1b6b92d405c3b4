"""Small sqlglot builders that never parse text: tables, joins, user values as literals.

``exp.to_table("tests")`` and ``Select.join(..., join_type="left")`` go through sqlglot's
parser (a tokenizer run per call); on the compile hot path these build the same nodes directly.

>>> s = add_join(exp.select("x").from_(table("bugs", "b")), table("tests", "t"), "left",
...          on=exp.EQ(this=exp.column("test_id", "b"), expression=exp.column("test_id", "t")))
>>> s.sql()
'SELECT x FROM bugs AS b LEFT JOIN tests AS t ON b.test_id = t.test_id'
>>> literal("x'; DROP TABLE bugs; --").sql()
"'x''; DROP TABLE bugs; --'"
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlglot import exp

_KINDS = {"": {}, "inner": {"kind": "INNER"}, "cross": {"kind": "CROSS"}, "left": {"side": "LEFT"}, "full": {"side": "FULL"}}


def table(name: str, alias: str | None = None) -> exp.Table:
    """A table (``catalog.db.name`` allowed) with an optional alias."""
    parts = name.split(".")
    args = {"this": exp.to_identifier(parts[-1])}
    if len(parts) > 1:
        args["db"] = exp.to_identifier(parts[-2])
    if len(parts) > 2:
        args["catalog"] = exp.to_identifier(parts[-3])
    node = exp.Table(**args)
    if alias:
        node.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return node


def add_join(select: exp.Select, rel: exp.Expression, how: str, on: exp.Expression | None = None) -> exp.Select:
    """Append ``<how> JOIN rel [ON on]`` to a select (in place) and return it."""
    node = exp.Join(this=rel, **_KINDS[how])
    if on is not None:
        node.set("on", on)
    select.append("joins", node)
    return select


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


def in_values(expression: exp.Expression, values, include_null: bool) -> exp.Expression:
    """``expression = v``, ``expression IN (...)``, each ``OR expression IS NULL`` with ``include_null``.

    >>> in_values(exp.column("status"), ["a", "b"], True).sql()
    "status IN ('a', 'b') OR status IS NULL"
    """
    parts = []
    if len(values) == 1:
        parts.append(exp.EQ(this=expression.copy(), expression=literal(values[0])))
    elif values:
        parts.append(exp.In(this=expression.copy(), expressions=[literal(v) for v in values]))
    if include_null:
        parts.append(exp.Is(this=expression.copy(), expression=exp.null()))
    return exp.or_(*parts, copy=False) if len(parts) > 1 else parts[0]
