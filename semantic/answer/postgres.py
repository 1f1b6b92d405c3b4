"""Answers from a PostgreSQL warehouse (psycopg2): one read-only transaction per answer, in UTC,
every statement bounded by ``statement_timeout``.

The tables are those the pipeline writes into the default schema (``public``), with the DuckDB
warehouse's names and columns. A URL is opened and closed here; a given psycopg2 connection is
handed back as it was: between its transactions, the answer's own read-only transaction is
rolled back; inside an open transaction (a pipeline step answering from the version it is about
to commit, to audit it), the answer runs in a savepoint rolled back afterwards, so neither its
settings nor anything else of it stays in the caller's transaction. Each statement runs inside a savepoint, so a failed one (a missing
table, a timeout) leaves the transaction usable for the next (the load log, the catalog).
A password is never shown: messages name the server by :func:`semantic.project.redact_url`.
:func:`connect` opens every PostgreSQL session of the project, answers' and the pipeline's, so a
failed connect is the same typed error on both sides (server down, login refused, no database).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import urlsplit

import pandas as pd
import psycopg2
import psycopg2.errors
import psycopg2.extensions

from semantic.answer.engines import EngineConnection
from semantic.errors import (
    InvalidArgumentError,
    QueryTimeoutError,
    SemanticError,
    WarehouseDatabaseMissingError,
    WarehouseLoginError,
    WarehouseServerUnreachableError,
    WarehouseTableMissingError,
    WarehouseUnavailableError,
)
from semantic.project import redact_url, without_secrets

CONNECT_TIMEOUT_S = 10
APPLICATION_NAME = "testio-semantic"
MISSING = (psycopg2.errors.UndefinedTable, psycopg2.errors.UndefinedColumn, psycopg2.errors.InvalidSchemaName)
_LOGIN_MARKERS = ("password authentication failed", "no password supplied", "pg_hba.conf", "role \"")


def connect(url: str, *, timeout_s: float, application_name: str, **parameters):
    """A psycopg2 connection to the warehouse at ``url`` (``parameters`` go to psycopg2.connect).
    The one way the semantic layer and the pipeline open PostgreSQL: a failed connect raises the
    typed error of :func:`connection_error`."""
    try:
        return psycopg2.connect(url, connect_timeout=max(1, round(timeout_s)),
                                application_name=application_name, **parameters)
    except psycopg2.Error as exc:
        raise connection_error(url, exc) from None


def connection_error(url: str, exc: psycopg2.Error) -> WarehouseUnavailableError:
    """The typed error for a failed connect to ``url``, saying what to do; no password shown.

    >>> str(connection_error("postgresql://ann:pw@db:5433/testio", psycopg2.OperationalError("timeout expired")))[:71]
    'cannot reach the PostgreSQL server of the warehouse at db:5433 (postgre'
    """
    parts = urlsplit(url)
    said = without_secrets(str(exc).strip().replace("\n", " "), url)
    shown, server = redact_url(url), f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    database = parts.path.lstrip("/") or parts.username or "postgres"
    if "does not exist" in said and "database" in said:
        return WarehouseDatabaseMissingError(
            f"the PostgreSQL server at {server} answers, but has no database {database!r} ({shown}): "
            f"create it (CREATE DATABASE \"{database}\"; or createdb -h {parts.hostname} -p {parts.port or 5432} "
            f"-U {parts.username} {database}), then run the pipeline: it creates its tables itself"
        )
    if any(marker in said for marker in _LOGIN_MARKERS):
        return WarehouseLoginError(
            f"the PostgreSQL server at {server} refused the login of {parts.username!r} ({shown}): {said}. "
            f"Check the user and password of the warehouse URL (TESTIO_WAREHOUSE_URL; URL-encode special "
            f"characters, e.g. @ as %40) and that the server lets this host in (pg_hba.conf)"
        )
    return WarehouseServerUnreachableError(
        f"cannot reach the PostgreSQL server of the warehouse at {server} ({shown}): {said}. Check that it "
        f"is running and listening there (host, port, firewall), then run again"
    )


def _where(conn) -> str:
    """postgresql://user@host:port/database of an open connection (no password)."""
    info = conn.info
    return f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"


