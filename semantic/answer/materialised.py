"""Saved queries materialised in the warehouse: where their answers are stored and how to read one.

A pipeline that materialises saved query ``NAME`` stores its answer as the table
``metrics.NAME`` (the answer's columns, in its order) and, in the same transaction, one row of
``metrics._saved_query_loads`` (:data:`LOG_COLUMNS`) saying which day its dates were resolved
on, the range they became, the SQL and when it was written. The semantic layer defines this
layout; the writer (``testio_assets``) follows it.

>>> import duckdb
>>> con = duckdb.connect()
>>> read_materialised(con, "bugs_per_test_by_month")
Traceback (most recent call last):
...
semantic.answer.materialised.NotMaterialisedError: saved query bugs_per_test_by_month has not been materialised in this warehouse (no table metrics.bugs_per_test_by_month): materialise the asset metrics/bugs_per_test_by_month (`make demo`, or Materialize in the Dagster UI), or answer it now with query_metrics(saved_query='bugs_per_test_by_month') (`testio-semantic export bugs_per_test_by_month --fresh ...`)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlglot import exp

from semantic.answer.engines import as_engine
from semantic.config import Guardrails
from semantic.errors import WarehouseUnavailableError

SCHEMA = "metrics"
LOG_TABLE = "_saved_query_loads"
# (name, DuckDB type, description) of each column of metrics._saved_query_loads.
LOG_COLUMNS = (
    ("saved_query", "VARCHAR", "Name of the saved query; its answer is the table metrics.<saved_query>."),
    ("as_of", "DATE", "The UTC day its dates were resolved on (the clock of the materialisation)."),
    ("date_start", "TIMESTAMP", "Start of the resolved date range, inclusive, UTC (null: open)."),
    ("date_end", "TIMESTAMP", "End of the resolved date range, exclusive, UTC (null: open)."),
    ("dates", "VARCHAR", "The dates as written and the range they became, in words."),
    ("row_count", "BIGINT", "Rows of the answer."),
    ("sql", "VARCHAR", "The SQL that computed the answer, in the warehouse engine's dialect."),
    ("inputs_loaded_at", "JSON", "When each warehouse table the SQL reads had last been written (_table_loads)."),
    ("loaded_at", "TIMESTAMP", "When the answer was written, UTC."),
    ("run_id", "VARCHAR", "Run that wrote it (null outside a pipeline)."),
)


class NotMaterialisedError(WarehouseUnavailableError):
    """A saved query's answer is not (yet) stored in the warehouse."""


def table_of(name: str) -> str:
    """``metrics.<name>``, the table holding a saved query's materialised answer."""
    return f"{SCHEMA}.{name}"


@dataclass(frozen=True)
class MaterialisedAnswer:
    """A stored answer and what its load log says about it."""

    name: str
    df: pd.DataFrame
    as_of: date
    date_start: datetime | None
    date_end: datetime | None
    dates: str
    loaded_at: datetime
    sql: str


def _table(name: str) -> exp.Table:
    return exp.table_(exp.to_identifier(name, quoted=True), db=exp.to_identifier(SCHEMA, quoted=True))


def is_materialised(con, name: str) -> bool:
    """Whether ``metrics.<name>`` and the load log exist (``con``: DuckDB, or any engine's)."""
    engine = as_engine(con)
    query = exp.select(exp.Count(this=exp.Star())).from_("information_schema.tables").where(
        exp.column("table_schema").eq(exp.Literal.string(SCHEMA)),
        exp.column("table_name").isin(exp.Literal.string(name), exp.Literal.string(LOG_TABLE)))
    if engine.engine == "spark":
        return False  # the pipeline writes no metric tables to Spark (which has no information_schema)
    # Any failure here (a timeout, a refused permission) is the engine's typed error, not "not materialised".
    return engine.execute(query.sql(dialect=engine.dialect)).fetchall()[0][0] == 2


def read_materialised(con, name: str) -> MaterialisedAnswer:
    """The stored answer of saved query ``name``, in its stored order (``con``: DuckDB, or any
    engine's, :mod:`semantic.answer.engines`)."""
    engine = as_engine(con)
    log = None
    if is_materialised(engine, name):
        query = exp.select("as_of", "date_start", "date_end", "dates", "loaded_at", "sql").from_(
            _table(LOG_TABLE)).where(exp.column("saved_query").eq(exp.Literal.string(name)))
        rows = engine.execute(query.sql(dialect=engine.dialect)).fetchall()
        log = rows[0] if rows else None
    if log is None:
        raise NotMaterialisedError(
            f"saved query {name} has not been materialised in this warehouse (no table {table_of(name)}): "
            f"materialise the asset metrics/{name} (`make demo`, or Materialize in the Dagster UI), or answer "
            f"it now with query_metrics(saved_query={name!r}) (`testio-semantic export {name} --fresh ...`)")
    df = engine.query(exp.select("*").from_(_table(name)).sql(dialect=engine.dialect),
                      Guardrails.from_env().query_timeout_s)
    return MaterialisedAnswer(name, df, *log)
