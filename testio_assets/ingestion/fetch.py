"""Fetch orchestration: what to ask the API for, concurrently, for each asset.

Each asset runs one :func:`run_fetch` (an ``asyncio.run`` around one client session) before
it opens the warehouse, so the DuckDB connection is never held while waiting on the network.
The client bounds concurrency and retries; this module only decides the requests and logs
progress.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, aclosing
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import pyarrow as pa

from testio_assets.client.api import TestIOClient
from testio_assets.client.errors import TestIOError, TestIORequestError
from testio_assets.client.concurrency import gather_or_cancel, run_async
from testio_assets.client.listing import TestListing
from testio_assets.client.stats import CallStats, UnrecoverableRange
from testio_assets.ingestion.bug_bodies import BugBodyDecoder, first_occurrences
from testio_assets.ingestion.required import check_bugs_table

T = TypeVar("T")

# Pages an incremental walk reads past the first page holding a known test.
SAFETY_PAGES = 1
# About 15 MB of JSON per DuckDB query: few queries, bounded memory, a short tail at the end.
BODIES_PER_DECODE = 64


@dataclass(frozen=True, repr=False)
class Fetched(Generic[T]):
    value: T
    stats: CallStats

    def __repr__(self) -> str:
        # asyncio.run (3.11) formats a repr of its main task, and so of this result, when it
        # restores the SIGINT handler: a full repr of every test listed cost ~0.3 s per run.
        return f"Fetched({type(self.value).__name__}, {self.stats.total_calls} API calls)"


class ClientSource(Protocol):
    """Where clients come from (the ``testio_api`` resource): ingestion needs nothing else of it."""

    def open_client(self, logger: logging.Logger | None = None) -> AbstractAsyncContextManager[TestIOClient]: ...


def run_fetch(
    api: ClientSource, log: logging.Logger, work: Callable[[TestIOClient], Awaitable[T]]
) -> Fetched[T]:
    """Open one client session, run ``work`` on it, return its result and call figures.

    A request that cannot succeed raises the client's :class:`TestIOError` (already redacted),
    carrying in ``calls_made`` the calls this session made before it, so a failed run can
    still say how many it made."""
    stats: CallStats | None = None

    async def session() -> Fetched[T]:
        nonlocal stats
        async with api.open_client(logger=log) as client:
            stats = client.stats
            value = await work(client)
            return Fetched(value, client.stats)

    try:
        return run_async(session())
    except TestIOError as exc:
        exc.calls_made = stats or CallStats()
        raise


def product_stub(product_id: int, section_ids: Sequence[int]) -> dict[str, Any]:
    """The part of a product payload the client needs to read its features."""
    return {"id": product_id, "sections": [{"id": sid} for sid in section_ids]}


async def fetch_features(
    client: TestIOClient, products: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    per_product = await gather_or_cancel(client.get_features(p) for p in products)
    return [feature for features in per_product for feature in features]


@dataclass(frozen=True)
class TestListings:
    """Every product's listing walk: tests by product and the offsets that could not be read."""

    __test__ = False  # not a pytest test class despite the name

    by_product: dict[int, list[dict[str, Any]]]
    unrecoverable: list[UnrecoverableRange]
    pages_fetched: int
    fetched_individually: int = 0
    # Products whose walk reached the end of their listing, and the oldest test id each walk
    # read (tests fetched one by one not included): how far each walk got.
    complete: frozenset[int] = frozenset()
    oldest_walked: dict[int, int] = field(default_factory=dict)

    @property
    def test_count(self) -> int:
        return sum(len(tests) for tests in self.by_product.values())


@dataclass(frozen=True)
class ListingPlan:
    """How far an incremental walk of one product's listing must go (see ``get_tests``)."""

    known_test_ids: frozenset[int]
    refresh_until_test_id: int | None
    # Changeable tests older than the walk reaches, fetched from exploratory_tests/{id}.
    straggler_test_ids: tuple[int, ...] = ()


