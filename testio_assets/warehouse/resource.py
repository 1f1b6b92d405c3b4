"""The warehouse as a Dagster resource: short connections and a published read copy.

DuckDB allows one writing process per file, and even a read-only handle in another process
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
"""

from __future__ import annotations

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
from testio_assets import settings
from testio_assets.dead_runs import record_worker
from testio_assets.freshness import FreshnessWindows, policy_windows
from testio_assets.warehouse.errors import disk_full_error, is_disk_full
from testio_assets.warehouse.sql import render
from testio_assets.warehouse.writer import PolicyWindows, WarehouseWriter


_LOGGER = logging.getLogger(__name__)

# The pool of every step that opens the warehouse (assets and checks): one slot (dagster.yaml),
# as DuckDB has a single writer per file and a reader in another process blocks it too.
WRITER_POOL = "duckdb_writer"


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file (``TESTIO_WAREHOUSE_PATH``, else the project folder's
    data/testio.duckdb: :mod:`semantic.project`)."""

    database: str = Field(
        default_factory=lambda: str(settings.warehouse_path()),
        description="Path of the DuckDB file the assets write.",
    )
    publish_read_copy: bool = Field(
        default=True,
        description="After each write, publish <stem>.read.duckdb for readers (atomic replace).",
    )
    connect_timeout_s: float = Field(
        default=10.0,
        description="How long to retry a connect blocked by another process before failing "
        "with the process that holds the lock.",
    )
    freshness_windows: dict[str, list[float]] = Field(
        default_factory=lambda: _policy_seconds(policy_windows()),
        description="Per table, [warn, fail] seconds of its freshness policy, recorded in "
        "_table_loads with each write so readers without Dagster know it (default: the policy "
        "table of testio_assets.freshness, with TESTIO_FRESHNESS_POLICIES applied).",
    )

    @property
    def path(self) -> Path:
        return Path(self.database)

    @property
    def read_copy(self) -> Path:
        return read_copy_path(self.path)

    @property
    def policy_windows(self) -> PolicyWindows:
        return {table: (warn, fail) for table, (warn, fail) in self.freshness_windows.items()}

    def exists(self) -> bool:
        return self.path.exists()

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Every step holding the writer pool's slot uses this resource: naming the run's worker
        # process here lets a later run tell a crashed run from a live one (dead_runs).
        if context.instance is not None:
            record_worker(context.instance, context.dagster_run)

    @contextmanager
    def writer(self, run_id: str | None = None) -> Iterator[WarehouseWriter]:
        """A writer on a fresh connection; on success the read copy is published."""
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
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short read-only connection to the main file (for assets and checks of a run)."""
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
