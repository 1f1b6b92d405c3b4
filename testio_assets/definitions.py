"""The Dagster code location: TestIO assets, checks, resources, automation and alerts.

Nothing here opens the warehouse or the network at import time: the code server would
otherwise hold DuckDB's lock for as long as it runs.
"""

from __future__ import annotations

import warnings

import dagster as dg

from testio_assets import settings
from testio_assets.alerts import freshness_alert_sensor
from semantic.model.loader import load_model
from semantic.model.spec import Model
from semantic.plan.saved_queries import check_saved_queries
from testio_assets.assets import ingestion_assets
from testio_assets.assets.saved_queries import saved_query_assets
from testio_assets.automation import automation_sensor, with_automation_condition
from testio_assets.checks import ingestion_checks
from testio_assets.client.resource import TestIOApiResource
from testio_assets.dead_runs import dead_run_sweeper
from testio_assets.freshness import policy_windows, with_freshness_policy
from testio_assets.metric_checks import metric_checks
from testio_assets.simulator.resource import SimulatorApiResource, SimulatorResource
from testio_assets.warehouse.resource import WarehouseResource


def build_api_resource() -> TestIOApiResource:
    """The real API when a token is set (kept out of config and logs through EnvVar), else the simulator.

    Served for the UI, the simulator's clock follows real time so new tests keep arriving.
    """
    if settings.api_token_is_set():
        return TestIOApiResource(token=dg.EnvVar(settings.TOKEN_ENV))
    return SimulatorApiResource(simulator=SimulatorResource(realtime=True))


def build_definitions(
    api: TestIOApiResource | None = None,
    warehouse: WarehouseResource | None = None,
    model: Model | None = None,
) -> dg.Definitions:
    """All definitions, with freshness policies and automation conditions applied centrally.

    ``model``: the semantic model whose saved queries become metric assets (default: the
    packaged one); a saved query that cannot be answered fails the load with its file and line.
    """
    model = model or load_model()
    check_saved_queries(model)
    metric_assets, metric_tables = saved_query_assets(model, ingestion_assets)
    defs = dg.Definitions(
        assets=[*ingestion_assets, *metric_assets],
        asset_checks=[*ingestion_checks, *metric_checks(model, metric_tables)],
        resources={
            "testio_api": api or build_api_resource(),
            "warehouse": warehouse or WarehouseResource(),
        },
        sensors=[automation_sensor, freshness_alert_sensor, dead_run_sweeper],
        # Steps share one DuckDB writer; in one process they also skip a subprocess start each.
        executor=dg.in_process_executor,
    )
    windows = policy_windows()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)  # map_asset_specs is "preview" in 1.13
        return defs.map_asset_specs(
            func=lambda spec: with_automation_condition(with_freshness_policy(spec, windows))
        )


defs = build_definitions()
