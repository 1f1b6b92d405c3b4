"""The warehouse's own engine: which one a ``warehouse=`` argument names, and one open
connection to it for one answer, whatever the engine.

``warehouse`` may be a DuckDB file (path, ``duckdb:///`` URL) or connection, MotherDuck's
``md:database`` (handed to DuckDB as it is), a PostgreSQL URL (``postgresql://``) or an open
psycopg2 connection, or a Spark session; None follows :func:`semantic.project.warehouse_location`
(``TESTIO_WAREHOUSE_URL``, else ``TESTIO_WAREHOUSE_PATH``, else the project's DuckDB file).
Every engine is read the same way (:class:`EngineConnection`): SQL rendered in its dialect, a
timeout that interrupts the query on the engine, times in UTC, nothing written.

>>> import duckdb
>>> engine_of(duckdb.connect()), engine_of("postgresql://ann:s3cret@db/testio"), engine_of("md:testio")
('duckdb', 'postgres', 'motherduck')
>>> with open_engine(duckdb.connect()) as con:
...     con.engine, con.dialect, con.query("SELECT 42 AS answer", timeout_s=5.0).to_dict("records")
('duckdb', 'duckdb', [{'answer': 42}])
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import duckdb
import pandas as pd

from semantic.answer.execute import execute
from semantic.answer.warehouse import open_warehouse
from semantic.errors import InvalidArgumentError, WarehouseNotFoundError, WarehouseUnreachableError
from semantic.model.loader import CATALOG_SQL
from semantic.project import redact_url, warehouse_location

# The sqlglot dialect each engine runs (MotherDuck is DuckDB).
ENGINE_DIALECTS = {"duckdb": "duckdb", "motherduck": "duckdb", "postgres": "postgres", "spark": "spark"}
ACCEPTED = ("a DuckDB file path, duckdb:///path, md:database (MotherDuck), postgresql://user:password@host/db, "
            "a duckdb or psycopg2 connection, a Spark session, or None for $TESTIO_WAREHOUSE_URL / "
            "$TESTIO_WAREHOUSE_PATH / the project's data/testio.duckdb")


def _is_psycopg2(obj) -> bool:
    return type(obj).__module__.startswith("psycopg2") and hasattr(obj, "cursor") and hasattr(obj, "dsn")


def _is_spark(obj) -> bool:
    return type(obj).__module__.startswith("pyspark.sql") and callable(getattr(obj, "sql", None))


def engine_of(warehouse=None) -> str:
    """The engine ``warehouse`` names, without connecting: ``duckdb``, ``motherduck``,
    ``postgres`` or ``spark`` (DuckDB when nothing says where the warehouse is)."""
    if isinstance(warehouse, duckdb.DuckDBPyConnection):
        return "duckdb"
    if _is_psycopg2(warehouse):
        return "postgres"
    if _is_spark(warehouse):
        return "spark"
    if warehouse is not None and not isinstance(warehouse, (str, os.PathLike)):
        raise InvalidArgumentError("warehouse", f"warehouse must be {ACCEPTED}; not {type(warehouse).__name__} "
                                                f"{warehouse!r:.60}")
    try:
        return warehouse_location(warehouse).engine
    except WarehouseNotFoundError:
        return "duckdb"


class EngineConnection:
    """One open warehouse: ``query`` answers (interrupted after a timeout), ``execute`` reads
    a little (a DB-API cursor: the load log), ``catalog_columns`` lists the default schema's
    tables and columns. ``where`` names the warehouse without a password."""

    engine = "duckdb"
    where = "a DuckDB connection"

    @property
    def dialect(self) -> str:
        return ENGINE_DIALECTS[self.engine]

    def describe(self) -> dict:
        """The engine that ran an answer, for its metadata."""
        return {"engine": self.engine, "dialect": self.dialect, "warehouse": self.where}

    def query(self, sql: str, timeout_s: float) -> pd.DataFrame:
        raise NotImplementedError

    def execute(self, sql: str):
        raise NotImplementedError

    def catalog_columns(self) -> list[tuple[str, str, str]]:
        return self.execute(CATALOG_SQL).fetchall()


class DuckDBConnection(EngineConnection):
    """A DuckDB (or MotherDuck) connection, read-only when this module opened it."""

    def __init__(self, con: duckdb.DuckDBPyConnection, engine: str, where: str):
        self.con, self.engine, self.where = con, engine, where

    def query(self, sql: str, timeout_s: float) -> pd.DataFrame:
        return execute(self.con, sql, timeout_s)

    def execute(self, sql: str):
        return self.con.execute(sql)


def as_engine(con) -> EngineConnection:
    """``con`` as an :class:`EngineConnection` (a DuckDB connection is wrapped, as it is)."""
    if isinstance(con, EngineConnection):
        return con
    if isinstance(con, duckdb.DuckDBPyConnection):
        return DuckDBConnection(con, "duckdb", "a DuckDB connection")
    raise InvalidArgumentError("warehouse", f"expected an open warehouse connection, not {type(con).__name__}")


@contextlib.contextmanager
def _motherduck(url: str) -> Iterator[EngineConnection]:
    try:
        con = duckdb.connect(url, read_only=True)
    except duckdb.Error as e:
        raise WarehouseUnreachableError(f"cannot open MotherDuck database {redact_url(url)}: "
                                        f"{redact_url(str(e))}; check the database name and motherduck_token")
    try:
        yield DuckDBConnection(con, "motherduck", redact_url(url))
    finally:
        con.close()


@contextlib.contextmanager
def open_engine(warehouse=None, *, retry_for_s: float = 5.0) -> Iterator[EngineConnection]:
    """Yield the warehouse open for one answer; close it afterwards unless it was given."""
    if _is_psycopg2(warehouse):
        from semantic.answer.postgres import postgres_connection

        with postgres_connection(warehouse) as con:
            yield con
        return
    if _is_spark(warehouse):
        from semantic.answer.spark import SparkConnection

        yield SparkConnection(warehouse)
        return
    engine = engine_of(warehouse)
    if isinstance(warehouse, duckdb.DuckDBPyConnection):
        with open_warehouse(warehouse, retry_for_s=retry_for_s) as con:
            yield DuckDBConnection(con, "duckdb", "a DuckDB connection")
        return
    location = warehouse_location(warehouse)
    if engine == "postgres":
        from semantic.answer.postgres import postgres_connection

        with postgres_connection(location.url) as con:
            yield con
    elif engine == "motherduck":
        with _motherduck(location.url) as con:
            yield con
    else:
        with open_warehouse(warehouse, retry_for_s=retry_for_s) as con:
            yield DuckDBConnection(con, "duckdb", str(location.path))
