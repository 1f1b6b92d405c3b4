"""The project's definitions on the tiny simulator: the code location the Dagster-on-Postgres
tests materialise and that their daemons load (warehouse from TESTIO_WAREHOUSE_PATH)."""

from __future__ import annotations

from testio_assets.definitions import build_definitions
from testio_assets.simulator import Simulator, SimulatorConfig
from testio_assets.simulator.resource import SimulatorApiResource

defs = build_definitions(
    api=SimulatorApiResource.serving(Simulator(SimulatorConfig.preset("tiny", seed=3)))
)
