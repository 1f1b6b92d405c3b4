"""Open the warehouse for one query, read-only, never holding a connection between queries.

Which file: :func:`semantic.project.warehouse_location` (the one rule every surface follows).
Given a path: a published read copy beside it (``<stem>.read<suffix>``) is preferred whenever
it exists (the ingestion assets replace it atomically after every audited write, and during a
write the main file is newer but locked, so the copy is exactly what a reader wants); otherwise
the main file is opened ``read_only=True``. Whoever writes the main file by other means should
delete the copy.
A lock held by a writer is retried with short backoff for ~5 s, then reported as
:class:`WarehouseLockedError`; a damaged or foreign file as :class:`WarehouseCorruptError`; a
missing one as :class:`WarehouseNotFoundError`. Given a DuckDB connection: it is used as is.

:func:`connect` is the one connect-with-retry of the project: the pipeline's writer uses it too,
so readers and writers recognise a lock, a damaged file and a missing file the same way.

>>> import duckdb
>>> con = duckdb.connect()
>>> with open_warehouse(con) as c:
...     c is con
True
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from semantic.errors import (
    InvalidArgumentError,
    WarehouseCorruptError,
    WarehouseLockedError,
    WarehouseNotFoundError,
    WarehouseUnavailableError,
)
from semantic.project import WarehouseLocation, warehouse_location

# DuckDB's texts (2.x) for a lock held elsewhere and for a file it cannot read as a database.
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
_LOCK_MARKERS = ("Could not set lock on file", "Conflicting lock is held")
_CORRUPT_MARKERS = (
    "not a valid DuckDB database file",
    "Could not read enough bytes",
    "Corrupt database file",
    "does not match stored checksum",
    "database file with version number",
    "created with an older",
    "created with a newer",
)
_MISSING_MARKER = "database does not exist"


def warehouse_path(warehouse=None) -> Path:
    """The path to read: the argument, else ``TESTIO_WAREHOUSE_PATH``, else the project's
    data/testio.duckdb (:func:`semantic.project.warehouse_location`)."""
    return duckdb_file(warehouse_location(warehouse))


def duckdb_file(location: WarehouseLocation) -> Path:
    """The DuckDB file of ``location``; a typed error when the location is a server."""
    if location.path is None:
        raise WarehouseUnavailableError(
            f"the warehouse {location.describe()} is a {location.engine} server, and this reads DuckDB files: "
            f"set TESTIO_WAREHOUSE_PATH (or pass a DuckDB path) instead")
    return location.path


def missing_warehouse_message(location: WarehouseLocation) -> str:
    """What to do when the rule's file is not there, saying which part of the rule chose it."""
    return (f"no warehouse at {location.path} ({location.found_by}): run `make demo` to build it, or set "
            f"TESTIO_WAREHOUSE_PATH (or pass warehouse=) to an existing DuckDB file")


def read_copy_path(path: Path) -> Path:
    """``data/testio.duckdb`` -> ``data/testio.read.duckdb``."""
    return path.with_name(f"{path.stem}.read{path.suffix}")


def is_corruption(exc: BaseException | None) -> bool:
    """True when ``exc`` is DuckDB saying a file is not a (readable) database of its own."""
    return isinstance(exc, duckdb.Error) and any(m in str(exc) for m in _CORRUPT_MARKERS)


def lock_holder(exc: BaseException) -> tuple[int | None, str | None]:
    """(PID, description) of the process DuckDB names as holding the lock, when it names one.

    The description adds the process's command line where the system shows it (Linux), so a
    person sees "python -m testio_assets.demo" rather than only the interpreter's path.
    """
    match = _LOCK_HOLDER.search(str(exc))
    if not match:
        return None, None
    pid = int(match.group("pid"))
    if pid == os.getpid():
        return pid, "this very process (another connection it opened is still open)"
    command = match.group("program")
    with contextlib.suppress(OSError):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        command = " ".join(a.decode(errors="replace") for a in argv if a) or command
    return pid, f"PID {pid}: {command}"


def _is_lock(exc: duckdb.Error) -> bool:
    return any(m in str(exc) for m in _LOCK_MARKERS)


