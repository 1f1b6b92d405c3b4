"""The same answer on every engine: what a dialect's rendering needs beyond sqlglot's translation.

The renderer builds one dialect-neutral tree; :func:`for_dialect` adjusts a copy of it where
engines measured here gave different answers to the same SQL:

- **Time does not follow a session time zone.** Warehouse timestamps are naive UTC. Spark's
  and Snowflake's plain ``TIMESTAMP`` follows the session (Spark's session zone, Snowflake's
  ``TIMESTAMP_TYPE_MAPPING``), so their timestamp literals become ``TIMESTAMP_NTZ``; the
  executors also run each query in UTC (Spark's ``spark.sql.session.timeZone``, Postgres'
  ``TimeZone``), so a column stored with a zone is bucketed in UTC too. BigQuery's
  ``TIMESTAMP_TRUNC`` takes a zone-aware ``TIMESTAMP`` while the columns and literals are
  ``DATETIME`` (civil time, as the warehouse's naive UTC is): it truncates with
  ``DATETIME_TRUNC``, so both sides of every comparison have one type.
- **Text sorts by byte order whatever the collation.** Ties are broken by every dimension
  column (the planner's ORDER BY ends with all of them), and a text column sorts by its
  collation: under an ICU or ``en_US`` collation Postgres puts ``'a'`` before ``'B'``, DuckDB
  the other way round, so a tie at a ``LIMIT`` cut would keep other rows. The text columns the
  answer is sorted by are selected with a binary collation: ``COLLATE "C"`` on Postgres,
  ``COLLATE(x, 'utf8')`` on Snowflake (DuckDB, Spark, BigQuery and Trino compare bytes unless
  configured otherwise). Sorting by the output column then uses it.

Ratios are DOUBLE everywhere by construction (:func:`semantic.sql.metrics.ratio`).

>>> tree = exp.select(exp.alias_(exp.column("name"), "product")).from_("t").order_by("product")
>>> for_dialect(tree, "postgres", ["product"]).sql("postgres")
'SELECT name COLLATE "C" AS product FROM t ORDER BY product NULLS FIRST'
>>> bounds = exp.select("x").from_("t").where(exp.column("end_at") >= exp.cast(exp.Literal.string("2025-01-01"), "TIMESTAMP"))
>>> for_dialect(bounds, "spark", []).sql("spark")
"SELECT x FROM t WHERE end_at >= CAST('2025-01-01' AS TIMESTAMP_NTZ)"
"""

from __future__ import annotations

from collections.abc import Collection

from sqlglot import exp

# The collation comparing text by its bytes (UTF-8: by code point), per dialect that needs one.
BINARY_COLLATION = {
    "postgres": exp.to_identifier("C", quoted=True),
    "snowflake": exp.Literal.string("utf8"),
}
# Dialects whose plain TIMESTAMP may follow a session setting: literals become TIMESTAMP_NTZ.
ZONE_FREE_TIMESTAMPS = ("spark", "snowflake")


def _zone_free(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.TIMESTAMP):
        node.set("to", exp.DataType.build("TIMESTAMPNTZ"))
    return node


def _civil_trunc(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.TimestampTrunc):
        return exp.DatetimeTrunc(this=node.this, unit=node.args.get("unit"))
    return node


def for_dialect(tree: exp.Select, dialect: str, sorted_text_columns: Collection[str]) -> exp.Select:
    """A copy of ``tree`` adjusted for ``dialect``; ``sorted_text_columns`` are the answer's text
    columns its ORDER BY names (they get the dialect's binary collation)."""
    tree = tree.copy()
    if dialect in ZONE_FREE_TIMESTAMPS:
        tree = tree.transform(_zone_free, copy=False)
    if dialect == "bigquery":
        tree = tree.transform(_civil_trunc, copy=False)
    collation = BINARY_COLLATION.get(dialect)
    if collation is not None and sorted_text_columns:
        for projection in tree.expressions:
            if isinstance(projection, exp.Alias) and projection.alias in sorted_text_columns:
                projection.set("this", exp.Collate(this=projection.this, expression=collation.copy()))
    return tree