async def fetch_test_listings(
    client: TestIOClient,
    product_ids: Sequence[int],
    log: logging.Logger,
    *,
    plans: Mapping[int, ListingPlan] | None = None,
) -> TestListings:
    """List the tests of every product concurrently: a full walk without ``plans``, else each
    product's walk stops early as its plan allows and its stragglers are fetched one by one."""
    done = 0

    async def list_one(product_id: int) -> tuple[TestListing, list[dict[str, Any]]]:
        nonlocal done
        plan = plans[product_id] if plans is not None else None
        walk = client.get_tests(
            product_id,
            known_test_ids=set(plan.known_test_ids) if plan else None,
            refresh_until_test_id=plan.refresh_until_test_id if plan else None,
            safety_pages=SAFETY_PAGES,
        )
        stragglers = plan.straggler_test_ids if plan else ()
        listing, *details = await gather_or_cancel(
            [walk, *(fetch_straggler(client, test_id, log) for test_id in stragglers)]
        )
        done += 1
        if plan is None:  # a full walk is long: report progress (every log line is an event)
            log.info(
                "tests: product %s listed (%d tests, %d pages); %d/%d products done",
                product_id, len(listing.tests), listing.pages_fetched, done, len(product_ids),
            )
        listed = {test["id"] for test in listing.tests}
        return listing, [t for t in details if t is not None and t["id"] not in listed]

    walked = await gather_or_cancel(list_one(pid) for pid in product_ids)
    listings = TestListings(
        by_product={pid: [*listing.tests, *extra] for pid, (listing, extra) in zip(product_ids, walked)},
        unrecoverable=[r for listing, _ in walked for r in listing.unrecoverable],
        pages_fetched=sum(listing.pages_fetched for listing, _ in walked),
        fetched_individually=sum(len(plans[pid].straggler_test_ids) for pid in product_ids)
        if plans is not None else 0,
        complete=frozenset(pid for pid, (listing, _) in zip(product_ids, walked) if listing.complete),
        oldest_walked={
            pid: min(test["id"] for test in listing.tests)
            for pid, (listing, _) in zip(product_ids, walked) if listing.tests
        },
    )
    if plans is not None:
        log.info(
            "tests: %d products walked incrementally (%d tests, %d pages, %d stragglers "
            "fetched one by one)",
            len(product_ids), listings.test_count, listings.pages_fetched,
            listings.fetched_individually,
        )
    return listings


async def fetch_straggler(
    client: TestIOClient, test_id: int, log: logging.Logger
) -> dict[str, Any] | None:
    """One changeable test by id; None when the API no longer knows it (it stays as stored,
    like any test an incremental walk does not reach, until a full refresh drops it)."""
    try:
        return await client.get_test(test_id)
    except TestIORequestError as exc:
        if exc.status != 404:
            raise
        log.warning("tests: test %s answers 404; kept as stored until a full refresh", test_id)
        return None


async def fetch_bugs_table(
    client: TestIOClient,
    test_ids: Sequence[int],
    feature_by_test_feature: Mapping[int, int | None],
    log: logging.Logger,
) -> pa.Table:
    """The bugs of ``test_ids`` as a ``bugs`` table.

    Response bodies are decoded by DuckDB in chunks, in worker threads, while later requests
    are still in flight: the event loop stays free to keep the connection pool busy, and the
    bugs never sit in memory as Python dicts.
    """
    log.info("bugs: fetching the bugs of %d tests", len(test_ids))
    with BugBodyDecoder(feature_by_test_feature) as decoder:
        decoding: list[asyncio.Future[pa.Table]] = []
        try:
            chunk: list[str] = []
            async with aclosing(client.iter_bug_bodies(test_ids)) as bodies:
                async for body in bodies:
                    chunk.append(body)
                    if len(chunk) == BODIES_PER_DECODE:
                        decoding.append(_decode_in_thread(decoder, chunk))
                        chunk = []
            decoding.append(_decode_in_thread(decoder, chunk))
            parts = [await part for part in decoding]
        finally:
            # A decode cannot be cancelled mid-query: let each finish before the database closes.
            await asyncio.gather(*decoding, return_exceptions=True)
    table = first_occurrences(pa.concat_tables(parts))
    check_bugs_table(table)
    log.info("bugs: %d bugs fetched for %d tests", table.num_rows, len(test_ids))
    return table


def _decode_in_thread(decoder: BugBodyDecoder, bodies: list[str]) -> asyncio.Future[pa.Table]:
    return asyncio.ensure_future(asyncio.to_thread(decoder.table, bodies))
