"""Walking a product's newest-first test pages: full or incremental, with page recovery.

A page that keeps failing (5xx, no answer in time, or a malformed 200 body) is re-read in
ever smaller pages; offsets that still fail one test per page are reported as unrecoverable
ranges, with the ids of the tests listed on either side so the range can be found again.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from testio_assets.client.errors import TestIOError, TestIORequestError, TestIOResponseError
from testio_assets.client.fetcher import Fetcher
from testio_assets.client.stats import CallStats, UnrecoverableRange

RECOVERY_PAGE_SIZES = (10, 5, 2, 1)


@dataclass(frozen=True)
class TestListing:
    """The tests one listing walk returned, newest first and unique by id.

    ``complete`` is True when the walk reached the end of the listing (its short page), so a
    test absent from ``tests`` (and from ``unrecoverable``) no longer exists; an incremental
    walk that stopped early is not complete.
    """

    __test__ = False  # not a pytest test class despite the name

    tests: list[dict]
    unrecoverable: list[UnrecoverableRange]
    pages_fetched: int
    complete: bool


@dataclass
class _Page:
    tests: list[dict]
    offsets: list[int]  # listing offset of each test
    short: bool  # fewer offsets than per_page hold a test: the listing ends here
    unrecoverable: list[UnrecoverableRange] = field(default_factory=list)


def _recoverable(exc: TestIOError) -> bool:
    """A page failure worth re-reading in smaller pages: a server error, no answer in time, or
    a body that is not the envelope (a page too large to render may fail in any of these ways)."""
    if isinstance(exc, TestIOResponseError):
        return True
    return isinstance(exc, TestIORequestError) and (
        exc.timed_out or (exc.status is not None and exc.status >= 500)
    )


def _with_neighbours(
    ranges: list[UnrecoverableRange], ids_by_offset: dict[int, int]
) -> list[UnrecoverableRange]:
    """Each range with the ids of the nearest tests read before and after it."""
    offsets = sorted(ids_by_offset)
    placed = []
    for r in ranges:
        before = bisect.bisect_left(offsets, r.first_offset) - 1
        after = bisect.bisect_right(offsets, r.last_offset)
        placed.append(replace(
            r,
            newer_test_id=ids_by_offset[offsets[before]] if before >= 0 else None,
            older_test_id=ids_by_offset[offsets[after]] if after < len(offsets) else None,
        ))
    return placed


class _StopRule:
    """Decides, page by page in order, whether the walk has seen enough."""

    def __init__(
        self, known: set[int] | None, refresh_until: int | None, safety_pages: int
    ) -> None:
        self._known = known
        self._refresh_until = refresh_until
        self._safety_pages = safety_pages
        self._first_known_page: int | None = None
        self._refresh_reached = refresh_until is None

    def enough(self, page_no: int, page: _Page) -> bool:
        if self._known is None:
            return False
        ids = {test["id"] for test in page.tests}
        if self._first_known_page is None and ids & self._known:
            self._first_known_page = page_no
        # Test ids grow with creation, so a page entirely below the target has passed it.
        if not self._refresh_reached and ids:
            self._refresh_reached = self._refresh_until in ids or max(ids) < self._refresh_until
        last = self.last_page_needed()
        return last is not None and page_no >= last

    def last_page_needed(self) -> int | None:
        """The last page the walk needs, once known (bounds speculative fetching)."""
        if self._refresh_reached and self._first_known_page is not None:
            return self._first_known_page + self._safety_pages
        return None


class TestLister:
    """Lists ``products/{pid}/exploratory_tests`` with bounded speculative lookahead."""

    __test__ = False

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        stats: CallStats,
        max_lookahead: int,
        recovery_attempts: int,
        logger: logging.Logger,
    ) -> None:
        self._fetcher = fetcher
        self._stats = stats
        self._max_lookahead = max_lookahead
        self._recovery_attempts = recovery_attempts
        self._logger = logger
        # Listing pages in flight across every product this lister walks concurrently.
        self._pages_in_flight = 0

    async def list_tests(
        self,
        product_id: int,
        *,
        known_test_ids: set[int] | None,
        refresh_until_test_id: int | None,
        safety_pages: int,
        per_page: int,
    ) -> TestListing:
        rule = _StopRule(known_test_ids, refresh_until_test_id, safety_pages)
        tests: list[dict] = []
        seen: set[int] = set()
        ids_by_offset: dict[int, int] = {}
        unrecoverable: list[UnrecoverableRange] = []
        pages_fetched = 0

        def consume(page_no: int, page: _Page) -> bool:
            nonlocal pages_fetched
            pages_fetched += 1
            for offset, test in zip(page.offsets, page.tests):
                ids_by_offset[offset] = test["id"]
                # Pages shift when tests arrive mid-walk: the same test can show up twice.
                if test["id"] not in seen:
                    seen.add(test["id"])
                    tests.append(test)
            unrecoverable.extend(page.unrecoverable)
            return page.short or rule.enough(page_no, page)

        reached_end = await self._walk(
            lambda page_no: self._page(product_id, page_no, per_page),
            consume,
            rule.last_page_needed,
        )
        unrecoverable = _with_neighbours(unrecoverable, ids_by_offset)
        self._stats.unrecoverable_ranges.extend(unrecoverable)
        self._logger.debug(
            "listed %d tests of product %s in %d pages", len(tests), product_id, pages_fetched
        )
        return TestListing(tests, unrecoverable, pages_fetched, reached_end)

    async def _walk(
        self,
        fetch: Callable[[int], Awaitable[_Page]],
        consume: Callable[[int, _Page], bool],
        last_page_needed: Callable[[], int | None],
    ) -> bool:
        """Fetch pages 1, 2, ... and consume them in order until told to stop; return True when
        stopped on a short page.

        Pages beyond the next one are speculative: their number doubles up to the maximum (like
        TCP slow start, so one-page products cost one call), never passes a known last page, and
        they are only sent while fewer than the maximum listing pages are in flight overall, so
        products walked side by side share the capacity instead of over-fetching.
        """
        lookahead = 1
        next_page = 1
        page_no = 1
        pending: dict[int, asyncio.Task[_Page]] = {}
        try:
            while True:
                horizon = page_no + lookahead
                last = last_page_needed()
                if last is not None:
                    horizon = min(horizon, last + 1)
                while next_page < horizon and (
                    next_page == page_no or self._pages_in_flight < self._max_lookahead
                ):
                    pending[next_page] = self._start(fetch(next_page))
                    next_page += 1
                page = await pending.pop(page_no)
                if consume(page_no, page):
                    return page.short
                lookahead = min(lookahead * 2, self._max_lookahead)
                page_no += 1
        finally:
            for task in pending.values():
                task.cancel()
            await asyncio.gather(*pending.values(), return_exceptions=True)

    def _start(self, fetching: Awaitable[_Page]) -> asyncio.Task[_Page]:
        self._pages_in_flight += 1
        task = asyncio.ensure_future(fetching)
        task.add_done_callback(self._page_done)
        return task

    def _page_done(self, _task: asyncio.Task[_Page]) -> None:
        self._pages_in_flight -= 1

    async def _page(self, product_id: int, page_no: int, per_page: int) -> _Page:
        first = (page_no - 1) * per_page
        try:
            tests = await self._fetch(product_id, page_no, per_page)
        except (TestIORequestError, TestIOResponseError) as exc:
            if not _recoverable(exc):
                raise
            self._logger.warning(
                "page %d of product %s kept failing (%s): re-reading offsets %d-%d in smaller "
                "pages", page_no, product_id, exc, first, first + per_page - 1,
            )
            return await self._recover(product_id, first, first + per_page, exc)
        return _Page(tests, list(range(first, first + len(tests))), short=len(tests) < per_page)

    async def _recover(self, product_id: int, lo: int, hi: int, first_error: TestIOError) -> _Page:
        """Re-read offsets [lo, hi) with ever smaller pages; report what still fails."""
        found: dict[int, dict] = {}
        end = hi  # first offset known to lie past the end of the listing
        failing: list[tuple[int, int]] = [(lo, hi)]
        last_error: TestIOError = first_error
        size_tried = hi - lo
        for size in (s for s in RECOVERY_PAGE_SIZES if s < hi - lo):
            page_nos = sorted(
                {p for a, b in failing for p in range(a // size + 1, (b - 1) // size + 2)}
            )
            outcomes = await asyncio.gather(
                *(self._fetch(product_id, p, size, self._recovery_attempts) for p in page_nos),
                return_exceptions=True,
            )
            still_failing = []
            for page_no, outcome in zip(page_nos, outcomes):
                start = (page_no - 1) * size
                if isinstance(outcome, TestIORequestError | TestIOResponseError):
                    still_failing.append((max(start, lo), min(start + size, hi)))
                    last_error = outcome
                elif isinstance(outcome, BaseException):
                    raise outcome
                else:
                    found.update(
                        (start + i, test) for i, test in enumerate(outcome) if lo <= start + i < hi
                    )
                    if len(outcome) < size:
                        end = min(end, start + len(outcome))
            failing = [(a, min(b, end)) for a, b in still_failing if a < end]
            size_tried = size
            if not failing:
                break
        status = None if isinstance(last_error, TestIOResponseError) else last_error.status
        unrecoverable = [
            UnrecoverableRange(product_id, a, b - 1, size_tried, status, str(last_error))
            for a, b in _merge(failing)
        ]
        for lost in unrecoverable:
            self._logger.warning(
                "product %s: tests at offsets %d-%d could not be listed even %d per page",
                product_id, lost.first_offset, lost.last_offset, size_tried,
            )
        extent = len(found) + sum(r.size for r in unrecoverable)
        offsets = sorted(found)
        # A page of which nothing could be read ends the walk: past it, nothing tells whether
        # the listing goes on (an endpoint that always fails would otherwise be walked
        # forever). The range has no older neighbour, so every older stored test is kept.
        short = extent < hi - lo or not found
        return _Page([found[o] for o in offsets], offsets, short=short, unrecoverable=unrecoverable)

    async def _fetch(
        self, product_id: int, page_no: int, per_page: int, attempts: int | None = None
    ) -> list[dict]:
        return await self._fetcher.get(
            f"products/{product_id}/exploratory_tests",
            kind="tests_pages",
            envelope="exploratory_tests",
            params={"page": page_no, "per_page": per_page},
            attempts=attempts,
        )


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge half-open offset ranges that touch or overlap."""
    merged: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged
