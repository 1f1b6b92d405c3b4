"""Small sqlglot builders that never parse text: tables and joins as nodes.

``exp.to_table("tests")`` and ``Select.join(..., join_type="left")`` go through sqlglot's
parser (a tokenizer run per call); on the compile hot path these build the same nodes directly.

>>> s = add_join(exp.select("x").from_(table("bugs", "b")), table("tests", "t"), "left",
...          on=exp.EQ(this=exp.column("test_id", "b"), expression=exp.column("test_id", "t")))
>>> s.sql()
'SELECT x FROM bugs AS b LEFT JOIN tests AS t ON b.test_id = t.test_id'
"""

from __future__ import annotations

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
