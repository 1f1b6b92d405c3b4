"""Set-based, transactional writes of whole tables (or key-scoped slices) into the warehouse
(a DuckDB connection, or a :class:`~testio_assets.warehouse.postgres.PostgresConnection`).

Every write is one transaction: the table's new content and its ``_table_loads`` row commit
together, or neither does, so a failure leaves the previous version intact. Data arrives as
Arrow tables (or a SQL query over the warehouse) and is inserted with one
``INSERT ... SELECT`` casting every column to its contract type.

Three modes cover full and incremental refreshes:

- :meth:`WarehouseWriter.replace` - the table becomes exactly ``data``.
- :meth:`WarehouseWriter.upsert` - rows of ``data`` replace rows with the same primary key.
- :meth:`WarehouseWriter.replace_where` - rows whose ``column`` is in ``keys`` are replaced by
  ``data`` (e.g. the bugs of re-fetched tests: a bug that vanished from a test disappears).

On PostgreSQL, Arrow data reaches the server by ``COPY`` into a temporary table, and a full
refresh of a table whose stored columns (names, order and types) match its contract deletes the
stored rows instead of recreating the table: readers of the table keep reading the previous
version until the commit instead of waiting on a dropped table, and views that others built on
it stay valid. When the columns differ (a metric's type changed with its YAML, a column came or
went), the table is dropped and recreated in the same transaction, so no value is cast into an
old type; a view depending on it stops that with :class:`WarehouseSchemaChangeBlockedError`.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import psycopg2.errors
import pyarrow as pa
import sqlglot
from sqlglot import exp

from semantic.errors import WarehouseCorruptError
from semantic.answer.warehouse import is_corruption
from testio_assets.warehouse.errors import (
    SQL_ERRORS,
    WarehouseAuditError,
    WarehouseSchemaChangeBlockedError,
    disk_full_error,
    is_disk_full,
)
from testio_assets.warehouse.schema import TABLE_LOADS, TABLES, Table, create_table_sql
from testio_assets.warehouse.sql import (
    add_missing_columns,
    count_star,
    data_type,
    dialect_of,
    drop,
    identifier,
    insert_or_replace_sql,
    render,
    stored_columns,
)
from testio_assets.warehouse.sql import column as column_ref
from testio_assets.warehouse.sql import table as sql_table

Source = pa.Table | exp.Query  # Arrow data, or a query over the warehouse
Statement = tuple[str, list]  # SQL with its bound parameters
Audit = Callable[[duckdb.DuckDBPyConnection], list[str]]  # the checks a new version fails, in words
# Per table, the (warn, fail) seconds of its freshness policy, recorded with each load.
PolicyWindows = Mapping[str, tuple[float, float]]

_view_names = (f"_incoming_{n}" for n in itertools.count())


def _cast_select(table: Table, source: str) -> exp.Select:
    return exp.select(
        *(exp.cast(column_ref(c.name), data_type(c.type)).as_(c.name, quoted=True) for c in table.columns)
    ).from_(sql_table(source))


class WarehouseWriter:
    """Writes through one open connection; get one from ``WarehouseResource.writer()``."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        run_id: str | None,
        path: Path | None = None,
        policy_windows: PolicyWindows | None = None,
    ) -> None:
        self._con = con
        self._run_id = run_id
        self._path = path or Path("(in-memory warehouse)")
        self._policy_windows = dict(policy_windows or {})
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
        schema = (
            [render(exp.Create(this=identifier(table.schema), kind="SCHEMA", exists=True))] if table.schema else []
        )
        if dialect_of(self._con) == "postgres":
            def recreate(_: str) -> list[str]:
                for statement in schema:
                    self._con.execute(statement)
                return self._postgres_refresh(table)
        else:
            def recreate(_: str) -> list[str]:
                return [*schema, create_table_sql(table, replace=True)]
        return self._write(table, data, before=recreate, after=also, audit=audit)

    def _postgres_refresh(self, table: Table) -> list[str]:
        """The statements emptying ``table`` for its new version on PostgreSQL: a DELETE when
        its stored columns are the contract's, else (after dropping it here) a CREATE."""
        stored = stored_columns(self._con, table.relation())
        if not stored:
            return [create_table_sql(table)]
        have = [(name, _postgres_type(type_text, "postgres")) for name, type_text in stored]
        wanted = [(c.name, _postgres_type(c.type, "duckdb")) for c in table.columns]
        if have == wanted:
            return [render(exp.delete(table.relation()))]
        try:
            self._con.execute(render(drop("TABLE", table.relation())))
        except psycopg2.errors.DependentObjectsStillExist as exc:
            depending = (exc.diag.message_detail or str(exc)).replace("\n", "; ")
            raise WarehouseSchemaChangeBlockedError(
                f"refusing to write {table.qualified_name}: its stored columns differ from the contract "
                f"({_differences(have, wanted)}), so the full refresh must recreate the table, but other "
                f"objects depend on it ({depending}). Nothing was written: the previous version stays. Drop "
                "those objects (DROP VIEW ...), run again so the table is recreated, then recreate them"
            ) from exc
        return [create_table_sql(table)]

    def upsert(self, table_name: str, data: Source) -> int:
        """Insert ``data``, replacing existing rows with the same primary key."""
        table = TABLES[table_name]

        def delete_matching(incoming: str) -> list[str]:
            delete = exp.delete(
                table.relation(alias="t"),
                where=exp.and_(*(column_ref(k, "t").eq(column_ref(k, "i")) for k in table.primary_key)),
            )
            delete.set("using", [sql_table(incoming, alias="i")])
            return [create_table_sql(table), render(delete)]

        return self._write(table, data, before=delete_matching)

    def replace_where(
        self, table_name: str, data: Source, *, column: str, keys: Sequence[Any]
    ) -> int:
        """Replace every row whose ``column`` is in ``keys`` with ``data`` (rows of ``data``
        outside ``keys`` are inserted too)."""
        table = TABLES[table_name]
        key_view = next(_view_names)
        replaced_keys = exp.select(
            exp.cast(exp.column("key"), data_type(table.column(column).type))
        ).from_(sql_table(key_view))
        delete = exp.delete(table.relation(), where=column_ref(column).isin(query=replaced_keys))
        self._con.register(key_view, pa.table({"key": pa.array(list(keys))}))
        try:
            return self._write(
                table, data, before=lambda _: [create_table_sql(table), render(delete)]
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
        if isinstance(data, exp.Query):
            view = exp.Create(
                this=sql_table(incoming),
                kind="VIEW",
                expression=data,
                properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
            )
            con.execute(render(view))
        else:
            con.register(incoming, data)
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                for statement in before(incoming):
                    con.execute(statement)
                con.execute(render(exp.insert(_cast_select(table, incoming), table.relation())))
                for statement, parameters in after:
                    con.execute(statement, parameters)
                failed = audit(con) if audit is not None else []
                if failed:
                    raise WarehouseAuditError(
                        f"refusing to write {table.qualified_name}: the new version fails its checks "
                        f"({'; '.join(failed)}). Nothing was written: the previous version stays, "
                        "and so does the read copy"
                    )
                row_count = con.execute(render(exp.select(count_star()).from_(table.relation()))).fetchone()[0]
                self._record_load(table.qualified_name, row_count)
                con.execute("COMMIT")
                self._load_log_ready = True  # only once committed: a rollback undoes the DDL too
            except BaseException as exc:
                # A failed COMMIT has already ended the transaction: its ROLLBACK would raise
                # "no transaction is active" and hide the real cause.
                with contextlib.suppress(*SQL_ERRORS):
                    con.execute("ROLLBACK")
                if isinstance(exc, SQL_ERRORS):
                    self._raise_typed(exc, f"writing table {table.name}")
                raise
        finally:
            with contextlib.suppress(*SQL_ERRORS):
                if isinstance(data, exp.Query):
                    con.execute(render(drop("VIEW", sql_table(incoming))))
                else:
                    con.unregister(incoming)
        self.tables_written.append(table.qualified_name)
        return row_count

    def _raise_typed(self, exc: Exception, doing: str) -> None:
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
        warn_s, fail_s = self._policy_windows.get(table_name, (None, None))
        if not self._load_log_ready:
            self._con.execute(create_table_sql(TABLE_LOADS))
            # A warehouse written before the policy columns existed gains them here.
            add_missing_columns(self._con, TABLE_LOADS.relation(), TABLE_LOADS.columns)
        row = {
            "table_name": table_name, "loaded_at": loaded_at, "run_id": self._run_id,
            "row_count": row_count, "warn_after_seconds": warn_s, "fail_after_seconds": fail_s,
        }
        self._con.execute(
            insert_or_replace_sql(TABLE_LOADS.relation(), list(row), TABLE_LOADS.primary_key), list(row.values())
        )


def _postgres_type(type_text: str, dialect: str) -> str:
    """A column type (as ``dialect`` writes it) as PostgreSQL's SQL says it, to compare the
    contract's types with the server's (``VARCHAR`` and ``text`` are both ``TEXT``)."""
    try:
        return exp.DataType.build(type_text, dialect=dialect).sql("postgres")
    except (sqlglot.errors.ParseError, ValueError):
        return type_text  # a type of no contract: differs from every contract type


def _differences(have: list[tuple[str, str]], wanted: list[tuple[str, str]]) -> str:
    """How stored columns differ from the contract's, in words."""
    stored, contract = dict(have), dict(wanted)
    said = [f"{name} {stored[name]} -> {kind}" for name, kind in wanted if name in stored and stored[name] != kind]
    said += [f"{name} is new" for name in contract if name not in stored]
    said += [f"{name} is no longer in the contract" for name in stored if name not in contract]
    return "; ".join(said) or "the columns are in another order"
