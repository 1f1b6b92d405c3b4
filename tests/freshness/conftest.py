"""Fixtures shared by the freshness tests.

Materialising every asset takes seconds, and the tests only read what it leaves (or add events
of their own to the instance): it runs once per session, and each test gets its own copy of the
instance's storage and of the warehouse, so nothing one test records reaches another.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import dagster as dg
import pytest

from testio_assets.assets import ingestion_assets
from testio_assets.definitions import build_definitions
from testio_assets.simulator import Simulator, SimulatorConfig
from testio_assets.simulator.resource import SimulatorApiResource
from testio_assets.warehouse.resource import WarehouseResource

WAREHOUSE = "testio.duckdb"


@pytest.fixture(scope="session")
def materialized_once(tmp_path_factory) -> tuple[Path, Path, float]:
    """(instance folder, warehouse folder, when): every ingestion asset materialised once from the
    tiny simulator into an instance and a warehouse that nothing writes to afterwards (the metric
    assets, never materialised here, are tests/metrics' subject)."""
    root = tmp_path_factory.mktemp("freshness")
    home, data = root / "instance", root / "data"
    home.mkdir()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TESTIO_WAREHOUSE_PATH", str(data / WAREHOUSE))
        defs = build_definitions(
            api=SimulatorApiResource.serving(Simulator(SimulatorConfig.preset("tiny", seed=3))),
            warehouse=WarehouseResource(database=str(data / WAREHOUSE)),
        )
        with dg.instance_for_test(temp_dir=str(home)) as instance:
            result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
                instance=instance, asset_selection=[key for assets in ingestion_assets for key in assets.keys]
            )
            assert result.success
    return home, data, time.time()


@pytest.fixture()
def materialized(materialized_once, tmp_path, monkeypatch):
    """(definitions, instance, when): this test's copy of the materialised instance and warehouse."""
    home, data, materialized_at = materialized_once
    shutil.copytree(data, tmp_path, dirs_exist_ok=True)
    shutil.copytree(home, tmp_path / "instance")
    monkeypatch.setenv("TESTIO_WAREHOUSE_PATH", str(tmp_path / WAREHOUSE))
    defs = build_definitions(
        api=SimulatorApiResource.serving(Simulator(SimulatorConfig.preset("tiny", seed=3))),
        warehouse=WarehouseResource(database=str(tmp_path / WAREHOUSE)),
    )
    with dg.instance_for_test(temp_dir=str(tmp_path / "instance")) as instance:
        yield defs, instance, materialized_at
