"""Fixtures shared by the freshness tests."""

from __future__ import annotations

import time

import dagster as dg
import pytest

from testio_assets.assets import ingestion_assets
from testio_assets.definitions import build_definitions
from testio_assets.simulator import Simulator, SimulatorConfig
from testio_assets.simulator.resource import SimulatorApiResource
from testio_assets.warehouse.resource import WarehouseResource


@pytest.fixture()
def materialized(tmp_path, monkeypatch):
    """Every ingestion asset materialised once from the tiny simulator, into a test instance (the
    metric assets, never materialised here, are tests/metrics' subject)."""
    monkeypatch.setenv("TESTIO_WAREHOUSE_PATH", str(tmp_path / "testio.duckdb"))
    defs = build_definitions(
        api=SimulatorApiResource.serving(Simulator(SimulatorConfig.preset("tiny", seed=3))),
        warehouse=WarehouseResource(database=str(tmp_path / "testio.duckdb")),
    )
    with dg.instance_for_test() as instance:
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance, asset_selection=[key for assets in ingestion_assets for key in assets.keys]
        )
        assert result.success
        yield defs, instance, time.time()
