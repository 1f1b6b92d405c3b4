"""Copies of a DuckDB warehouse on the other engines the semantic layer runs on, for the
differential tests and the engine benchmark.

- :func:`copy_to_postgres`: every table of DuckDB's default schema into a PostgreSQL schema,
  bulk-loaded with ``COPY ... FROM STDIN`` (CSV written by DuckDB itself: NULL unquoted, an
  empty text quoted), columns typed as sqlglot translates DuckDB's types; optionally with
  timestamps as ``timestamptz`` (the instants of the naive UTC values) and text columns under a
  given collation, the variants whose answers must not change; or with ``pipeline_ddl`` the
  tables created as the pipeline creates them on Postgres (its DDL, primary keys included).
- :func:`answer_difference`: what differs between two engines' answers to the same query (same
  columns, same rows in the same order, floats within a relative tolerance), None when nothing.
- :func:`copy_to_spark`: every table as a Spark temporary view, timestamps as plain
  ``TIMESTAMP`` (instants, shown in the session's zone), created while the session is in UTC.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import duckdb
from sqlglot import exp

from testio_assets.warehouse.postgres import to_postgres
from testio_assets.warehouse.schema import TABLES, create_table_sql


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()]


def _postgres_type(duck_type: str, timestamptz: bool, collation: str | None) -> str:
    built = exp.DataType.build(duck_type, dialect="duckdb")
    if timestamptz and built.is_type(exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ):
        return "timestamptz"
    if built.is_type(*exp.DataType.TEXT_TYPES) and collation:
        return f'{built.sql("postgres")} COLLATE "{collation}"'
    return built.sql("postgres")


def _create_sql(table: str, columns: list[tuple[str, str]], timestamptz: bool, collation: str | None,
                pipeline_ddl: bool) -> str:
    if pipeline_ddl:  # as the pipeline's writer renders it for Postgres (testio_assets.warehouse.postgres)
        return to_postgres(create_table_sql(TABLES[table]), False)
    return (f'CREATE TABLE "{table}" ('
            + ", ".join(f'"{c}" {_postgres_type(t, timestamptz, collation)}' for c, t in columns) + ")")


def copy_to_postgres(duck: duckdb.DuckDBPyConnection, pg, *, timestamptz: bool = False,
                     collation: str | None = None, pipeline_ddl: bool = False) -> dict[str, int]:
    """Replace the tables of ``pg``'s (a psycopg2 connection) current schema with ``duck``'s;
    returns the rows copied per table. ``pipeline_ddl``: every table is one of the pipeline's
    (testio_assets.warehouse.schema.TABLES), created with its DDL."""
    if pipeline_ddl and (timestamptz or collation):
        raise ValueError("pipeline_ddl creates the pipeline's column types: no timestamptz or collation variant")
    copied = {}
    with tempfile.TemporaryDirectory(prefix="testio-copy-") as folder, pg.cursor() as cur:
        if timestamptz:
            cur.execute("SET LOCAL TimeZone = 'UTC'")  # the naive values are UTC instants (this load only)
        for table in _tables(duck):
            columns = _columns(duck, table)
            names = ", ".join(f'"{c}"' for c, _ in columns)
            cur.execute(f'DROP TABLE IF EXISTS "{table}"')
            cur.execute(_create_sql(table, columns, timestamptz, collation, pipeline_ddl))
            csv = Path(folder) / f"{table}.csv"
            duck.execute(f"COPY (SELECT {names} FROM \"{table}\") TO '{csv}' (FORMAT csv, HEADER false)")
            with csv.open("rb") as f:
                cur.copy_expert(f'COPY "{table}" ({names}) FROM STDIN WITH (FORMAT csv)', f)
            copied[table] = cur.rowcount
        cur.execute("ANALYZE")
    pg.commit()
    return copied


def _rows(frame) -> list[tuple]:
    """The frame's rows with NULL and NaN both None."""
    return [tuple(None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in row)
            for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)]


def answer_difference(want, got, rel_tol: float = 1e-12) -> str | None:
    """None when two results of ``query_metrics`` give the same answer: the same columns and
    total rows, the same rows in the same order, floats within ``rel_tol``; else what differs."""
    if list(got.df.columns) != list(want.df.columns):
        return f"columns {list(got.df.columns)} instead of {list(want.df.columns)}"
    if got.metadata["total_rows"] != want.metadata["total_rows"]:
        return f"{got.metadata['total_rows']} rows in total instead of {want.metadata['total_rows']}"
    g_rows, w_rows = _rows(got.df), _rows(want.df)
    if len(g_rows) != len(w_rows):
        return f"{len(g_rows)} rows returned instead of {len(w_rows)}\n{got.df}\n{want.df}"
    for g, w in zip(g_rows, w_rows):
        if not all(math.isclose(a, b, rel_tol=rel_tol) if isinstance(a, float) and isinstance(b, float) else a == b
                   for a, b in zip(g, w)):
            return f"row {g} instead of {w}"
    return None


def copy_to_spark(duck: duckdb.DuckDBPyConnection, spark) -> None:
    """Every table of ``duck`` as a temporary view of ``spark`` (loaded in UTC)."""
    zone = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    try:
        for table in _tables(duck):
            columns = _columns(duck, table)
            # Spark types, with TIMESTAMP the plain (session-zoned) one whatever sqlglot would say.
            ddl = ", ".join(f"`{c}` " + ("TIMESTAMP" if "TIMESTAMP" in t.upper() else
                                         exp.DataType.build(t, dialect="duckdb").sql("spark")) for c, t in columns)
            rows = duck.execute(f'SELECT * FROM "{table}"').fetchall()
            spark.createDataFrame(rows, ddl).createOrReplaceTempView(table)
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)
