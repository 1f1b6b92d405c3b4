"""Answers from a Spark session (pyspark, classic or Spark Connect): the tables of its current
database, read in UTC, each query interrupted when it outlives the timeout.

Spark's plain ``TIMESTAMP`` is an instant shown in the session's zone, so ``DATE_TRUNC`` and
the conversion to pandas follow ``spark.sql.session.timeZone``: every statement runs with the
zone set to UTC and the caller's value restored afterwards (the literals are ``TIMESTAMP_NTZ``,
:mod:`semantic.sql.portable`). The timeout tags the statement's jobs (``addTag``) and a watchdog
interrupts them (``interruptTag``). Spark holds no lock and has no read-only mode: the semantic
layer only reads.
"""

from __future__ import annotations

import contextlib
import threading
import uuid

import pandas as pd

from semantic.answer.engines import EngineConnection
from semantic.errors import QueryTimeoutError, SemanticError, WarehouseTableMissingError

ZONE_SETTING = "spark.sql.session.timeZone"
# Spark's error conditions for a name the catalog does not know.
MISSING_CONDITIONS = ("TABLE_OR_VIEW_NOT_FOUND", "UNRESOLVED_COLUMN", "SCHEMA_NOT_FOUND")


def _condition(error: Exception) -> str:
    get = getattr(error, "getCondition", None) or getattr(error, "getErrorClass", None)
    return (get() if callable(get) else None) or ""


class SparkConnection(EngineConnection):
    engine = "spark"

    def __init__(self, session):
        self.session = session
        self.where = f"Spark session {session.version} ({session.catalog.currentDatabase()})"

    @contextlib.contextmanager
    def _in_utc(self):
        conf = self.session.conf
        zone = conf.get(ZONE_SETTING)
        conf.set(ZONE_SETTING, "UTC")
        try:
            yield
        finally:
            conf.set(ZONE_SETTING, zone)

    def _run(self, sql: str, timeout_s: float | None) -> pd.DataFrame:
        tag = f"testio-semantic-{uuid.uuid4().hex}"
        done, interrupted = threading.Event(), threading.Event()

        def watch():
            if not done.wait(timeout_s):
                interrupted.set()
                while not done.is_set():  # a job started after one interrupt is interrupted too
                    self.session.interruptTag(tag)
                    done.wait(0.05)

        watchdog = threading.Thread(target=watch, name="semantic-spark-timeout", daemon=True) if timeout_s else None
        self.session.addTag(tag)
        try:
            if watchdog:
                watchdog.start()
            with self._in_utc():
                return self.session.sql(sql).toPandas()
        except Exception as e:  # noqa: BLE001 - pyspark's errors differ between classic and Connect
            if interrupted.is_set():
                raise QueryTimeoutError(f"the query ran longer than the {timeout_s:g} s timeout and its Spark jobs "
                                        f"were interrupted; narrow the date range, filter, or use fewer "
                                        f"dimensions") from None
            if _condition(e).startswith(MISSING_CONDITIONS):
                raise WarehouseTableMissingError(
                    f"the Spark session's database {self.session.catalog.currentDatabase()} lacks a table or column "
                    f"the model reads ({_condition(e)}: {str(e).splitlines()[0]}): load the warehouse's tables "
                    f"into it (the names and columns of the DuckDB warehouse)") from None
            raise SemanticError(f"Spark could not answer this query: {str(e).splitlines()[0]}") from None
        finally:
            done.set()
            if watchdog:
                watchdog.join()
            self.session.removeTag(tag)

    def query(self, sql: str, timeout_s: float) -> pd.DataFrame:
        return self._run(sql, timeout_s)

    def execute(self, sql: str):
        frame = self._run(sql, None)
        return _Frame(frame)

    def catalog_columns(self) -> list[tuple[str, str, str]]:
        catalog = self.session.catalog
        return [(t.name, c.name, c.dataType) for t in catalog.listTables()
                for c in catalog.listColumns(t.name)]


class _Frame:
    """A DB-API-like view of a small result (the load log)."""

    def __init__(self, frame: pd.DataFrame):
        self.description = [(c,) for c in frame.columns]
        self._rows = [tuple(None if pd.isna(v) else (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v)
                            for v in row) for row in frame.itertuples(index=False, name=None)]

    def fetchall(self):
        return self._rows
