"""The Dagster resource of the TestIO Customer API: where it is, and how hard to push it.

The built-in simulator is another resource (:class:`testio_assets.simulator.resource.SimulatorApiResource`),
chosen where the definitions are built; this module knows nothing of it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Optional

import dagster as dg
import httpx
from pydantic import Field, field_validator

from testio_assets import settings
from testio_assets.client.api import TestIOClient
from testio_assets.client.config import DEFAULT_RETRY_BUDGET_S, ClientConfig
from testio_assets.client.errors import refuse_url_credentials


class TestIOApiResource(dg.ConfigurableResource):
    """TestIO Customer API client settings: the client talks to ``base_url``
    (``TESTIO_CUSTOMER_API_BASE_URL``, default production) with ``token``.
    """

    __test__ = False  # not a pytest test class despite the name
    # A refused value (credentials in base_url) must not be echoed by the validation error.
    model_config = {**dg.ConfigurableResource.model_config, "hide_input_in_errors": True}

    token: Optional[str] = Field(
        default=None,
        repr=False,
        description="API token: pass EnvVar('TESTIO_CUSTOMER_API_TOKEN').",
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

    @field_validator("base_url")
    @classmethod
    def _no_credentials_in_base_url(cls, value: Optional[str]) -> Optional[str]:
        # Refused at construction, before the value can enter the definitions Dagster stores.
        if value and not isinstance(value, dg.EnvVar):
            refuse_url_credentials(value, "the testio_api resource's base_url")
        return value

    def source_description(self) -> str:
        return f"TestIO API at {self.resolved_base_url()}"

    def resolved_base_url(self) -> str:
        """The URL requests go to; refused (:class:`TestIOConfigError`) when it carries
        credentials, before it can reach a description, a log or metadata."""
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

    @asynccontextmanager
    async def open_client(
        self, logger: logging.Logger | None = None
    ) -> AsyncIterator[TestIOClient]:
        """An open :class:`TestIOClient` for the configured source, closed on exit."""
        async with TestIOClient(self.client_config(), transport=self.transport(), logger=logger) as client:
            yield client

    def transport(self) -> httpx.AsyncBaseTransport | None:
        """The client's transport: None, the network (a subclass serves another source)."""
        return None

    def _token(self) -> str | None:
        return (self.token or "").strip() or None
