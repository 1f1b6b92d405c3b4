"""Open the warehouse for one query, read-only, never holding a connection between queries.

Given a path: a published read copy beside it (``<stem>.read<suffix>``) is preferred whenever
it exists (the ingestion assets replace it atomically after every write, and during a write the
main file is newer but locked, so the copy is exactly what a reader wants); otherwise the main
file is opened ``read_only=True``. Whoever writes the main file by other means should delete
the copy.
A lock held by a writer is retried with short backoff for ~5 s, then reported as
:class:`WarehouseUnavailableError`. Given a DuckDB connection: it is used as is.

>>> import duckdb
>>> con = duckdb.connect()
>>> with open_warehouse(con) as c:
...     c is con
True
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import duckdb

from semantic.errors import InvalidArgumentError, WarehouseUnavailableError

DEFAULT_PATH = "data/testio.duckdb"


def warehouse_path(warehouse=None) -> Path:
    """The path to read: the argument, else ``TESTIO_WAREHOUSE_PATH``, else data/testio.duckdb."""
    return Path(warehouse or os.environ.get("TESTIO_WAREHOUSE_PATH") or DEFAULT_PATH)


def read_copy_path(path: Path) -> Path:
    """``data/testio.duckdb`` -> ``data/testio.read.duckdb``."""
    return path.with_name(f"{path.stem}.read{path.suffix}")


def _pick(path: Path) -> Path:
    copy = read_copy_path(path)
    return copy if copy.exists() else path


@contextlib.contextmanager
def open_warehouse(warehouse=None, *, retry_for_s: float = 5.0):
    """Yield a connection for one query; close it afterwards unless it was given."""
    if isinstance(warehouse, duckdb.DuckDBPyConnection):
        yield warehouse
        return
    if warehouse is not None and not isinstance(warehouse, (str, os.PathLike)):
        raise InvalidArgumentError("warehouse", f"warehouse must be the path of a DuckDB file, a duckdb connection, "
                                                f"or None for $TESTIO_WAREHOUSE_PATH; not {type(warehouse).__name__} "
                                                f"{warehouse!r:.60}")
    path = warehouse_path(warehouse)
    try:
        exists = path.exists()
    except (OSError, ValueError) as e:  # a NUL in the name, a name too long
        raise WarehouseUnavailableError(f"the warehouse path {str(path)!r:.80} cannot be used: {e}") from None
    if not exists:
        raise WarehouseUnavailableError(
            f"no warehouse at {path}: run `make demo` to build it, or set TESTIO_WAREHOUSE_PATH "
            f"(or pass warehouse=) to an existing DuckDB file")
    deadline = time.monotonic() + retry_for_s
    delay = 0.02
    while True:
        target = _pick(path)
        try:
            con = duckdb.connect(str(target), read_only=True)
            break
        except (duckdb.IOException, duckdb.ConnectionException) as e:
            if time.monotonic() >= deadline:
                raise WarehouseUnavailableError(
                    f"the warehouse {target} is busy being written by another process ({e}); "
                    f"retry in a moment, or run `make demo` once the run finishes") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
    try:
        yield con
    finally:
        con.close()
