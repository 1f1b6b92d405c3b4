"""The warehouse as a Dagster resource: short connections and a published read copy.

DuckDB allows one writing process per file, and even a read-only handle in another process
blocks a writer. So connections here live only for the duration of a ``with`` block (never at
import time), a blocked connect is retried for a bounded time, and after every successful
write the file is checkpointed, closed and copied to ``<stem>.read.duckdb`` through a
temporary file and an atomic ``os.replace``: notebooks and the semantic layer read that copy
and never hold a lock on the file the assets write.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from semantic.answer.warehouse import read_copy_path
from testio_assets import settings
from testio_assets.warehouse.writer import WarehouseWriter


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    return "lock" in str(exc).lower()


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file (``TESTIO_WAREHOUSE_PATH``, default data/testio.duckdb)."""

    database: str = Field(
        default_factory=lambda: str(settings.warehouse_path()),
        description="Path of the DuckDB file the assets write.",
    )
    publish_read_copy: bool = Field(
        default=True,
        description="After each write, publish <stem>.read.duckdb for readers (atomic replace).",
    )
    connect_timeout_s: float = Field(
        default=100.0, description="How long to retry a connect blocked by another process."
    )

    @property
    def path(self) -> Path:
        return Path(self.database)

    @property
    def read_copy(self) -> Path:
        return read_copy_path(self.path)

    def exists(self) -> bool:
        return self.path.exists()

    @contextmanager
    def writer(self, run_id: str | None = None) -> Iterator[WarehouseWriter]:
        """A writer on a fresh connection; on success the read copy is published."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._connect(read_only=False)
        writer = WarehouseWriter(con, run_id)
        try:
            yield writer
            # Fold the WAL into the file so the copy below is complete on its own.
            con.execute("CHECKPOINT")
        finally:
            con.close()
        if self.publish_read_copy and writer.tables_written:
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

    def publish(self) -> Path:
        """Copy the (closed, checkpointed) main file onto the read copy atomically."""
        target = self.read_copy
        staging = target.with_name(target.name + ".tmp")
        shutil.copyfile(self.path, staging)
        os.replace(staging, target)
        return target

    def _connect(self, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.connect_timeout_s
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.Error as exc:
                if not _is_lock_conflict(exc) or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
