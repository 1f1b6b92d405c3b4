"""The metric tables (saved queries) in a real PostgreSQL: schema ``metrics``, each table and its
load log written by the warehouse writer in one transaction, equal to the DuckDB ones; the
whole graph materialised into Postgres waits for query_metrics there (branch engines)."""

from __future__ import annotations

from datetime import date

import dagster as dg
import duckdb
import psycopg2
import psycopg2.extras
import pytest

from semantic.model.loader import load_model
from testio_assets.definitions import build_definitions
from testio_assets.metric_tables import metric_table
from testio_assets.simulator import Simulator, SimulatorConfig
from testio_assets.simulator.resource import SimulatorApiResource
from testio_assets.warehouse.resource import WarehouseResource
from testio_assets.warehouse.schema import SAVED_QUERY_LOADS, create_table_sql
from testio_assets.warehouse.sql import insert_or_replace_sql

pytestmark = pytest.mark.slow  # a real PostgreSQL server

AS_OF = date(2026, 11, 1)
MODEL = load_model()
NAMES = sorted(MODEL.saved_queries)
LOG_COLUMNS = SAVED_QUERY_LOADS.column_names


def _materialise(warehouse: WarehouseResource) -> dg.ExecuteInProcessResult:
    defs = build_definitions(
        api=SimulatorApiResource.serving(Simulator(SimulatorConfig.preset("tiny", seed=7))), warehouse=warehouse)
    config = {"ops": {dg.AssetKey(["metrics", n]).to_python_identifier(): {"config": {"as_of": AS_OF.isoformat()}}
                      for n in NAMES}}
    return defs.resolve_implicit_global_asset_job_def().execute_in_process(
        run_config=config, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


@pytest.fixture(scope="module")
def on_duckdb(tmp_path_factory):
    database = tmp_path_factory.mktemp("metrics_duckdb") / "testio.duckdb"
    assert _materialise(WarehouseResource(database=str(database))).success
    with duckdb.connect(str(database), read_only=True) as con:
        tables = {name: con.sql(f'SELECT * FROM metrics."{name}"').to_arrow_table() for name in NAMES}
        logs = {row[0]: row for row in con.execute(
            f"SELECT {', '.join(LOG_COLUMNS)} FROM metrics._saved_query_loads").fetchall()}
    return tables, logs


def _postgres_metrics(url: str) -> tuple[dict, dict]:
    with psycopg2.connect(url, options="-c TimeZone=UTC") as con, con.cursor() as cur:
        psycopg2.extras.register_default_json(con, loads=str)  # JSON as text, as DuckDB gives it
        tables = {}
        for name in NAMES:
            cur.execute(f'SELECT * FROM metrics."{name}"')
            tables[name] = cur.fetchall()
        cur.execute(f"SELECT {', '.join(LOG_COLUMNS)} FROM metrics._saved_query_loads")
        return tables, {row[0]: row for row in cur.fetchall()}


def test_the_writer_puts_each_metric_table_and_its_log_in_schema_metrics(postgres_server, postgres_database, on_duckdb):
    tables, logs = on_duckdb
    url = postgres_server.url(postgres_database)
    insert = insert_or_replace_sql(SAVED_QUERY_LOADS.relation(), LOG_COLUMNS, SAVED_QUERY_LOADS.primary_key)
    with WarehouseResource(url=url).writer("metrics") as writer:
        for name in NAMES:
            also = [(create_table_sql(SAVED_QUERY_LOADS), []), (insert, list(logs[name]))]
            assert writer.replace(metric_table(MODEL, MODEL.saved_queries[name], AS_OF).table, tables[name],
                                  also=also) == tables[name].num_rows
    stored, stored_logs = _postgres_metrics(url)
    assert stored == {name: [tuple(row.values()) for row in tables[name].to_pylist()] for name in NAMES}
    assert stored_logs == logs
    assert all(stored[name] for name in NAMES)


def test_every_metric_asset_materialises_into_postgres_like_duckdb(postgres_server, postgres_database, on_duckdb):
    tables, _ = on_duckdb
    url = postgres_server.url(postgres_database)
    assert _materialise(WarehouseResource(url=url)).success
    stored, _ = _postgres_metrics(url)
    assert stored == {name: [tuple(row.values()) for row in tables[name].to_pylist()] for name in NAMES}
