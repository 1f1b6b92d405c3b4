"""Run compiled SQL on a DuckDB connection, interrupted when it takes longer than the timeout.

>>> import duckdb
>>> execute(duckdb.connect(), "SELECT 42 AS answer", timeout_s=5.0).to_dict("records")
[{'answer': 42}]
"""

from __future__ import annotations

import threading

import duckdb
import pandas as pd

from semantic.errors import QueryTimeoutError, SemanticError, WarehouseTableMissingError

# DuckDB drops an interrupt that arrives before the query starts, so the watchdog repeats it.
INTERRUPT_EVERY_S = 0.01


def _watch(con, timeout_s: float, done: threading.Event) -> None:
    """From the deadline on, interrupt the connection until the query has returned."""
    if done.wait(timeout_s):
        return
    while True:
        con.interrupt()
        if done.wait(INTERRUPT_EVERY_S):
            return


def execute(con, sql: str, timeout_s: float) -> pd.DataFrame:
    """Run one query to a DataFrame, interrupted after ``timeout_s``; DuckDB errors become typed ones."""
    done = threading.Event()
    watchdog = threading.Thread(target=_watch, args=(con, timeout_s, done), name="semantic-query-timeout", daemon=True)
    watchdog.start()
    try:
        return con.execute(sql).df()
    except duckdb.InterruptException:
        raise QueryTimeoutError(f"the query ran longer than the {timeout_s:g} s timeout and was interrupted; "
                                f"narrow the date range, filter, or use fewer dimensions") from None
    except duckdb.CatalogException as e:
        raise WarehouseTableMissingError(f"the warehouse lacks a table or column the model needs ({e}); "
                                         f"run `make demo` to (re)build it") from None
    except duckdb.Error as e:
        raise SemanticError(f"the warehouse could not answer this query: {e}") from None
    finally:
        done.set()
        watchdog.join()  # no late interrupt may reach the connection's next statement
