"""One GET against the TestIO API: bounded concurrency, timeouts, retries, envelope checks."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from testio_assets.client.body_check import envelope_problem
from testio_assets.client.config import ClientConfig
from testio_assets.client.errors import (
    TestIOAuthError,
    TestIORequestError,
    TestIOResponseError,
    redact,
)
from testio_assets.client.retry import backoff_delay, is_retryable_status, parse_retry_after
from testio_assets.client.stats import CallStats

Sleep = Callable[[float], Awaitable[None]]
# Turns a 2xx response into the caller's value, raising _MalformedBody for a retryable body.
Decode = Callable[[httpx.Response], Awaitable[Any]]


@dataclass(frozen=True)
class _Failure:
    """Why one attempt failed, kept for the retry decision and the final message."""

    reason: str
    status: int | None = None
    malformed: bool = False
    timed_out: bool = False
    retry_after_s: float | None = None


@dataclass(frozen=True)
class _Success:
    value: Any


class _MalformedBody(Exception):
    pass


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default verifying context, built once per process: loading the CA bundle takes
    ~20 ms, and every asset opens its own client."""
    return httpx.create_ssl_context()


class Fetcher:
    """Sends GET requests through one connection pool and returns validated envelope contents."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        stats: CallStats,
        transport: httpx.AsyncBaseTransport | None = None,
        logger: logging.Logger,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "testio-assets"}
        if config.token:
            headers["Authorization"] = f"Token {config.token}"
        limits = httpx.Limits(
            max_connections=config.concurrency, max_keepalive_connections=config.concurrency
        )
        self._http = httpx.AsyncClient(
            base_url=config.base_url,
            headers=headers,
            transport=transport,
            verify=_ssl_context(),
            timeout=httpx.Timeout(config.timeout_s),
            limits=limits,
        )
        self._config = config
        self._stats = stats
        self._logger = logger
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._semaphore = asyncio.Semaphore(config.concurrency)

    async def aclose(self) -> None:
        await self._http.aclose()

    def _redact(self, text: str) -> str:
        return redact(text, [self._config.token])

    async def get(
        self,
        path: str,
        *,
        kind: str,
        envelope: str,
        params: dict[str, Any] | None = None,
        many: bool = True,
        attempts: int | None = None,
    ) -> Any:
        """``body[envelope]`` of ``GET path`` (a list when ``many``), retrying transient failures.

        Raises TestIOAuthError on 401/403, TestIORequestError on a final 4xx or when retries
        are exhausted (``status`` holds the last HTTP status, None for timeouts/network),
        TestIOResponseError when the body stayed malformed.
        """

        async def decode(response: httpx.Response) -> Any:
            return _unwrap(response, envelope, many)

        return await self._get(path, kind, params, decode, attempts)

    async def get_text(
        self, path: str, *, kind: str, envelope: str, params: dict[str, Any] | None = None
    ) -> str:
        """The body of ``GET path`` as text, once its ``envelope`` key is known to hold a list.

        For large list responses the caller decodes in bulk: the check runs in a worker thread
        (DuckDB's parser releases the GIL), so the event loop keeps other requests moving. A
        body failing the check is retried like any malformed one; errors as :meth:`get`.
        """

        async def decode(response: httpx.Response) -> str:
            try:
                text = response.content.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _MalformedBody(f"not UTF-8 ({exc})") from None
            problem = await asyncio.to_thread(envelope_problem, text, envelope)
            if problem:
                raise _MalformedBody(problem)
            return text

        return await self._get(path, kind, params, decode, None)

    async def _get(
        self,
        path: str,
        kind: str,
        params: dict[str, Any] | None,
        decode: Decode,
        attempts: int | None,
    ) -> Any:
        """Attempt until success, a final error, ``attempts`` failures other than 429, or the
        request's retry budget (``retry_budget_s``) would be passed by the next wait."""
        endpoint = f"{path}?{urlencode(params)}" if params else path
        attempts = attempts or self._config.max_attempts
        started = time.monotonic()
        made = failed = 0  # attempts made; those that count toward `attempts` (not 429s)
        while True:
            made += 1
            self._stats.record_call(kind)
            outcome = await self._attempt(path, params, endpoint, decode)
            if isinstance(outcome, _Success):
                return outcome.value
            if outcome.status != 429:
                failed += 1
                if failed >= attempts:
                    raise self._final_error(endpoint, made, outcome)
            delay = self._delay(made, outcome)
            elapsed = time.monotonic() - started
            if elapsed + delay > self._config.retry_budget_s:
                raise self._final_error(endpoint, made, outcome, budget_spent=(elapsed, delay))
            self._stats.retries += 1
            self._logger.debug(
                "retrying %s in %.2fs (attempt %d, %d/%d failures): %s",
                endpoint, delay, made + 1, failed, attempts, outcome.reason,
            )
            await self._sleep(delay)

    async def _attempt(
        self,
        path: str,
        params: dict[str, Any] | None,
        endpoint: str,
        decode: Decode,
    ) -> _Success | _Failure:
        timeout_s = self._config.timeout_s
        try:
            async with self._semaphore:
                # The in-process ASGI transport ignores httpx timeouts, so enforce one here too.
                async with asyncio.timeout(timeout_s):
                    response = await self._http.get(path, params=params)
        except (TimeoutError, httpx.TimeoutException):
            self._stats.timeouts += 1
            return _Failure(f"no answer within {timeout_s:g}s", timed_out=True)
        except httpx.TransportError as exc:
            return _Failure(f"network error: {type(exc).__name__}: {self._redact(str(exc))}")

        status = response.status_code
        if status in (401, 403):
            raise TestIOAuthError.for_status(status, endpoint, self._redact(self._config.base_url))
        if 200 <= status < 300:
            try:
                return _Success(await decode(response))
            except _MalformedBody as exc:
                return _Failure(f"malformed body: {self._redact(str(exc))}", status, malformed=True)
        snippet = self._redact(response.text[:200])
        if not is_retryable_status(status):
            raise TestIORequestError(
                f"GET {endpoint} answered HTTP {status} (final, not retried): {snippet}"
                + _hint(status),
                endpoint=endpoint,
                status=status,
            )
        if status == 429:
            self._stats.rate_limited += 1
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return _Failure(f"HTTP {status}: {snippet}", status, retry_after_s=retry_after)

    def _delay(self, attempt: int, failure: _Failure) -> float:
        config = self._config
        if failure.retry_after_s is not None:
            cap = config.retry_after_max_s
            return failure.retry_after_s if cap is None else min(failure.retry_after_s, cap)
        return backoff_delay(attempt, config.backoff_base_s, config.backoff_max_s, self._rng)

    def _final_error(
        self,
        endpoint: str,
        attempts: int,
        failure: _Failure,
        budget_spent: tuple[float, float] | None = None,
    ) -> Exception:
        message = f"GET {endpoint} failed after {attempts} attempt(s): {failure.reason}"
        if budget_spent is not None:
            elapsed, wait = budget_spent
            asked = " as Retry-After asked" if failure.retry_after_s is not None else ""
            message = (
                f"GET {endpoint} gave up after {attempts} attempt(s) in {elapsed:.1f} s: waiting "
                f"{wait:g} s more{asked} would pass the request's retry budget of "
                f"{self._config.retry_budget_s:g} s (retry_budget_s); last failure: {failure.reason}"
            )
            if failure.status == 429:
                return TestIORequestError(
                    message + "; the API is rate limiting this client: lower the concurrency or "
                    "raise retry_budget_s",
                    endpoint=endpoint,
                    status=failure.status,
                )
        if failure.malformed:
            return TestIOResponseError(
                message + "; the API did not send the documented JSON envelope: "
                "check TESTIO_CUSTOMER_API_BASE_URL points at the Customer API v2",
                endpoint=endpoint,
                status=failure.status,
            )
        return TestIORequestError(
            message + "; the API may be down or overloaded: retry later or lower the concurrency",
            endpoint=endpoint,
            status=failure.status,
            timed_out=failure.timed_out,
        )


def _unwrap(response: httpx.Response, envelope: str, many: bool) -> Any:
    """The envelope's content, checked: a list of objects with ids, or one object."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _MalformedBody(f"not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise _MalformedBody(f"expected a JSON object, got {type(body).__name__}")
    if envelope not in body:
        keys = ", ".join(sorted(body)[:5]) or "none"
        raise _MalformedBody(f"missing key '{envelope}' (keys: {keys})")
    value = body[envelope]
    if many != isinstance(value, list):
        expected = "a list" if many else "an object"
        raise _MalformedBody(f"'{envelope}' should hold {expected}, got {type(value).__name__}")
    items = value if many else [value]
    if not all(isinstance(item, dict) and "id" in item for item in items):
        raise _MalformedBody(f"'{envelope}' does not hold objects with an 'id'")
    return value


def _hint(status: int) -> str:
    if status == 404:
        return " (check TESTIO_CUSTOMER_API_BASE_URL and that the id exists for this customer)"
    if status == 422:
        return " (a sectioned product must be read per section)"
    return ""
