"""POSTing alert payloads to the webhook, with short bounded retries.

A sensor tick must finish well within Dagster's sensor timeout (60 s), so every wait here is
bounded twice: per attempt (``timeout``) and per tick (the caller's ``deadline``). Nothing here
raises: every outcome is a :class:`Delivery` the sensor logs.

The webhook URL is a secret (Slack's carries its token in the path): only its redacted form
ever appears in messages.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import httpx

from testio_assets.alerts.config import redact_url
from testio_assets.client.retry import is_retryable_status


class _RedactUrlFilter(logging.Filter):
    """Redacts webhook URLs in httpx's INFO line ``HTTP Request: POST <url> ...``.

    httpx logs every request with its full URL; a host that shows INFO logs would otherwise
    print the webhook secret. Other URLs (the TestIO API client's) are left alone.
    """

    def __init__(self) -> None:
        super().__init__()
        self.secret_urls: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                redact_url(str(arg)) if str(arg) in self.secret_urls else arg
                for arg in record.args
            )
        return True


_HTTPX_REDACTION = _RedactUrlFilter()


def _redact_in_httpx_logs(url: str) -> None:
    _HTTPX_REDACTION.secret_urls.add(str(httpx.URL(url)))
    httpx_logger = logging.getLogger("httpx")
    if _HTTPX_REDACTION not in httpx_logger.filters:
        httpx_logger.addFilter(_HTTPX_REDACTION)


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard one alert is pushed within a tick: ``attempts`` tries, backoff doubling."""

    attempts: int = 3
    first_backoff: float = 0.5
    max_backoff: float = 2.0
    timeout: float = 5.0


@dataclass(frozen=True)
class Delivery:
    """The outcome of delivering one payload.

    ``retryable`` tells a failed delivery worth trying again on a later tick (endpoint down,
    5xx, timeout) from one that will fail the same way (4xx: bad URL, rejected payload).
    """

    delivered: bool
    attempts: int
    detail: str
    retryable: bool = False


class WebhookSender:
    """Delivers JSON payloads to one webhook URL over a shared httpx connection pool."""

    def __init__(self, url: str, policy: DeliveryPolicy = DeliveryPolicy()) -> None:
        self._url = url
        self._policy = policy
        _redact_in_httpx_logs(url)
        self._client = httpx.Client(timeout=policy.timeout, follow_redirects=False)
        self.display_url = redact_url(url)

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._client.close()

    def send(self, payload: dict, deadline: float) -> Delivery:
        """POST ``payload``, retrying transient failures until success, attempts or ``deadline``."""
        backoff = self._policy.first_backoff
        detail = "not attempted: tick delivery budget exhausted"
        attempts = 0
        while attempts < self._policy.attempts:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            attempts += 1
            outcome = self._attempt(payload, timeout=min(self._policy.timeout, remaining))
            if outcome.delivered or not outcome.retryable:
                return Delivery(outcome.delivered, attempts, outcome.detail, outcome.retryable)
            detail = outcome.detail
            if attempts < self._policy.attempts:
                wait = min(backoff, self._policy.max_backoff, max(0.0, deadline - time.monotonic()))
                time.sleep(wait)
                backoff *= 2
        return Delivery(False, attempts, detail, retryable=True)

    def _attempt(self, payload: dict, timeout: float) -> Delivery:
        try:
            response = self._client.post(self._url, json=payload, timeout=timeout)
        except httpx.TimeoutException:
            return Delivery(False, 1, f"timed out after {timeout:.1f} s", retryable=True)
        except httpx.TransportError as error:
            # httpx puts the URL in some messages: keep only the exception's class.
            return Delivery(False, 1, f"connection failed ({type(error).__name__})", retryable=True)
        if response.is_success:
            return Delivery(True, 1, f"HTTP {response.status_code}")
        body = response.text[:200].replace("\n", " ")
        detail = f"HTTP {response.status_code}: {body}" if body else f"HTTP {response.status_code}"
        return Delivery(False, 1, detail, retryable=is_retryable_status(response.status_code))
