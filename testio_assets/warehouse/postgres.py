"""A PostgreSQL warehouse behind the connection interface the assets use with DuckDB.

The ingestion code talks to a connection with ``execute(sql, parameters)`` (DuckDB's SQL, as
:mod:`testio_assets.warehouse.sql` renders it, ``?`` placeholders), ``register`` /
``unregister`` of Arrow tables, and ``BEGIN TRANSACTION`` / ``COMMIT`` / ``ROLLBACK``.
:class:`PostgresConnection` gives the same on a psycopg2 connection, so each statement is
built once with sqlglot and rendered for PostgreSQL here, never written twice:

- SQL text is read as DuckDB's and rendered for Postgres by sqlglot (``list()`` becomes
  ``ARRAY_AGG``, an anti join ``NOT EXISTS``, ``QUALIFY`` a filtered subquery, ``?`` ``%s``);
  an expression tree is rendered for Postgres directly;
- ``register(name, arrow_table)`` bulk-loads the table into a temporary table with
  ``COPY ... FROM STDIN`` (:mod:`testio_assets.warehouse.copy_csv`), never row by row;
- transactions nest: inside the writer's transaction (one per step, see
  :class:`testio_assets.warehouse.resource.WarehouseResource`), a table write's ``BEGIN`` /
  ``COMMIT`` / ``ROLLBACK`` become a savepoint, its release and a rollback to it.

Sessions run in UTC (``TIMESTAMP`` columns hold UTC, as in DuckDB) and return JSON as text,
as DuckDB does; a reader's session is read-only. Sessions are opened by the semantic layer's
:func:`semantic.answer.postgres.connect`, as answers are: a failed connect is a typed error that
says what to do (server down, login refused, database missing), the password never shown.

>>> to_postgres("SELECT product_id, list(test_id) FROM tests WHERE status = ? GROUP BY product_id", True)
'SELECT product_id, ARRAY_AGG(test_id) FROM tests WHERE status = %s GROUP BY product_id'
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres

from semantic.answer.postgres import connect
from semantic.errors import WarehouseUnavailableError
from testio_assets.warehouse.copy_csv import csv_batches, postgres_type
from testio_assets.warehouse.errors import WarehouseLockTimeoutError, WarehouseTransactionAbortedError
from testio_assets.warehouse.sql import drop, identifier
from testio_assets.warehouse.sql import table as sql_table

DIALECT = "postgres"
APPLICATION_NAME = "testio-warehouse"
# The other sessions holding locks on relations of this database inside an open transaction,
# longest open first: who a writer that timed out waiting for a lock was most likely behind.
_LOCK_HOLDERS = """
SELECT a.pid, a.state, date_trunc('second', now() - a.xact_start), a.application_name,
       string_agg(DISTINCT l.relation::regclass::text || ' (' || l.mode || ')', ', ')
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.granted AND l.locktype = 'relation' AND l.pid NOT IN (%s, pg_backend_pid()) AND a.xact_start IS NOT NULL
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.relation::regclass::text NOT LIKE 'pg\\_%%'
GROUP BY a.pid, a.state, a.xact_start, a.application_name
ORDER BY a.xact_start
"""


_PARAMETER = "\x00"  # stands for a placeholder while rendering; PostgreSQL text can hold no NUL


class _BoundPostgres(Postgres):
    """PostgreSQL, rendering ``?`` placeholders as a marker :func:`_render` turns into ``%s``."""

    class Generator(Postgres.Generator):
        def placeholder_sql(self, expression: exp.Placeholder) -> str:
            return _PARAMETER if not expression.this else super().placeholder_sql(expression)


def _render(tree: exp.Expression, with_parameters: bool) -> str:
    """The tree as PostgreSQL's SQL. With parameters, psycopg2 reads every ``%`` as the start of
    a placeholder, so each ``%`` of the SQL (a LIKE pattern, a format) is doubled: after the
    translation to PostgreSQL, which rewrites some strings (``strftime``'s ``'%Y'`` becomes
    ``TO_CHAR``'s ``'YYYY'``)."""
    if not with_parameters:
        return tree.sql(DIALECT)
    return tree.sql(_BoundPostgres).replace("%", "%%").replace(_PARAMETER, "%s")


@functools.lru_cache(maxsize=512)
def to_postgres(sql: str, with_parameters: bool) -> str:
    """DuckDB SQL text (one statement) rendered for PostgreSQL."""
    return _render(sqlglot.parse_one(sql, read="duckdb"), with_parameters)


def _tree(statement: str | exp.Expression) -> exp.Expression | None:
    """The statement's tree when it is a transaction statement (cheap to tell), else None."""
    if isinstance(statement, exp.Expression):
        return statement
    head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
    return sqlglot.parse_one(statement, read="duckdb") if head in {"BEGIN", "COMMIT", "ROLLBACK"} else None


class PostgresResult:
    """The rows of one statement, read the way the assets read a DuckDB result."""

    def __init__(self, cursor) -> None:
        self.status = cursor.statusmessage  # the server's command tag: "COMMIT", "ROLLBACK", ...
        self.description = cursor.description
        self._rows: list[tuple] = cursor.fetchall() if cursor.description else []
        self._next = 0

    def fetchall(self) -> list[tuple]:
        rows, self._next = self._rows[self._next:], len(self._rows)
        return rows

    def fetchone(self) -> tuple | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def to_arrow_table(self) -> pa.Table:
        names = [d[0] for d in self.description or []]
        return pa.table({name: [row[i] for row in self._rows] for i, name in enumerate(names)})


class PostgresConnection:
    """A psycopg2 connection (autocommit; transactions are explicit statements) that takes
    DuckDB-rendered SQL and Arrow registrations."""

    dialect = DIALECT

    def __init__(self, raw, url: str | None = None, lock_timeout_s: float | None = None) -> None:
        self._raw = raw
        self._url = url  # to look up, on a second session, who holds a lock this one timed out on
        self._lock_timeout_s = lock_timeout_s
        self._depth = 0  # open transactions: 1 the outermost, more are savepoints

    @property
    def raw(self):
        """The psycopg2 connection itself."""
        return self._raw

    def execute(self, statement: str | exp.Expression, parameters: Sequence[Any] | None = None) -> PostgresResult:
        tree = _tree(statement)
        if isinstance(tree, (exp.Transaction, exp.Commit, exp.Rollback)):
            return self._transaction(tree)
        if isinstance(statement, exp.Expression):
            sql = _render(statement, parameters is not None)
        else:
            sql = to_postgres(statement, parameters is not None)
        with self._raw.cursor() as cursor:
            try:
                cursor.execute(sql, None if parameters is None else list(parameters))
            except psycopg2.errors.LockNotAvailable as exc:
                raise self._lock_timeout_error(exc) from exc
            return PostgresResult(cursor)

    def _lock_timeout_error(self, exc: psycopg2.Error) -> WarehouseLockTimeoutError:
        """The typed error for a statement that waited out ``lock_timeout``, naming the sessions
        that hold locks (looked up on a second session: this one's transaction has failed)."""
        holders = []
        if self._url is not None:
            try:
                other = connect(self._url, timeout_s=5, application_name=APPLICATION_NAME)
                try:
                    with other.cursor() as cursor:
                        cursor.execute(_LOCK_HOLDERS, [self._raw.get_backend_pid()])
                        holders = cursor.fetchall()
                finally:
                    other.close()
            except (psycopg2.Error, WarehouseUnavailableError):
                pass  # the message below still says what to do
        shown = "; ".join(
            f"pid {pid} ({state}, transaction open for {open_for}, application {app or '?'}, holding {locks})"
            for pid, state, open_for, app, locks in holders
        ) or "none found any more (the lock was released meanwhile)"
        waited = f"{self._lock_timeout_s:g} s" if self._lock_timeout_s else "its lock_timeout"
        return WarehouseLockTimeoutError(
            f"the warehouse write waited more than {waited} for a lock another session holds "
            f"({str(exc).strip().splitlines()[0]}). Sessions holding locks on the warehouse's tables: {shown}. "
            "Nothing was written: readers keep the previous version. End that session's transaction (COMMIT or "
            "ROLLBACK in it; a session left 'idle in transaction' by a notebook or SQL tool is the usual cause, "
            "SELECT pg_terminate_backend(<pid>) ends it), or raise the warehouse resource's lock_timeout_s, then run again"
        )

    def sql(self, statement: str | exp.Expression) -> PostgresResult:
        return self.execute(statement)

    def _transaction(self, tree: exp.Expression) -> PostgresResult:
        if isinstance(tree, exp.Transaction):
            sql = "BEGIN" if self._depth == 0 else f"SAVEPOINT {self._savepoint(self._depth + 1)}"
            result = self._run(sql)
            self._depth += 1  # only once it is open: a failed BEGIN leaves nothing to end
            return result
        else:
            if self._depth == 0:  # nothing open (a failed COMMIT already ended it)
                return self._run("ROLLBACK" if isinstance(tree, exp.Rollback) else "COMMIT")
            name = self._savepoint()
            self._depth -= 1
            if isinstance(tree, exp.Commit):
                if self._depth == 0:
                    return self._commit()
                sql = f"RELEASE SAVEPOINT {name}"
            else:
                sql = "ROLLBACK" if self._depth == 0 else f"ROLLBACK TO SAVEPOINT {name}"
        return self._run(sql)

    def raise_if_failed(self, doing: str = "committing the write") -> None:
        """Raise :class:`WarehouseTransactionAbortedError` (after rolling back) when a statement
        of the open transaction failed: PostgreSQL ignores every later statement and answers
        COMMIT with ROLLBACK, no error, so a swallowed error would otherwise lose the write silently."""
        if self._raw.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_INERROR:
            return
        self._depth = 0
        self._run("ROLLBACK")
        raise WarehouseTransactionAbortedError(
            f"{doing} failed: a statement of the warehouse transaction had failed earlier and its error was "
            "caught without rolling back, so PostgreSQL aborted the whole transaction. Nothing was written: "
            "readers keep the previous version. Let that error propagate (or roll back to a savepoint "
            "when it is expected), then run again"
        )

    def _commit(self) -> PostgresResult:
        self.raise_if_failed()
        result = self._run("COMMIT")
        if result.status == "ROLLBACK":  # the server rolled back instead (a failure raise_if_failed missed)
            raise WarehouseTransactionAbortedError(
                "PostgreSQL answered COMMIT with ROLLBACK: the warehouse transaction had failed. Nothing was "
                "written: readers keep the previous version. Run again; if it recurs, the run's log has the "
                "statement that failed")
        return result

    def _savepoint(self, depth: int | None = None) -> str:
        return identifier(f"_testio_write_{depth or self._depth}").sql(DIALECT)

    def _run(self, sql: str) -> PostgresResult:
        with self._raw.cursor() as cursor:
            cursor.execute(sql)
            return PostgresResult(cursor)

    def register(self, name: str, data: pa.Table) -> None:
        """Load ``data`` into the temporary table ``name`` with COPY (replacing one so named)."""
        columns = [
            exp.ColumnDef(this=identifier(field.name), kind=postgres_type(field.type)) for field in data.schema
        ]
        self.unregister(name)
        create = exp.Create(
            this=exp.Schema(this=sql_table(name), expressions=columns),
            kind="TABLE",
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
        )
        copy = exp.Copy(
            this=sql_table(name),
            kind=True,
            files=[exp.var("STDIN")],
            params=[exp.CopyParameter(this=exp.var("FORMAT"), expression=exp.var("CSV"))],
        )
        with self._raw.cursor() as cursor:
            cursor.execute(create.sql(DIALECT))
            copy_sql = copy.sql(DIALECT)
            for chunk in csv_batches(data):
                cursor.copy_expert(copy_sql, _Chunk(chunk))

    def unregister(self, name: str) -> None:
        self._run(drop("TABLE", sql_table(name)).sql(DIALECT))

    def close(self) -> None:
        self._raw.close()


class _Chunk:
    """A bytes buffer as the file object ``copy_expert`` reads from (without copying it)."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._at = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else self._at + size
        piece = self._view[self._at:end]
        self._at += len(piece)
        return piece.tobytes()

    readline = read


def connect_postgres(
    url: str, *, read_only: bool = False, timeout_s: float = 10.0, lock_timeout_s: float | None = None
) -> PostgresConnection:
    """A session on the warehouse database of ``url`` in UTC (read-only for readers); a
    statement waiting longer than ``lock_timeout_s`` for a lock fails (None or 0: waits)."""
    options = ["-c TimeZone=UTC", *(["-c default_transaction_read_only=on"] if read_only else [])]
    if lock_timeout_s:
        options.append(f"-c lock_timeout={max(1, round(lock_timeout_s * 1000))}")
    raw = connect(url, timeout_s=timeout_s, application_name=APPLICATION_NAME,
                  options=" ".join(options), client_encoding="UTF8")
    raw.autocommit = True
    # JSON values as their text, as DuckDB returns them (readers json.loads them).
    psycopg2.extras.register_default_json(raw, loads=str)
    psycopg2.extras.register_default_jsonb(raw, loads=str)
    return PostgresConnection(raw, url, lock_timeout_s)

