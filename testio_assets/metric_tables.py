"""What the definitions know of each saved query's table: its warehouse contract, column schema,
the tables its SQL reads, which of its metrics are shares or add up over its groups, and how
it is answered when materialised (the configured guardrails without the interactive row cap).

>>> from semantic.model.loader import load_model
>>> m = load_model()
>>> table = metric_table(m, m.saved_queries["bugs_per_test_by_month"])
>>> table.table.qualified_name, table.reads, table.shares, table.additive
('metrics.bugs_per_test_by_month', ('bugs', 'tests'), (), ('bug_count', 'test_count'))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import dagster as dg
import duckdb

from semantic.answer.materialised import SCHEMA
from semantic.answer.result import MetricResult
from semantic.config import Guardrails
from semantic.model.spec import Model, SavedQuery
from semantic.plan.invariants import additive_metrics, share_metrics
from semantic.plan.saved_queries import resolve_saved_query
from semantic.sql.columns import answer_columns, tables_read
from semantic.sql.compiler import compile_saved_query
from semantic.surfaces.query import query_metrics
from testio_assets.warehouse.schema import Column, Table

GROUP = "metrics"
# A materialised answer is never cut at the interactive row limit; past this it fails instead.
MATERIALISED_ROW_LIMIT = 1_000_000


@dataclass(frozen=True)
class MetricTable:
    """What the definitions know of one saved query's asset: its table, its columns, the tables
    its SQL reads, and which of its metrics are shares or add up over its groups."""

    saved_query: SavedQuery
    table: Table
    column_schema: dg.TableSchema
    reads: tuple[str, ...]
    shares: tuple[str, ...]
    additive: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.saved_query.name

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey([GROUP, self.name])

    @property
    def checks_sums(self) -> bool:
        """Whether the groups of its additive metrics must add up: it is grouped and not cut by a limit."""
        return bool(self.additive and self.saved_query.group_by and self.saved_query.limit is None)


def guardrails(saved_query: SavedQuery) -> Guardrails:
    """The configured guardrails, without the interactive row cap (a table holds the whole answer)."""
    configured = Guardrails.from_env()
    return replace(configured, max_dimensions=max(configured.max_dimensions, len(saved_query.group_by)),
                   default_row_limit=MATERIALISED_ROW_LIMIT, max_row_limit=MATERIALISED_ROW_LIMIT)


def semantic_warehouse(con):
    """What the semantic layer reads through for a warehouse connection of the assets: on
    PostgreSQL the writer's own psycopg2 session (so an answer reads the write's uncommitted
    version inside its transaction), a DuckDB connection as it is."""
    return getattr(con, "raw", con)


def answer(model: Model, saved_query: SavedQuery, con: duckdb.DuckDBPyConnection, today: date) -> MetricResult:
    """The saved query answered on ``today`` from ``con``, as its asset materialises it."""
    return query_metrics(saved_query=saved_query.name, warehouse=semantic_warehouse(con), today=today, model=model,
                         config=guardrails(saved_query))


def metric_table(model: Model, saved_query: SavedQuery, today: date | None = None) -> MetricTable:
    """Compile the saved query (dates resolved on ``today``; the tables read do not depend on
    the day) and describe its asset."""
    request = resolve_saved_query(model, saved_query, today)
    compiled = compile_saved_query(model, request, config=guardrails(saved_query))
    columns = answer_columns(model, compiled.plan)
    table = Table(
        name=saved_query.name, schema=SCHEMA, description=saved_query.description, primary_key=(),
        columns=tuple(Column(c.name, c.type, c.description) for c in columns),
    )
    schema = dg.TableSchema(columns=[
        dg.TableColumn(c.name, c.type, description=c.description, tags={"role": c.role.replace(" ", "_")})
        for c in columns])
    return MetricTable(saved_query, table, schema, tables_read(compiled.tree),
                       share_metrics(model, compiled.plan.metrics), additive_metrics(model, compiled.plan))


def input_loads(con: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> dict[str, str | None]:
    """When each table was last written (``_table_loads``), as ISO text (None: never): the
    version of the warehouse an answer over them was computed from."""
    rows = dict(con.execute("SELECT table_name, loaded_at FROM _table_loads WHERE table_name IN (SELECT UNNEST(?))",
                            [list(tables)]).fetchall())
    return {t: rows[t].isoformat() if rows.get(t) else None for t in tables}
