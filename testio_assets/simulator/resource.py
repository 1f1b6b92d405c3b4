"""The built-in simulator as Dagster resources, chosen explicitly where definitions are built.

:class:`SimulatorApiResource` is the TestIO client's resource over a simulator served in
process (no network, no token). Its ``simulator`` is either a :class:`Simulator` a caller holds
(tests and benchmarks: faults, a clock they move, the request log), or a
:class:`SimulatorResource` that builds one from its config for each run (the demo, the UI).
"""

# No ``from __future__ import annotations``: Dagster reads ResourceDependency from the class's
# annotations at run time.
from typing import Union

import httpx
from dagster import InitResourceContext, ResourceDependency
from dagster._config.pythonic_config import ConfigurableResourceFactory
from pydantic import Field

from testio_assets.client.resource import TestIOApiResource
from testio_assets.simulator.config import SimulatorConfig
from testio_assets.simulator.simulator import Simulator

SIMULATOR_BASE_URL = "http://testio-simulator"


class SimulatorResource(ConfigurableResourceFactory[Simulator]):
    """A simulated customer built from a preset and a seed, its clock from DEFAULT_START or, with
    ``realtime``, following wall-clock time (so new tests keep arriving in the UI)."""

    scale: str = Field(default="demo", description="Simulator preset: tiny, demo or benchmark.")
    seed: int = Field(default=7, description="Seed of the synthetic customer.")
    realtime: bool = Field(default=False, description="Let the clock follow wall-clock time.")

    def describe(self) -> str:
        return f"scale {self.scale}, seed {self.seed}"

    def create_resource(self, context: InitResourceContext) -> Simulator:
        return Simulator(SimulatorConfig.preset(self.scale, seed=self.seed), realtime=self.realtime)


class SimulatorApiResource(TestIOApiResource):
    """The TestIO client over the built-in simulator, served in process through httpx."""

    simulator: ResourceDependency[Simulator]

    @classmethod
    def serving(cls, simulator: Union[Simulator, SimulatorResource], **config) -> "SimulatorApiResource":
        """The client's resource over ``simulator``, with client settings ``config``."""
        return cls(simulator=simulator, **config)

    def source_description(self) -> str:
        return f"built-in simulator ({self.simulator.describe()})"

    def resolved_base_url(self) -> str:
        return SIMULATOR_BASE_URL

    def transport(self) -> httpx.AsyncBaseTransport:
        return self.simulator.transport()