class PostgresConnection(EngineConnection):
    engine = "postgres"

    def __init__(self, conn, where: str):
        self.conn, self.where = conn, where

    @contextlib.contextmanager
    def _statement(self, timeout_s: float | None = None):
        """A cursor inside a savepoint; the driver's errors become typed ones."""
        with self.conn.cursor() as cur:
            cur.execute("SAVEPOINT semantic_statement")
            if timeout_s is not None:
                cur.execute(f"SET LOCAL statement_timeout = {max(1, round(timeout_s * 1000))}")
            try:
                yield cur
            except psycopg2.errors.QueryCanceled:
                cur.execute("ROLLBACK TO SAVEPOINT semantic_statement")
                raise QueryTimeoutError(
                    f"the query ran longer than the {timeout_s:g} s timeout and PostgreSQL cancelled it "
                    f"(statement_timeout); narrow the date range, filter, or use fewer dimensions") from None
            except psycopg2.OperationalError as e:
                if not self.conn.closed:  # the server answered with an error (a lock timeout, out of memory)
                    cur.execute("ROLLBACK TO SAVEPOINT semantic_statement")
                    raise SemanticError(f"the warehouse {self.where} could not answer this query: "
                                        f"{str(e).strip()}") from None
                raise WarehouseUnreachableError(f"the PostgreSQL warehouse {self.where} stopped answering: "
                                                f"{str(e).strip()}") from None
            except MISSING as e:
                cur.execute("ROLLBACK TO SAVEPOINT semantic_statement")
                raise WarehouseTableMissingError(
                    f"the warehouse {self.where} lacks a table or column the model reads "
                    f"({str(e).splitlines()[0]}): run the pipeline against it (TESTIO_WAREHOUSE_URL=<its URL> "
                    f"make demo, or materialise the assets in Dagster)") from None
            except psycopg2.Error as e:
                cur.execute("ROLLBACK TO SAVEPOINT semantic_statement")
                raise SemanticError(f"the warehouse {self.where} could not answer this query: "
                                    f"{str(e).strip()}") from None
            cur.execute("RELEASE SAVEPOINT semantic_statement")

    def query(self, sql: str, timeout_s: float) -> pd.DataFrame:
        with self._statement(timeout_s) as cur:
            cur.execute(sql)
            columns = [d.name for d in cur.description]
            rows = cur.fetchall()
        return pd.DataFrame.from_records(rows, columns=columns)

    def execute(self, sql: str):
        """A cursor holding the whole (small) result: psycopg2 fetches it on execute."""
        with self._statement() as cur:
            cur.execute(sql)
            description, rows = cur.description, cur.fetchall()
        return _Rows(description, rows)


class _Rows:
    """The DB-API surface readers of the load log and the catalog use."""

    def __init__(self, description, rows):
        self.description, self._rows = description, rows

    def fetchall(self):
        return self._rows


def _begin(conn, inside_callers_transaction: bool) -> None:
    """Open the answer's transaction (or savepoint); on failure, nothing of it is left open."""
    with conn.cursor() as cur:
        if inside_callers_transaction:
            cur.execute("SAVEPOINT semantic_answer")  # READ ONLY cannot be set after a transaction's first statement
            try:
                cur.execute("SET LOCAL TimeZone = 'UTC'")
            except psycopg2.Error:
                cur.execute("ROLLBACK TO SAVEPOINT semantic_answer")
                cur.execute("RELEASE SAVEPOINT semantic_answer")
                raise
            return
        # autocommit: an explicit transaction; otherwise the driver's implicit BEGIN precedes this.
        cur.execute("BEGIN TRANSACTION READ ONLY" if conn.autocommit else "SET TRANSACTION READ ONLY")
        cur.execute("SET LOCAL TimeZone = 'UTC'")


def _end(conn, inside_callers_transaction: bool) -> None:
    if conn.closed:
        return
    if inside_callers_transaction:
        with conn.cursor() as cur:
            cur.execute("ROLLBACK TO SAVEPOINT semantic_answer")
            cur.execute("RELEASE SAVEPOINT semantic_answer")
    elif conn.autocommit:
        with conn.cursor() as cur:
            cur.execute("ROLLBACK")
    else:
        conn.rollback()


@contextlib.contextmanager
def postgres_connection(target) -> Iterator[PostgresConnection]:
    """``target``: a ``postgresql://`` URL (connected and closed here) or a psycopg2 connection."""
    if isinstance(target, str):
        conn = connect(target, timeout_s=CONNECT_TIMEOUT_S, application_name=APPLICATION_NAME)
        where, owned = redact_url(target), True
    else:
        conn, owned = target, False
        if conn.closed:
            raise InvalidArgumentError("warehouse", "the psycopg2 connection given as warehouse is closed")
        status = conn.info.transaction_status
        if status not in (psycopg2.extensions.TRANSACTION_STATUS_IDLE, psycopg2.extensions.TRANSACTION_STATUS_INTRANS):
            raise InvalidArgumentError(
                "warehouse", "the psycopg2 connection given as warehouse is in a failed or active transaction: "
                             "rollback() it first")
        where = _where(conn)
    inside = not owned and conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
    began = False
    try:
        _begin(conn, inside)
        began = True
        yield PostgresConnection(conn, where)
    finally:
        try:
            if began or not inside:  # a savepoint that could not be made has nothing to roll back to
                _end(conn, inside)
        finally:
            if owned:
                conn.close()
