"""The assets' way to fetch: one client session, with an API error turned into a Dagster failure.

Ingestion (:mod:`testio_assets.ingestion.fetch`) raises the client's own errors; here, at the
asset boundary, they become a :class:`dagster.Failure` whose description is the error's type
and (already redacted) message, first in the UI, with the endpoint, the HTTP status and the
calls made before it (``api_calls``...) as metadata, so a failed run still says what it cost.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import dagster as dg

from testio_assets.client.api import TestIOClient
from testio_assets.client.errors import TestIOError
from testio_assets.client.resource import TestIOApiResource
from testio_assets.client.stats import CallStats
from testio_assets.ingestion.fetch import Fetched, run_fetch

T = TypeVar("T")


def fetch_or_fail(
    api: TestIOApiResource, log: logging.Logger, work: Callable[[TestIOClient], Awaitable[T]]
) -> Fetched[T]:
    """:func:`run_fetch`, raising :class:`dagster.Failure` for a request that cannot succeed."""
    try:
        return run_fetch(api, log, work)
    except TestIOError as exc:
        raise dg.Failure(
            description=f"{type(exc).__name__} ({api.source_description()}): {exc}",
            metadata={"endpoint": exc.endpoint, "http_status": exc.status if exc.status is not None else -1,
                      **(exc.calls_made or CallStats()).as_metadata()},
        ) from None
