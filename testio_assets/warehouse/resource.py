"""The warehouse as a Dagster resource: a local DuckDB file with a published read copy, or a
PostgreSQL database.

Which one: the resource's ``url`` (a server), else its ``database`` (a DuckDB file), else the
project's rule (:func:`semantic.project.warehouse_location`: ``TESTIO_WAREHOUSE_URL``, then
``TESTIO_WAREHOUSE_PATH``, then data/testio.duckdb).

**DuckDB.** DuckDB allows one writing process per file, and even a read-only handle in another process
blocks a writer. So connections here live only for the duration of a ``with`` block (never at
import time), a blocked connect is retried for a few seconds and then reported with the process
holding the lock, and after every successful write the file is checkpointed, audited, closed
and copied to ``<stem>.read.duckdb`` through a temporary file and an atomic ``os.replace``:
notebooks and the semantic layer read that copy and never hold a lock on the file the assets
write.

Write, audit, publish: the main file is where runs write; the copy is what readers get, and it
is replaced only when every blocking check over the written tables passes
(:func:`testio_assets.checks.audit`). Otherwise the copy stays as it was, so readers keep the
last good version, and its own ``_table_loads`` tells them how old that is.

**PostgreSQL.** Readers see the last committed version, so there is no read copy: the audit
runs inside the write instead. A writer block is one transaction (each table's write a
savepoint in it, see :mod:`testio_assets.warehouse.postgres`); before it commits, the blocking
checks of the tables it wrote run on the new version, and a failing one rolls everything back
(:class:`WarehouseAuditError`), so no reader ever sees it. Checks that another table owns
(``bugs.test_id`` in ``tests`` when ``tests`` was written) run when that table is written, as
in Dagster a blocking check stops its own asset's downstream. Many processes may write a
server at once, so the single-writer pool does not apply (:func:`writer_pool`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field
from sqlglot import exp

from semantic.answer.warehouse import connect, read_copy_path
from semantic.errors import SemanticError
from semantic.project import WarehouseLocation, redact_url, warehouse_location
from testio_assets.dead_runs import record_worker
from testio_assets.freshness import FreshnessWindows, policy_windows
from testio_assets.warehouse.errors import (
    SQL_ERRORS,
    WarehouseAuditError,
    disk_full_error,
    is_disk_full,
)
from testio_assets.warehouse.postgres import PostgresConnection, connect_postgres
from testio_assets.warehouse.sql import render
from testio_assets.warehouse.writer import PolicyWindows, WarehouseWriter


_LOGGER = logging.getLogger(__name__)

DUCKDB_WRITER_POOL = "duckdb_writer"


def writer_pool() -> str | None:
    """The pool of every step that opens the warehouse (assets and checks), by the warehouse
    of this code location's environment: ``duckdb_writer`` (one slot, dagster.yaml) for a DuckDB
    file, which has a single writer and whose readers in other processes block it; none for
    PostgreSQL, whose transactions let runs write side by side (a table's concurrent writes
    queue on its row and table locks, each commits whole).

    A location whose rule cannot be resolved keeps the pool (the safe side)."""
    try:
        engine = warehouse_location().engine
    except SemanticError:
        return DUCKDB_WRITER_POOL
    return None if engine == "postgres" else DUCKDB_WRITER_POOL


WRITER_POOL = writer_pool()


def _default_database() -> str:
    """The DuckDB file of the project's rule; empty when the rule names a server."""
    location = warehouse_location()
    return str(location.path) if location.path is not None else ""


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse the assets write: ``url`` (a PostgreSQL server), else the DuckDB file
    ``database``, else the project's rule (``TESTIO_WAREHOUSE_URL``, ``TESTIO_WAREHOUSE_PATH``,
    data/testio.duckdb: :mod:`semantic.project`)."""

    database: str = Field(
        default_factory=_default_database,
        description="Path of the DuckDB file the assets write (empty: the server of TESTIO_WAREHOUSE_URL).",
    )
    url: str | None = Field(
        default=None,
        description="A PostgreSQL warehouse, postgresql://user:password@host:5432/database. Give it as "
        "dg.EnvVar(...) so the password stays out of the configuration the UI shows; unset: "
        "TESTIO_WAREHOUSE_URL decides when database is empty.",
    )
    publish_read_copy: bool = Field(
        default=True,
        description="After each write, publish <stem>.read.duckdb for readers (atomic replace).",
    )
    connect_timeout_s: float = Field(
        default=10.0,
        description="DuckDB: how long to retry a connect blocked by another process before failing "
        "with the process that holds the lock. PostgreSQL: libpq's connect timeout (whole seconds, at least 1).",
    )
    lock_timeout_s: float = Field(
        default=30.0,
        description="PostgreSQL: how long a write waits for a lock another session holds (one left idle in a "
        "transaction, or a writer of the same table) before failing with the sessions holding locks; 0 waits "
        "without limit.",
    )
    freshness_windows: dict[str, list[float]] = Field(
        default_factory=lambda: _policy_seconds(policy_windows()),
        description="Per table, [warn, fail] seconds of its freshness policy, recorded in "
        "_table_loads with each write so readers without Dagster know it (default: the policy "
        "table of testio_assets.freshness, with TESTIO_FRESHNESS_POLICIES applied).",
    )

    @property
    def location(self) -> WarehouseLocation:
        """Where the warehouse is (a server's URL holds its password: show :meth:`describe`)."""
        if self.url:
            return warehouse_location(self.url)
        if self.database:
            return WarehouseLocation(Path(self.database), "the resource's database")
        return warehouse_location()

    @property
    def engine(self) -> str:
        """``duckdb`` or ``postgres``."""
        return self.location.engine

    def describe(self) -> str:
        """The file, or the server's URL without its password."""
        location = self.location
        return str(location.path) if location.path is not None else location.describe()

    @property
    def path(self) -> Path:
        """The DuckDB file (a typed error for a server)."""
        location = self.location
        if location.path is None:
            raise dg.Failure(description=f"the warehouse {location.describe()} is a server, not a DuckDB file")
        return location.path

    @property
    def read_copy(self) -> Path:
        return read_copy_path(self.path)

    @property
    def policy_windows(self) -> PolicyWindows:
        return {table: (warn, fail) for table, (warn, fail) in self.freshness_windows.items()}

    def exists(self) -> bool:
        return self._server_url() is not None or self.path.exists()

    def _server_url(self) -> str | None:
        """The PostgreSQL URL, or None for a DuckDB file (MotherDuck: a typed error)."""
        location = self.location
        if location.engine == "motherduck":
            raise dg.Failure(description=(
                f"the warehouse {location.describe()} is MotherDuck: the pipeline writes a local DuckDB file or a "
                "PostgreSQL server; set TESTIO_WAREHOUSE_URL to one of those"))
        return location.url

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Every step holding the writer pool's slot uses this resource: naming the run's worker
        # process here lets a later run tell a crashed run from a live one (dead_runs).
        if context.instance is not None:
            record_worker(context.instance, context.dagster_run)

    @contextmanager
    def writer(self, run_id: str | None = None) -> Iterator[WarehouseWriter]:
        """A writer on a fresh connection; on success the read copy is published (DuckDB), or
        the block's transaction commits after its audit (PostgreSQL)."""
        url = self._server_url()
        if url is not None:
            with self._postgres_writer(url, run_id) as writer:
                yield writer
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._connect(read_only=False)
        writer = WarehouseWriter(con, run_id, path=self.path, policy_windows=self.policy_windows)
        publishing = False
        try:
            yield writer
            # Fold the WAL into the file so the copy below is complete on its own.
            writer.checkpoint()
            publishing = self.publish_read_copy and bool(writer.tables_written)
            failed = self._audit(con, writer.tables_written) if publishing else []
        finally:
            con.close()
        if failed:
            self._log().warning(
                "read copy %s not published after writing %s: blocking checks fail (%s); "
                "readers keep the previous version until a write passes them",
                self.read_copy, ", ".join(writer.tables_written), "; ".join(failed),
            )
        elif publishing:
            self.publish()

    @contextmanager
    def _postgres_writer(self, url: str, run_id: str | None) -> Iterator[WarehouseWriter]:
        con = connect_postgres(url, timeout_s=self.connect_timeout_s, lock_timeout_s=self.lock_timeout_s)
        writer = WarehouseWriter(con, run_id, path=Path(redact_url(url)), policy_windows=self.policy_windows)
        try:
            con.execute("BEGIN TRANSACTION")
            yield writer
            con.raise_if_failed(f"writing {', '.join(writer.tables_written) or 'the warehouse'}")
            failed = self._audit_written(con, writer.tables_written)
            if failed:
                raise WarehouseAuditError(
                    f"refusing to commit {', '.join(writer.tables_written)}: the new version fails its blocking "
                    f"checks ({'; '.join(failed)}). Nothing was written: readers keep the previous version")
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(*SQL_ERRORS):
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    @staticmethod
    def _audit_written(con: PostgresConnection, written: list[str]) -> list[str]:
        from testio_assets.checks import audit

        return audit(con, of_tables=written) if written else []

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection | PostgresConnection]:
        """A short read-only connection to the main file or the server (for assets and checks of a run)."""
        url = self._server_url()
        if url is not None:
            con = connect_postgres(url, read_only=True, timeout_s=self.connect_timeout_s)
            try:
                yield con
            finally:
                con.close()
            return
        if not self.path.exists():
            raise dg.Failure(
                description=(
                    f"the warehouse {self.path} does not exist yet, so there is nothing upstream "
                    "to read: materialise every asset once (`make demo`, or Materialize all in "
                    "the UI), or check TESTIO_WAREHOUSE_PATH"
                )
            )
        con = self._connect(read_only=True)
        try:
            yield con
        finally:
            con.close()

    def _audit(self, con: duckdb.DuckDBPyConnection, written: list[str]) -> list[str]:
        # Imported at use: the checks module defines Dagster checks taking this resource.
        from testio_assets.checks import audit

        unpublished = self._unpublished_tables(con)
        return audit(con, None if unpublished is None else unpublished | set(written))

    def _unpublished_tables(self, con: duckdb.DuckDBPyConnection) -> set[str] | None:
        """Tables whose load differs from the published copy's (None: audit everything). The
        copy passed the audit when published, so checks reading none of these pass too."""
        if not self.read_copy.exists():
            return None
        attach = exp.Attach(
            this=exp.alias_(exp.Literal.string(str(self.read_copy)), "_published"),
            expressions=[exp.AttachOption(this=exp.var("READ_ONLY"))],
        )
        try:
            con.execute(render(attach))
        except duckdb.Error:
            return None  # a damaged copy: the next publication replaces it
        try:
            rows = con.execute(
                "SELECT m.table_name FROM _table_loads m "
                "LEFT JOIN _published._table_loads p USING (table_name) "
                "WHERE p.loaded_at IS DISTINCT FROM m.loaded_at"
            ).fetchall()
        except duckdb.Error:
            return None
        finally:
            con.execute("DETACH _published")
        return {table for (table,) in rows}

    def _log(self) -> logging.Logger:
        """The run's logger inside Dagster (messages land in the run's events), else Python's."""
        try:
            return self.get_resource_context().log or _LOGGER
        except Exception:  # noqa: BLE001 - used outside a run (tests, scripts)
            return _LOGGER

    def publish(self) -> Path:
        """Copy the (closed, checkpointed) main file onto the read copy atomically; on failure
        no partial file is left and the previous copy stays."""
        target = self.read_copy
        staging = target.with_name(target.name + ".tmp")
        try:
            shutil.copyfile(self.path, staging)
            os.replace(staging, target)
        except BaseException as exc:
            staging.unlink(missing_ok=True)
            if is_disk_full(exc):
                raise disk_full_error(exc, target, f"publishing the read copy {target}") from exc
            raise
        return target

    def _connect(self, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        return connect(
            self.path,
            read_only=read_only,
            retry_for_s=self.connect_timeout_s,
            lock_advice=(
                "the pipeline needs the file to itself while it writes. Close that connection "
                f"(a notebook or SQL tool should open the read copy {self.read_copy} instead, "
                "as query_metrics does) or let that run finish, then run again"
            ),
            corrupt_advice=self._corrupt_advice,
        )

    def _corrupt_advice(self, path: Path) -> str:
        rebuild = (
            f"rebuild it from the API: move it aside (mv {path} {path}.damaged) and run "
            "`make demo` (every asset refreshes fully when its table is missing)"
        )
        if not self.read_copy.exists():
            return rebuild
        return (
            f"restore the last published copy, which holds everything readers last saw "
            f"(cp {self.read_copy} {path}), or {rebuild}"
        )


def _policy_seconds(windows: Mapping[str, FreshnessWindows]) -> dict[str, list[float]]:
    return {
        table: [w.warn.total_seconds(), w.fail.total_seconds()] for table, w in windows.items()
    }
