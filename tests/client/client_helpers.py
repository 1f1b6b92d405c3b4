"""Helpers for the client tests: fast settings, a tiny simulator, a recording sleep."""

from __future__ import annotations

import asyncio

from testio_assets.client import ClientConfig, TestIOClient
from testio_assets.simulator import FaultConfig, Simulator, SimulatorConfig

BASE_URL = "http://testio-simulator"
TOKEN = "tk_live_5ecr3t-Value-0123456789"


class RecordingSleep:
    """An injected sleep that records each requested delay and only yields to the loop."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


def fast_config(**overrides) -> ClientConfig:
    """Test settings: short timeouts and a tiny backoff so retries cost milliseconds."""
    settings = dict(
        base_url=BASE_URL,
        timeout_s=0.4,
        max_attempts=8,
        backoff_base_s=0.001,
        backoff_max_s=0.005,
        retry_after_max_s=0.01,
    )
    settings.update(overrides)
    return ClientConfig(**settings)


def make_sim(faults: FaultConfig | None = None, token: str | None = None) -> Simulator:
    return Simulator(SimulatorConfig.preset("tiny", seed=7), faults=faults or FaultConfig(), token=token)


def run(coro):
    """Run a client coroutine from a synchronous test."""
    return asyncio.run(coro)


def client_for(simulator: Simulator, sleep=None, **overrides) -> TestIOClient:
    """A client for ``simulator`` through its in-process transport, with fast settings."""
    extra = {"sleep": sleep} if sleep else {}
    return TestIOClient(fast_config(**overrides), transport=simulator.transport(), **extra)
