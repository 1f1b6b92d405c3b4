"""Building blocks of the SQL run on the warehouse, as sqlglot expressions rendered for DuckDB.

A PostgreSQL warehouse renders the same statements for Postgres
(:mod:`testio_assets.warehouse.postgres`), so each is written once, in forms both engines run.

Every name reaches SQL through :func:`identifier` (quoted, embedded quotes doubled) and every
value as a literal of the tree or a bound parameter, never by formatting strings.

>>> quote_identifier('a"b')
'"a""b"'
>>> print(render(exp.select(column("test_id")).from_(table("tests")).where(column("status").isin("archived"))))
SELECT "test_id" FROM "tests" WHERE "status" IN ('archived')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import duckdb
from sqlglot import exp

if TYPE_CHECKING:
    from testio_assets.warehouse.schema import Column

DIALECT = "duckdb"


def identifier(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def quote_identifier(name: str) -> str:
    """``name`` as a quoted DuckDB identifier."""
    return identifier(name).sql(DIALECT)


def table(name: str, alias: str | None = None, *, schema: str | None = None) -> exp.Table:
    """The table (or view) ``name``, in ``schema`` when given, optionally aliased."""
    relation = exp.Table(this=identifier(name), db=identifier(schema) if schema else None)
    return relation.as_(alias) if alias else relation


def drop(kind: str, relation: exp.Table) -> exp.Drop:
    """``DROP <kind> IF EXISTS relation``.

    >>> print(render(drop("VIEW", table("v"))))
    DROP VIEW IF EXISTS "v"
    """
    return exp.Drop(tables=[relation], kind=kind, exists=True)


def column(name: str, table_alias: str | None = None) -> exp.Column:
    return exp.Column(this=identifier(name), table=exp.to_identifier(table_alias) if table_alias else None)


def data_type(text: str) -> exp.DataType:
    """A contract type (``BIGINT``, ``VARCHAR[]``, ...) as sqlglot reads it in DuckDB."""
    return exp.DataType.build(text, dialect=DIALECT)


def count_star() -> exp.Expression:
    return exp.Count(this=exp.Star())


def render(expression: exp.Expression) -> str:
    return expression.sql(DIALECT)


def dialect_of(con) -> str:
    """The SQL dialect of a warehouse connection: ``duckdb``, or ``postgres`` for a
    :class:`~testio_assets.warehouse.postgres.PostgresConnection`."""
    return getattr(con, "dialect", DIALECT)


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether a base table ``name`` exists (in any attached database or schema)."""
    query = (
        exp.select(count_star())
        .from_(exp.Table(this=exp.to_identifier("tables"), db=exp.to_identifier("information_schema")))
        .where(exp.column("table_name").eq(exp.Placeholder()))
        .where(exp.column("table_type").eq(exp.Literal.string("BASE TABLE")))
    )
    # fetchall: DuckDB refuses the connection's next statement while a parameterised result is
    # only partly fetched.
    return bool(con.execute(render(query), [name]).fetchall()[0][0])


def stored_columns(con, relation: exp.Table) -> list[tuple[str, str]]:
    """The columns of the table ``relation`` as the connection's own database stores them, in
    order: ``(name, type)``, the type as ``information_schema.columns`` says it (``BIGINT[]`` in
    DuckDB; ``bigint``, or ``int8[]`` for an array, in PostgreSQL). Empty when there is no
    such table. A table without a schema is looked up in the session's current schema."""
    schema = exp.Literal.string(relation.db) if relation.db else exp.func("current_schema")
    type_name = exp.case().when(
        exp.column("data_type").eq(exp.Literal.string("ARRAY")),
        # PostgreSQL names an array's type by its element's, with a leading underscore.
        exp.DPipe(this=exp.func("substr", exp.column("udt_name"), exp.Literal.number(2)), expression=exp.Literal.string("[]")),
    ).else_(exp.column("data_type"))
    query = (
        exp.select(exp.column("column_name"), type_name)
        .from_(exp.Table(this=exp.to_identifier("columns"), db=exp.to_identifier("information_schema")))
        .where(exp.column("table_catalog").eq(exp.func("current_database")))
        .where(exp.column("table_schema").eq(schema))
        .where(exp.column("table_name").eq(exp.Literal.string(relation.name)))
        .order_by(exp.column("ordinal_position"))
    )
    return [(name, type_text) for name, type_text in con.execute(render(query)).fetchall()]


def add_missing_columns(con, relation: exp.Table, definitions: Sequence[Column]) -> None:
    """Give the existing table ``relation`` the columns of ``definitions`` it lacks (NULL in
    its rows), with ``ALTER TABLE ... ADD COLUMN`` for those only: the ALTER locks the table
    against readers until the transaction ends (on PostgreSQL even when the column exists)."""
    present = {name for name, _ in stored_columns(con, relation)}
    for definition in definitions:
        if definition.name not in present:
            new_column = exp.ColumnDef(
                this=identifier(definition.name), kind=data_type(definition.type), exists=True
            )
            con.execute(render(exp.Alter(this=relation.copy(), kind="TABLE", actions=[new_column])))


def insert_or_replace_sql(relation: exp.Table, columns: Sequence[str], key: Sequence[str]) -> str:
    """``INSERT INTO relation (columns) VALUES (?, ...) ON CONFLICT (key) DO UPDATE SET ...``:
    one row, its values bound as parameters in the order of ``columns``, replacing the row with
    the same ``key`` (a log keyed by its primary key; DuckDB and PostgreSQL alike).

    >>> print(insert_or_replace_sql(table("log"), ["name", "at"], ["name"]))
    INSERT INTO "log" ("name", "at") VALUES (?, ?) ON CONFLICT("name") DO UPDATE SET "at" = excluded."at"
    """
    updates = [
        exp.EQ(this=column(c), expression=column(c, "excluded")) for c in columns if c not in key
    ]
    insert = exp.Insert(
        this=exp.Schema(this=relation.copy(), expressions=[identifier(c) for c in columns]),
        expression=exp.Values(expressions=[exp.Tuple(expressions=[exp.Placeholder() for _ in columns])]),
        conflict=exp.OnConflict(
            conflict_keys=[identifier(k) for k in key],
            action=exp.var("DO UPDATE" if updates else "DO NOTHING"),
            expressions=updates,
        ),
    )
    return render(insert)
