"""A deterministic, fault-injecting simulator of the TestIO Customer API v2 (see shared/testio-api.md)."""

from testio_assets.simulator.app import RecordedRequest
from testio_assets.simulator.clock import DEFAULT_START
from testio_assets.simulator.config import PRESETS, FaultConfig, SimulatorConfig
from testio_assets.simulator.simulator import Simulator
from testio_assets.simulator.vocabulary import REJECTION_COMMENTS

__all__ = [
    "DEFAULT_START",
    "PRESETS",
    "REJECTION_COMMENTS",
    "FaultConfig",
    "RecordedRequest",
    "Simulator",
    "SimulatorConfig",
]
