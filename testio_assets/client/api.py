"""TestIOClient: the Customer API v2 endpoints this project reads, as async methods."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from types import TracebackType
from typing import Any

import httpx

from testio_assets.client.concurrency import gather_or_cancel
from testio_assets.client.config import ClientConfig
from testio_assets.client.errors import TestIOResponseError
from testio_assets.client.fetcher import Fetcher, Sleep
from testio_assets.client.listing import TestLister, TestListing
from testio_assets.client.stats import CallStats

DEFAULT_LOGGER = logging.getLogger("testio_assets.client")


def product_has_sections(product: Mapping[str, Any]) -> bool:
    """The contract's rule: non-empty ``sections``, or more than one ``sections_with_default``
    (then the plain features endpoint answers 422 and features are read per section).

    >>> product_has_sections({"sections": [], "sections_with_default": [{"id": 1}]})
    False
    """
    return bool(product.get("sections")) or len(product.get("sections_with_default") or []) > 1


def product_sections(product: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The product's sections in the API's order; empty for a product without sections."""
    if not product_has_sections(product):
        return []
    return product.get("sections") or product.get("sections_with_default") or []


def product_section_ids(product: Mapping[str, Any]) -> list[int]:
    """Section ids to read features from, sorted; empty for a product without sections."""
    return sorted({section["id"] for section in product_sections(product)})


class TestIOClient:
    """Async client over one connection pool; use as ``async with TestIOClient(config) as c``.

    Every request is bounded by ``config.concurrency``, timed out, retried with backoff and
    counted in :attr:`stats`. The token travels only in the Authorization header.
    """

    __test__ = False  # not a pytest test class despite the name

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        logger: logging.Logger | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._config = config
        self._logger = logger or DEFAULT_LOGGER
        self._stats = CallStats()
        self._fetcher = Fetcher(
            config, stats=self._stats, transport=transport, logger=self._logger,
            sleep=sleep, rng=rng,
        )
        self._lister = TestLister(
            self._fetcher,
            stats=self._stats,
            max_lookahead=config.concurrency,
            recovery_attempts=config.recovery_attempts,
            logger=self._logger,
        )

    def __repr__(self) -> str:
        return f"TestIOClient(base_url={self._config.base_url!r})"

    @property
    def stats(self) -> CallStats:
        return self._stats

    @property
    def config(self) -> ClientConfig:
        return self._config

    async def __aenter__(self) -> TestIOClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._fetcher.aclose()

    async def get_products(self) -> list[dict]:
        return await self._fetcher.get("products", kind="products", envelope="products")

    async def get_features(self, product: dict) -> list[dict]:
        """The product's catalogue, one dict per feature id, with ``product_id`` and the sorted
        ``section_ids`` it appears in (``[]`` for a product without sections)."""
        product_id = product["id"]
        section_ids = product_section_ids(product)
        if not section_ids:
            features = await self._fetcher.get(
                f"products/{product_id}/features", kind="features", envelope="features"
            )
            return [{**f, "product_id": product_id, "section_ids": []} for f in features]

        per_section = await gather_or_cancel(
            self._fetcher.get(
                f"products/{product_id}/sections/{section_id}/features",
                kind="section_features",
                envelope="features",
            )
            for section_id in section_ids
        )
        merged: dict[int, dict] = {}
        sections_of: dict[int, set[int]] = {}
        for section_id, features in zip(section_ids, per_section):
            for feature in features:
                merged.setdefault(feature["id"], feature)
                sections_of.setdefault(feature["id"], set()).add(section_id)
        return [
            {**feature, "product_id": product_id, "section_ids": sorted(sections_of[feature_id])}
            for feature_id, feature in merged.items()
        ]

    async def get_tests(
        self,
        product_id: int,
        *,
        known_test_ids: set[int] | None = None,
        refresh_until_test_id: int | None = None,
        safety_pages: int = 1,
        per_page: int | None = None,
    ) -> TestListing:
        """List a product's tests newest first.

        Full mode (``known_test_ids`` None) walks every page. Incremental mode stops
        ``safety_pages`` pages after the first page holding a known test, but never before the
        page holding ``refresh_until_test_id`` (the oldest test whose status can still change).
        Pages that keep answering 5xx are re-read in smaller pages; offsets that still fail are
        returned in ``unrecoverable`` (and added to :attr:`stats`).
        """
        return await self._lister.list_tests(
            product_id,
            known_test_ids=known_test_ids,
            refresh_until_test_id=refresh_until_test_id,
            safety_pages=safety_pages,
            per_page=per_page or self._config.per_page,
        )

    async def get_test(self, test_id: int) -> dict:
        return await self._fetcher.get(
            f"exploratory_tests/{test_id}",
            kind="test_detail",
            envelope="exploratory_test",
            many=False,
        )

    async def get_bugs(self, test_ids: Sequence[int], batch_size: int | None = None) -> list[dict]:
        """All bugs of the given tests as dicts, unique by bug id.

        Decodes in Python: convenient for a few tests; bulk ingestion decodes
        :meth:`iter_bug_bodies` set-based instead.
        """
        bugs: dict[int, dict] = {}
        async with aclosing(self.iter_bug_bodies(test_ids, batch_size)) as bodies:
            async for body in bodies:
                for bug in json.loads(body)["bugs"]:
                    if not isinstance(bug, dict) or "id" not in bug:
                        raise TestIOResponseError(
                            "the API sent an item without an id in a 'bugs' list", endpoint="bugs"
                        )
                    bugs.setdefault(bug["id"], bug)
        return list(bugs.values())

    async def iter_bug_bodies(
        self, test_ids: Sequence[int], batch_size: int | None = None
    ) -> AsyncIterator[str]:
        """The raw ``{"bugs": [...]}`` body of each batch of the given tests, as batches complete.

        Each body is checked to be that envelope (a malformed one is re-requested); its items
        are left to the caller, who decodes them in bulk, off the event loop. Test ids are
        de-duplicated, so each test's bugs arrive once. Close the iterator
        (``contextlib.aclosing``) when leaving early so pending requests are cancelled.
        """
        batch_size = batch_size or self._config.bug_batch_size
        ids = list(dict.fromkeys(test_ids))
        batches = [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]
        report_every = max(1, len(batches) // 10)
        tasks = [asyncio.ensure_future(self._bug_body(batch)) for batch in batches]
        try:
            for done, next_body in enumerate(asyncio.as_completed(tasks), start=1):
                body = await next_body
                if done % report_every == 0 and done < len(batches):
                    self._logger.info("fetched %d/%d bug batches", done, len(batches))
                yield body
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _bug_body(self, test_ids: list[int]) -> str:
        return await self._fetcher.get_text(
            "bugs",
            kind="bugs",
            envelope="bugs",
            params={"filter_test_cycle_ids": ",".join(map(str, test_ids))},
        )
