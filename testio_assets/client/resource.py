"""The Dagster resource that picks the data source (real API or built-in simulator)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Optional

import dagster as dg
from pydantic import Field, field_validator

from testio_assets import settings
from testio_assets.client.api import TestIOClient
from testio_assets.client.config import DEFAULT_RETRY_BUDGET_S, ClientConfig
from testio_assets.client.errors import refuse_url_credentials

if TYPE_CHECKING:
    from testio_assets.simulator import Simulator

SIMULATOR_BASE_URL = "http://testio-simulator"

# One simulated customer per process and settings, so its clock and data persist across runs.
_simulators: dict[tuple[str, int, bool], Simulator] = {}
# Simulators handed in by tests through TestIOApiResource.for_simulator, by key.
_injected: dict[str, Simulator] = {}
_lock = threading.Lock()


class TestIOApiResource(dg.ConfigurableResource):
    """TestIO Customer API client settings and the choice of source.

    With a token the client talks to ``base_url`` (``TESTIO_CUSTOMER_API_BASE_URL``, default
    production); without one it talks in-process to the built-in simulator.
    """

    __test__ = False  # not a pytest test class despite the name
    # A refused value (credentials in base_url) must not be echoed by the validation error.
    model_config = {**dg.ConfigurableResource.model_config, "hide_input_in_errors": True}

    token: Optional[str] = Field(
        default=None,
        repr=False,
        description="API token: pass EnvVar('TESTIO_CUSTOMER_API_TOKEN'); None: simulator.",
    )
    base_url: Optional[str] = Field(
        default=None,
        description="API base URL; None means TESTIO_CUSTOMER_API_BASE_URL or production.",
    )
    concurrency: int = Field(default=10, description="Requests in flight at most.")
    timeout_s: float = Field(default=30.0, description="Timeout of one request, in seconds.")
    max_attempts: int = Field(
        default=6,
        description="Attempts per request for failures other than 429 (5xx, timeouts, "
        "malformed bodies), retries included.",
    )
    retry_budget_s: float = Field(
        default=DEFAULT_RETRY_BUDGET_S,
        description="Total time one request may take with its retries and waits: Retry-After "
        "is honoured as long as it fits, 429s are retried until it is spent.",
    )
    backoff_base_s: float = Field(default=0.5, description="First retry waits up to this long.")
    per_page: int = Field(default=25, description="Tests per listing page.")
    bug_batch_size: int = Field(default=15, description="Test ids per bugs request.")
    simulator_scale: str = Field(default="demo", description="Simulator preset without a token.")
    simulator_seed: int = Field(default=7, description="Simulator seed without a token.")
    simulator_realtime: bool = Field(
        default=False, description="Let the simulator's clock follow wall-clock time."
    )
    simulator_key: Optional[str] = Field(
        default=None, description="Internal: a simulator injected with for_simulator()."
    )

    @field_validator("base_url")
    @classmethod
    def _no_credentials_in_base_url(cls, value: Optional[str]) -> Optional[str]:
        # Refused at construction, before the value can enter the definitions Dagster stores.
        if value and not isinstance(value, dg.EnvVar):
            refuse_url_credentials(value, "the testio_api resource's base_url")
        return value

    @classmethod
    def for_simulator(cls, simulator: Simulator, **config: Any) -> TestIOApiResource:
        """A resource serving from the given simulator instance (tests, benchmarks)."""
        key = uuid.uuid4().hex
        with _lock:
            _injected[key] = simulator
        return cls(simulator_key=key, **config)

    @property
    def uses_simulator(self) -> bool:
        return not self._token()

    def source_description(self) -> str:
        if not self.uses_simulator:
            return f"TestIO API at {self.resolved_base_url()}"
        if self.simulator_key:
            return "built-in simulator (injected instance)"
        return f"built-in simulator (scale {self.simulator_scale}, seed {self.simulator_seed})"

    def resolved_base_url(self) -> str:
        """The URL requests go to; refused (:class:`TestIOConfigError`) when it carries
        credentials, before it can reach a description, a log or metadata."""
        if self.uses_simulator:
            return SIMULATOR_BASE_URL
        if self.base_url:
            return refuse_url_credentials(self.base_url, "the testio_api resource's base_url")
        return refuse_url_credentials(settings.api_base_url())

    def client_config(self) -> ClientConfig:
        return ClientConfig(
            base_url=self.resolved_base_url(),
            token=self._token(),
            concurrency=self.concurrency,
            timeout_s=self.timeout_s,
            max_attempts=self.max_attempts,
            retry_budget_s=self.retry_budget_s,
            backoff_base_s=self.backoff_base_s,
            per_page=self.per_page,
            bug_batch_size=self.bug_batch_size,
        )

    def simulator(self) -> Simulator:
        """The simulator this resource serves from (created on first use, then cached)."""
        with _lock:
            if self.simulator_key:
                return _injected[self.simulator_key]
            key = (self.simulator_scale, self.simulator_seed, self.simulator_realtime)
            if key not in _simulators:
                _simulators[key] = _build_simulator(*key)
            return _simulators[key]

    @asynccontextmanager
    async def open_client(
        self, logger: logging.Logger | None = None
    ) -> AsyncIterator[TestIOClient]:
        """An open :class:`TestIOClient` for the configured source, closed on exit."""
        transport = self.simulator().transport() if self.uses_simulator else None
        async with TestIOClient(self.client_config(), transport=transport, logger=logger) as client:
            yield client

    def _token(self) -> str | None:
        return (self.token or "").strip() or None


def _build_simulator(scale: str, seed: int, realtime: bool) -> Simulator:
    from testio_assets.simulator import Simulator, SimulatorConfig

    return Simulator(SimulatorConfig.preset(scale, seed=seed), realtime=realtime)
