"""Typed failures of writing the warehouse, each saying what happened and what to do.

Opening the file (a lock held elsewhere, a damaged or foreign file) fails with the semantic
layer's errors (:mod:`semantic.errors`), so readers and writers report those the same way.

>>> err = OSError(28, "No space left on device")
>>> is_disk_full(err)
True
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import duckdb
import psycopg2

# What a statement on either warehouse engine raises (DuckDB's or PostgreSQL's driver).
SQL_ERRORS: tuple[type[Exception], ...] = (duckdb.Error, psycopg2.Error)

# DuckDB reports failed writes as text; the OS errors behind them, by errno.
_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_DISK_FULL_TEXTS = ("No space left on device", "File too large", "Disk quota exceeded")


class WarehouseWriteError(Exception):
    """A write to the warehouse failed; the previous version of the table is intact."""


class WarehouseAuditError(WarehouseWriteError):
    """A new version of a table fails its blocking checks: it was rolled back, never committed."""


class WarehouseSchemaChangeBlockedError(WarehouseWriteError):
    """A full refresh must recreate a PostgreSQL table whose columns changed, but other objects
    (views) depend on it: nothing was written."""


class WarehouseTransactionAbortedError(WarehouseWriteError):
    """A statement failed inside a PostgreSQL write and its error was swallowed: the server
    answers COMMIT with a rollback, so nothing was written."""


class WarehouseLockTimeoutError(WarehouseWriteError):
    """A PostgreSQL write waited longer than its ``lock_timeout`` for a lock another session
    holds (often one left idle in a transaction): nothing was written."""


class WarehouseDiskFullError(WarehouseWriteError):
    """The disk (or the file-size limit) ran out while writing the warehouse or its read copy."""


def is_disk_full(exc: BaseException | None) -> bool:
    """True for an OSError or a DuckDB error caused by a full disk or a file-size limit."""
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
        return True
    return exc is not None and any(text in str(exc) for text in _DISK_FULL_TEXTS)


def _free_space(path: Path) -> str:
    try:
        free = shutil.disk_usage(path if path.is_dir() else path.parent).free
    except OSError:
        return "unknown"
    return f"{free / 1e6:,.1f} MB"


def disk_full_error(exc: BaseException, path: Path, doing: str) -> WarehouseDiskFullError:
    """The error for ``exc`` (a full disk) while ``doing`` something to the file at ``path``."""
    return WarehouseDiskFullError(
        f"{doing} failed: the disk is full or the file-size limit was reached ({exc}); "
        f"free space on the filesystem of {path.parent}: {_free_space(path)}. Nothing was "
        "lost: the warehouse keeps every committed write (a failed one is rolled back) and "
        "readers keep the last published copy. Free some space (or raise the limit), then "
        "run again."
    )
