"""Test listings: full walks, incremental walks after the clock moves, shifting pages."""

from __future__ import annotations

import math
from datetime import timedelta

import httpx
import pytest
from client_helpers import client_for, run

FROZEN = {"archived", "cancelled"}


def _product_ids(sim) -> list[int]:
    return [p["id"] for p in sim.products_payload()]


async def _list_all(client, product_ids, **kwargs):
    async with client:
        return {pid: await client.get_tests(pid, **kwargs) for pid in product_ids}


def test_full_listing_equals_the_simulator_including_the_last_short_page(sim):
    per_page = 4
    listings = run(_list_all(client_for(sim), _product_ids(sim), per_page=per_page))
    for pid, listing in listings.items():
        expected = sim.tests_payload(pid)
        assert listing.tests == expected
        assert listing.complete and not listing.unrecoverable
        # Every full page, then the short (possibly empty) one that ends the walk.
        assert listing.pages_fetched == len(expected) // per_page + 1
    assert any(len(sim.tests_payload(pid)) % per_page for pid in listings)


def test_one_page_product_costs_one_call(sim):
    pid = _product_ids(sim)[0]
    listing = run(_list_all(client_for(sim), [pid], per_page=100))[pid]
    assert listing.pages_fetched == 1
    assert len([r for r in sim.request_log if "exploratory_tests" in r.path]) == 1


def test_incremental_listing_after_the_clock_moves_finds_new_and_changing_tests(sim):
    per_page = 3
    pids = _product_ids(sim)
    before = run(_list_all(client_for(sim), pids, per_page=per_page))
    sim.advance(timedelta(days=20))

    async def incremental(client):
        async with client:
            results = {}
            for pid in pids:
                known = {t["id"] for t in before[pid].tests}
                open_ids = [t["id"] for t in before[pid].tests if t["status"] not in FROZEN]
                results[pid] = await client.get_tests(
                    pid,
                    known_test_ids=known,
                    refresh_until_test_id=min(open_ids) if open_ids else None,
                    per_page=per_page,
                )
            return results

    after = run(incremental(client_for(sim)))
    new_total = 0
    for pid in pids:
        expected = sim.tests_payload(pid)
        known = {t["id"] for t in before[pid].tests}
        got = {t["id"]: t for t in after[pid].tests}
        new_ids = {t["id"] for t in expected} - known
        new_total += len(new_ids)
        assert new_ids <= got.keys()
        open_ids = [t["id"] for t in before[pid].tests if t["status"] not in FROZEN]
        for test in expected:
            if test["id"] in new_ids or (open_ids and test["id"] >= min(open_ids)):
                assert got[test["id"]] == test  # re-listed with its current status
        assert after[pid].pages_fetched < math.ceil(len(expected) / per_page) + 1 or not known
    assert new_total > 0, "advancing 20 days should bring new tests"


@pytest.mark.parametrize("safety_pages", [0, 1, 2])
def test_incremental_listing_stops_safety_pages_after_the_first_known_test(sim, safety_pages):
    pid = max(_product_ids(sim), key=lambda p: len(sim.tests_payload(p)))
    everything = sim.tests_payload(pid)
    per_page = 2
    assert len(everything) > 5 * per_page
    known = {t["id"] for t in everything[per_page:]}  # only page 1 holds unknown tests
    listing = run(
        _list_all(
            client_for(sim), [pid], known_test_ids=known, safety_pages=safety_pages, per_page=per_page
        )
    )[pid]
    # Page 2 holds the first known test; then exactly `safety_pages` more pages.
    assert listing.pages_fetched == 2 + safety_pages
    assert listing.tests == everything[: (2 + safety_pages) * per_page]
    assert not listing.complete


def test_when_the_first_page_is_known_only_the_safety_pages_are_requested(sim):
    pid = max(_product_ids(sim), key=lambda p: len(sim.tests_payload(p)))
    known = {t["id"] for t in sim.tests_payload(pid)}
    listing = run(_list_all(client_for(sim), [pid], known_test_ids=known, safety_pages=1, per_page=2))[pid]
    assert listing.pages_fetched == 2
    assert len([r for r in sim.request_log if "exploratory_tests" in r.path]) == 2


class _AdvanceAfterFirstPage(httpx.AsyncBaseTransport):
    """Moves the simulator's clock once the first listing page is served, as if tests arrived."""

    def __init__(self, sim, delta: timedelta) -> None:
        self._sim, self._delta, self._inner = sim, delta, sim.transport()
        self._advanced = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if "exploratory_tests" in request.url.path and not self._advanced:
            self._advanced = True
            self._sim.advance(self._delta)
        return response


def test_pages_shifted_by_arriving_tests_yield_each_test_once(sim):
    from client_helpers import fast_config

    from testio_assets.client import TestIOClient

    pid = max(_product_ids(sim), key=lambda p: len(sim.tests_payload(p)))
    before = {t["id"] for t in sim.tests_payload(pid)}
    client = TestIOClient(fast_config(), transport=_AdvanceAfterFirstPage(sim, timedelta(days=20)))
    listing = run(_list_all(client, [pid], per_page=3))[pid]
    ids = [t["id"] for t in listing.tests]
    assert len(ids) == len(set(ids))
    assert before <= set(ids)