def _no_progress_bar(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB draws a progress bar on stdout for queries over 2 s, even into a pipe (~10 KB of
    bars inside `--output csv > file`). It is a global option, not settable in connect's config;
    under Jupyter without ipywidgets DuckDB starts with it off and refuses any change to it."""
    # fetchall: DuckDB 2 refuses other work on a connection with an unfinished result.
    if con.execute("SELECT current_setting('enable_progress_bar')").fetchall()[0][0]:
        con.execute("SET enable_progress_bar = false").fetchall()


def connect(
    target: Path | Callable[[], Path],
    *,
    read_only: bool,
    retry_for_s: float,
    lock_advice: str,
    corrupt_advice: Callable[[Path], str],
) -> duckdb.DuckDBPyConnection:
    """Open ``target`` (or the path ``target()`` picks, re-picked on every attempt), retrying
    only while another process holds the lock, with backoff, for ``retry_for_s`` seconds.

    The connection draws no progress bar (readers' stdout is their answer).
    Raises :class:`WarehouseLockedError` (naming the holder and ``lock_advice``),
    :class:`WarehouseCorruptError` (with ``corrupt_advice(path)``),
    :class:`WarehouseNotFoundError`, or :class:`WarehouseUnavailableError` for anything else
    DuckDB refuses; the DuckDB error is chained as the cause.
    """
    pick = target if callable(target) else (lambda: target)
    deadline = time.monotonic() + retry_for_s
    delay = 0.02
    while True:
        path = pick()
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            if is_corruption(exc):
                raise WarehouseCorruptError(
                    f"{path} is not a readable DuckDB database ({exc}); {corrupt_advice(path)}"
                ) from exc
            if _MISSING_MARKER in str(exc):
                raise WarehouseNotFoundError(f"no warehouse at {path}: run `make demo` to build it") from exc
            if not _is_lock(exc):
                raise WarehouseUnavailableError(f"cannot open {path}: {exc}") from exc
            if time.monotonic() + delay > deadline:
                pid, holder = lock_holder(exc)
                held_by = holder or "another process"
                raise WarehouseLockedError(
                    f"{path} is busy: {held_by} holds its lock (waited {retry_for_s:g} s); "
                    f"{lock_advice}",
                    holder_pid=pid,
                    holder=holder,
                ) from exc
        else:
            _no_progress_bar(con)
            return con
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def _pick(path: Path) -> Path:
    copy = read_copy_path(path)
    return copy if copy.exists() else path


def _reader_corrupt_advice(main: Path) -> Callable[[Path], str]:
    def advice(path: Path) -> str:
        if path != main:
            return (
                f"delete it (readers then read {main} until the next run publishes a new copy), "
                "or run `make demo` to publish a fresh one"
            )
        return (
            f"rebuild it with `make demo` after moving it aside (mv {path} {path}.damaged), "
            "or point TESTIO_WAREHOUSE_PATH (or warehouse=) at a good DuckDB file"
        )

    return advice


@contextlib.contextmanager
def open_warehouse(warehouse=None, *, retry_for_s: float = 5.0):
    """Yield a connection for one query; close it afterwards unless it was given."""
    if isinstance(warehouse, duckdb.DuckDBPyConnection):
        yield warehouse
        return
    if warehouse is not None and not isinstance(warehouse, (str, os.PathLike)):
        raise InvalidArgumentError("warehouse", f"warehouse must be the path of a DuckDB file, a duckdb connection, "
                                                f"or None for $TESTIO_WAREHOUSE_PATH or the project's data/; not {type(warehouse).__name__} "
                                                f"{warehouse!r:.60}")
    location = warehouse_location(warehouse)
    path = duckdb_file(location)
    try:
        exists = path.exists() or read_copy_path(path).exists()
    except (OSError, ValueError) as e:  # a NUL in the name, a name too long
        raise WarehouseUnavailableError(f"the warehouse path {str(path)!r:.80} cannot be used: {e}") from None
    if not exists:
        raise WarehouseNotFoundError(missing_warehouse_message(location))
    con = connect(
        lambda: _pick(path),
        read_only=True,
        retry_for_s=retry_for_s,
        lock_advice="a run is writing it and no read copy has been published yet: retry in a "
        "moment, or once the run finishes",
        corrupt_advice=_reader_corrupt_advice(path),
    )
    try:
        yield con
    except WarehouseUnavailableError:
        raise
    except Exception as exc:
        # A damaged block shows only when a query reads it; whoever ran the query may already
        # have wrapped DuckDB's error, so look at what it chained too.
        cause = exc if isinstance(exc, duckdb.Error) else (exc.__cause__ or exc.__context__)
        if is_corruption(cause):
            target = _pick(path)
            raise WarehouseCorruptError(
                f"{target} is damaged ({cause}); {_reader_corrupt_advice(path)(target)}"
            ) from cause
        raise
    finally:
        con.close()
