"""Checking a raw JSON body's envelope with DuckDB's JSON parser, without decoding it in Python.

Large list responses (bug batches) are handed to the caller as text so they can be decoded
set-based later; this check makes sure each one is the documented envelope before it is
accepted, so a truncated or foreign body is retried like any malformed one. DuckDB releases
the GIL while it parses, so the check runs in a worker thread without stalling the event loop.

>>> envelope_problem('{"bugs": [{"id": 1}]}', "bugs") is None
True
>>> envelope_problem('{"bugs": [', "bugs")
'not JSON'
>>> envelope_problem('{"data": null}', "bugs")
"missing key 'bugs'"
"""

from __future__ import annotations

import atexit
import threading

import duckdb

# One parse in the common case (a valid envelope); json_type fails on a body that is not JSON.
_IS_LIST_SQL = "SELECT json_type($body, $path) = 'ARRAY'"
_WHY_NOT_SQL = """
SELECT CASE
    WHEN json_type($body) <> 'OBJECT' THEN 'expected a JSON object, got ' || lower(json_type($body))
    WHEN json_type($body, $path) IS NULL THEN 'missing key ''' || $key || ''''
    ELSE '''' || $key || ''' should hold a list, got ' || lower(json_type($body, $path))
END
"""

_database_lock = threading.Lock()
_database: duckdb.DuckDBPyConnection | None = None
_local = threading.local()


@atexit.register
def _close_database() -> None:
    # Closed before interpreter teardown, where DuckDB's bindings report live objects as leaks.
    global _database
    if _database is not None:
        _database.close()
        _database = None


def _cursor() -> duckdb.DuckDBPyConnection:
    """This thread's cursor on one shared in-memory database (a cursor is not thread-safe)."""
    global _database
    cursor = getattr(_local, "cursor", None)
    if cursor is None:
        with _database_lock:
            if _database is None:
                _database = duckdb.connect(":memory:", config={"threads": 1})
            cursor = _local.cursor = _database.cursor()
    return cursor


def envelope_problem(body: str, envelope: str) -> str | None:
    """Why ``body`` is not a JSON object whose ``envelope`` key holds a list, or None.

    Items are not inspected here: whoever decodes the list checks each item (e.g. its id).
    """
    cursor = _cursor()
    path = f'$."{envelope}"'
    try:
        if cursor.execute(_IS_LIST_SQL, {"body": body, "path": path}).fetchone()[0]:
            return None
    except duckdb.InvalidInputException:
        return "not JSON"
    return cursor.execute(_WHY_NOT_SQL, {"body": body, "path": path, "key": envelope}).fetchone()[0]
