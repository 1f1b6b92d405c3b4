"""Set-based, transactional writes of whole tables (or key-scoped slices) into DuckDB.

Every write is one transaction: the table's new content and its ``_table_loads`` row commit
together, or neither does, so a failure leaves the previous version intact. Data arrives as
Arrow tables (or a SQL query over the warehouse) and is inserted with one
``INSERT ... SELECT`` casting every column to its contract type.

Three modes cover full and incremental refreshes:

- :meth:`WarehouseWriter.replace` - the table becomes exactly ``data``.
- :meth:`WarehouseWriter.upsert` - rows of ``data`` replace rows with the same primary key.
- :meth:`WarehouseWriter.replace_where` - rows whose ``column`` is in ``keys`` are replaced by
  ``data`` (e.g. the bugs of re-fetched tests: a bug that vanished from a test disappears).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from semantic.errors import WarehouseCorruptError
from semantic.answer.warehouse import is_corruption
from testio_assets.freshness import policy_windows
from testio_assets.warehouse.errors import WarehouseAuditError, disk_full_error, is_disk_full
from testio_assets.warehouse.schema import (
    TABLE_LOADS,
    TABLES,
    Table,
    create_table_sql,
    quote_identifier,
)

Source = pa.Table | str  # Arrow data, or a SELECT over the warehouse
Statement = tuple[str, list]  # SQL with its parameters
Audit = Callable[[duckdb.DuckDBPyConnection], list[str]]  # the checks a new version fails, in words

_view_names = (f"_incoming_{n}" for n in itertools.count())


def _cast_select(table: Table, source: str) -> str:
    columns = ", ".join(
        f"CAST({quote_identifier(c.name)} AS {c.type}) AS {quote_identifier(c.name)}" for c in table.columns
    )
    return f"SELECT {columns} FROM {source}"


def _replace_table_sql(table: Table) -> str:
    return create_table_sql(table).replace("CREATE TABLE IF NOT EXISTS", "CREATE OR REPLACE TABLE", 1)


class WarehouseWriter:
    """Writes through one open connection; get one from ``WarehouseResource.writer()``."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, run_id: str | None, path: Path | None = None
    ) -> None:
        self._con = con
        self._run_id = run_id
        self._path = path or Path("(in-memory warehouse)")
        self.tables_written: list[str] = []
        self._load_log_ready = False  # _table_loads exists with every column on this connection

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The open connection, for reads between writes (e.g. a preview)."""
        return self._con

    def wrote(self, table_name: str) -> None:
        """Declare a table changed through :attr:`connection` directly (not by this writer's
        modes), so it is audited before the next publication."""
        if table_name not in self.tables_written:
            self.tables_written.append(table_name)

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the file (a full disk is reported as such)."""
        try:
            self._con.execute("CHECKPOINT")
        except duckdb.Error as exc:
            self._raise_typed(exc, "checkpointing the warehouse")
            raise

    def replace(
        self,
        table_name: str | Table,
        data: Source,
        *,
        also: Sequence[Statement] = (),
        audit: Audit | None = None,
    ) -> int:
        """Full refresh: drop and recreate the table from its contract (a :class:`Table`, or the
        name of one of ``TABLES``), creating its schema if it has one, then load ``data``;
        ``also`` runs after the load, in the same transaction. ``audit`` then reads the new
        version inside the transaction: the failures it returns roll it back
        (:class:`WarehouseAuditError`), so a version that fails its checks is never committed."""
        table = table_name if isinstance(table_name, Table) else TABLES[table_name]
        schema = [f'CREATE SCHEMA IF NOT EXISTS {quote_identifier(table.schema)}'] if table.schema else []
        return self._write(
            table, data, before=lambda _: [*schema, _replace_table_sql(table)], after=also, audit=audit
        )

    def upsert(self, table_name: str, data: Source) -> int:
        """Insert ``data``, replacing existing rows with the same primary key."""
        table = TABLES[table_name]

        def delete_matching(incoming: str) -> list[str]:
            match = " AND ".join(
                f"t.{quote_identifier(k)} = i.{quote_identifier(k)}" for k in table.primary_key
            )
            return [
                create_table_sql(table),
                f"DELETE FROM {table.sql_name} t USING {incoming} i WHERE {match}",
            ]

        return self._write(table, data, before=delete_matching)

    def replace_where(
        self, table_name: str, data: Source, *, column: str, keys: Sequence[Any]
    ) -> int:
        """Replace every row whose ``column`` is in ``keys`` with ``data`` (rows of ``data``
        outside ``keys`` are inserted too)."""
        table = TABLES[table_name]
        key_type = table.column(column).type
        key_view = next(_view_names)
        self._con.register(key_view, pa.table({"key": pa.array(list(keys))}))
        try:
            return self._write(
                table,
                data,
                before=lambda _: [
                    create_table_sql(table),
                    f"DELETE FROM {table.sql_name} WHERE {quote_identifier(column)} IN "
                    f"(SELECT CAST(key AS {key_type}) FROM {key_view})",
                ],
            )
        finally:
            self._con.unregister(key_view)

    def _write(
        self,
        table: Table,
        data: Source,
        *,
        before: Callable[[str], list[str]],
        after: Sequence[Statement] = (),
        audit: Audit | None = None,
    ) -> int:
        con = self._con
        incoming = next(_view_names)
        if isinstance(data, str):
            con.execute(f"CREATE TEMP VIEW {incoming} AS {data}")
        else:
            con.register(incoming, data)
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                for statement in before(incoming):
                    con.execute(statement)
                con.execute(f"INSERT INTO {table.sql_name} {_cast_select(table, incoming)}")
                for statement, parameters in after:
                    con.execute(statement, parameters)
                failed = audit(con) if audit is not None else []
                if failed:
                    raise WarehouseAuditError(
                        f"refusing to write {table.qualified_name}: the new version fails its checks "
                        f"({'; '.join(failed)}). Nothing was written: the previous version stays, "
                        "and so does the read copy"
                    )
                row_count = con.execute(f"SELECT count(*) FROM {table.sql_name}").fetchone()[0]
                self._record_load(table.qualified_name, row_count)
                con.execute("COMMIT")
                self._load_log_ready = True  # only once committed: a rollback undoes the DDL too
            except BaseException as exc:
                # A failed COMMIT has already ended the transaction: its ROLLBACK would raise
                # "no transaction is active" and hide the real cause.
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                if isinstance(exc, duckdb.Error):
                    self._raise_typed(exc, f"writing table {table.name}")
                raise
        finally:
            with contextlib.suppress(duckdb.Error):
                if isinstance(data, str):
                    con.execute(f"DROP VIEW IF EXISTS {incoming}")
                else:
                    con.unregister(incoming)
        self.tables_written.append(table.qualified_name)
        return row_count

    def _raise_typed(self, exc: duckdb.Error, doing: str) -> None:
        """Raise the typed error for a full disk or a damaged file; other errors go on as they are."""
        if is_disk_full(exc):
            raise disk_full_error(exc, self._path, f"{doing} in {self._path}") from exc
        if is_corruption(exc):
            raise WarehouseCorruptError(
                f"{doing} in {self._path} failed: the file is damaged ({exc}). Restore the last "
                "published read copy over it (cp <stem>.read.duckdb <stem>.duckdb), or move it "
                "aside and run `make demo` to rebuild it from the API"
            ) from exc

    def _record_load(self, table_name: str, row_count: int) -> None:
        loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
        windows = policy_windows().get(table_name)
        if not self._load_log_ready:
            self._con.execute(create_table_sql(TABLE_LOADS))
            # A warehouse written before the policy columns existed gains them here.
            for column in TABLE_LOADS.columns:
                self._con.execute(
                    f"ALTER TABLE {quote_identifier(TABLE_LOADS.name)} "
                    f"ADD COLUMN IF NOT EXISTS {quote_identifier(column.name)} {column.type}"
                )
        self._con.execute(
            f"INSERT OR REPLACE INTO {quote_identifier(TABLE_LOADS.name)} "
            "(table_name, loaded_at, run_id, row_count, warn_after_seconds, fail_after_seconds) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                table_name, loaded_at, self._run_id, row_count,
                windows.warn.total_seconds() if windows else None,
                windows.fail.total_seconds() if windows else None,
            ],
        )
