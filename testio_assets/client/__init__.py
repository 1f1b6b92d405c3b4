"""The TestIO Customer API client and its Dagster resource."""

from testio_assets.client.api import TestIOClient, product_section_ids
from testio_assets.client.config import ClientConfig
from testio_assets.client.errors import (
    TestIOAuthError,
    TestIOConfigError,
    TestIOError,
    TestIORequestError,
    TestIOResponseError,
    redact,
)
from testio_assets.client.listing import TestListing
from testio_assets.client.stats import CallStats, UnrecoverableRange

__all__ = [
    "CallStats",
    "ClientConfig",
    "TestIOAuthError",
    "TestIOClient",
    "TestIOConfigError",
    "TestIOError",
    "TestIORequestError",
    "TestIOResponseError",
    "TestListing",
    "UnrecoverableRange",
    "product_section_ids",
    "redact",
]
