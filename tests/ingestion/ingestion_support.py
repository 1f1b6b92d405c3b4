"""Helpers for the ingestion tests: run the real assets against a simulator into a DuckDB file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from testio_assets.assets import ingestion_assets
from testio_assets.checks import ingestion_checks
from testio_assets.client.resource import TestIOApiResource
from testio_assets.simulator import FaultConfig, Simulator, SimulatorConfig
from testio_assets.warehouse.resource import WarehouseResource
from testio_assets.warehouse.schema import TABLES

DATA_TABLES = ("products", "features", "tests", "test_features", "test_platforms", "bugs", "users")
# Fast retries: the faults are injected, not real outages.
FAST_RETRIES = {"backoff_base_s": 0.01, "timeout_s": 1.0}


def make_sim(faults: FaultConfig | None = None, **kwargs: Any) -> Simulator:
    return Simulator(SimulatorConfig.preset("tiny", seed=7), faults=faults, **kwargs)


def materialize(
    api: TestIOApiResource,
    database: Path,
    instance: dg.DagsterInstance | None = None,
    selection: list | None = None,
    *,
    run_config: dict | None = None,
    warehouse: dict | None = None,
) -> dg.ExecuteInJobResult:
    """Materialise ``selection`` (default: every asset and check); ``warehouse`` holds extra
    fields of the warehouse resource."""
    return dg.materialize(
        selection or [*ingestion_assets, *ingestion_checks],
        resources={
            "testio_api": api,
            "warehouse": WarehouseResource(database=str(database), **(warehouse or {})),
        },
        instance=instance or dg.DagsterInstance.ephemeral(),
        run_config=run_config,
        raise_on_error=False,
    )


def table_rows(database: Path) -> dict[str, list[tuple]]:
    """Every data table's rows, sorted by primary key."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {
            name: con.execute(
                f"SELECT * FROM {name} ORDER BY {', '.join(TABLES[name].primary_key)}"
            ).fetchall()
            for name in DATA_TABLES
        }
    finally:
        con.close()


def rows_by_key(con: duckdb.DuckDBPyConnection, sql: str) -> dict:
    """The rows of ``sql`` keyed by their first column (the rest of each row as a tuple)."""
    return {row[0]: row[1:] for row in con.execute(sql).fetchall()}


def check_results(result: dg.ExecuteInJobResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}
