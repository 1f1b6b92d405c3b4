"""DagsterFreshnessSource reports the deployed freshness policy (as each materialisation
recorded it), not the policy of the caller's own environment (a notebook, the CLI)."""

from __future__ import annotations

import time

import dagster as dg

from testio_assets.simulator.resource import SimulatorApiResource
from testio_assets.definitions import build_definitions
from testio_assets.freshness_state import LOCAL_POLICY, DagsterFreshnessSource
from testio_assets.simulator import Simulator, SimulatorConfig
from testio_assets.warehouse.resource import WarehouseResource

DEPLOYED = "warn after 1m, fail after 2m"


def test_the_deployed_policy_is_read_from_the_materialisation_not_the_callers_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TESTIO_FRESHNESS_POLICIES", "products=1m/2m,bugs=1m/2m")  # the deployment's settings
    defs = build_definitions(
        api=SimulatorApiResource.serving(Simulator(SimulatorConfig.preset("tiny", seed=3))),
        warehouse=WarehouseResource(database=str(tmp_path / "testio.duckdb")),
    )
    with dg.instance_for_test() as instance:
        assert defs.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance).success
        materialized_at = time.time()
        event = instance.get_latest_materialization_event(dg.AssetKey("products"))
        assert event.asset_materialization.metadata["freshness_policy"].value == DEPLOYED  # shown in the UI
        for callers_setting in (None, "products=5h/10h,bugs=5h/10h"):  # a notebook without it, or with other windows
            if callers_setting is None:
                monkeypatch.delenv("TESTIO_FRESHNESS_POLICIES")
            else:
                monkeypatch.setenv("TESTIO_FRESHNESS_POLICIES", callers_setting)
            states = DagsterFreshnessSource(instance, now=materialized_at + 90).table_freshness(["products", "bugs"])
            for table in ("products", "bugs"):
                assert states[table].policy == DEPLOYED
                assert states[table].state == "warning"  # 90 s old under 1m/2m; passing under the caller's
                assert "policy: the policy the last materialisation recorded (the deployment's)" in states[table].source


def test_without_a_recorded_policy_the_local_settings_are_used_and_said_to_be(monkeypatch):
    monkeypatch.delenv("TESTIO_FRESHNESS_POLICIES", raising=False)
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization("products"))  # materialised by other means
        state = DagsterFreshnessSource(instance).table_freshness(["products"])["products"]
    assert state.policy == "warn after 12h, fail after 1d" and state.state == "passing"
    assert state.source.endswith(f"policy: {LOCAL_POLICY}")
