"""Listing pages that time out or answer a malformed 200 are shrunk like 500s; retries honour
Retry-After within a per-request time budget instead of a fixed number of attempts."""

from __future__ import annotations

import asyncio

import pytest
from client_helpers import RecordingSleep, client_for, make_sim, run

from testio_assets.client import TestIORequestError
from testio_assets.simulator import FaultConfig


def _largest_product(sim) -> tuple[int, list[dict]]:
    pid = max((p["id"] for p in sim.products_payload()), key=lambda p: len(sim.tests_payload(p)))
    return pid, sim.tests_payload(pid)


@pytest.mark.parametrize("fault", ["timeout", "malformed"])
def test_a_page_that_always_times_out_or_is_malformed_is_recovered_like_a_500(fault):
    pid, expected = _largest_product(make_sim())
    offset = len(expected) // 2
    poison = expected[offset]["id"]
    sim = make_sim(FaultConfig(poison_test_ids={poison}, poison_fault=fault))

    async def listing(client):
        async with client:
            return await client.get_tests(pid, per_page=25)

    result = run(listing(client_for(sim, max_attempts=2, timeout_s=0.2)))
    assert result.tests == [t for t in expected if t["id"] != poison]
    [lost] = result.unrecoverable
    assert (lost.first_offset, lost.last_offset, lost.per_page_tried) == (offset, offset, 1)
    assert lost.status is None  # no HTTP status to blame: a timeout or a broken body
    # The tests listed on either side place the range by id, whatever later arrivals shift.
    assert (lost.newer_test_id, lost.older_test_id) == (expected[offset - 1]["id"], expected[offset + 1]["id"])
    assert lost.holds(poison) and not lost.holds(expected[offset - 1]["id"])


async def _products(client):
    async with client:
        return await client.get_products(), client.stats


def test_a_burst_of_429s_longer_than_the_attempts_is_waited_out():
    sim = make_sim(FaultConfig(rate_limit_probability=0.9, retry_after_s=0))
    sleep = RecordingSleep()

    found, stats = run(_products(client_for(sim, sleep=sleep, max_attempts=2, retry_after_max_s=None)))
    assert found == sim.products_payload()
    assert stats.rate_limited > 2  # more 429s than max_attempts allows other failures


def test_retry_after_is_obeyed_exactly_within_the_budget():
    sim = make_sim(FaultConfig(rate_limit_probability=0.5, retry_after_s=7))
    sleep = RecordingSleep()

    _, stats = run(_products(client_for(sim, sleep=sleep, retry_after_max_s=None, retry_budget_s=60)))
    assert stats.rate_limited > 0 and sleep.delays.count(7.0) == stats.rate_limited


def test_a_wait_past_the_budget_fails_at_once_saying_why():
    sim = make_sim(FaultConfig(rate_limit_probability=0.99, retry_after_s=600))
    sleep = RecordingSleep()

    with pytest.raises(TestIORequestError) as caught:
        run(_products(client_for(sim, sleep=sleep, retry_after_max_s=None, retry_budget_s=120)))
    message = str(caught.value)
    assert caught.value.status == 429 and not sleep.delays
    assert "600 s more as Retry-After asked" in message and "retry budget of 120 s" in message
    assert "lower the concurrency or raise retry_budget_s" in message


def _within(coro, seconds: float = 60):
    """Run ``coro``; a regression that hangs fails here instead of hanging the suite."""
    async def bounded():
        return await asyncio.wait_for(coro, seconds)

    return run(bounded())


def test_an_endpoint_that_never_answers_times_out_in_process():
    sim = make_sim(FaultConfig(hang_endpoints={"bugs"}))
    client = client_for(sim, max_attempts=2, timeout_s=0.2)

    async def bugs():
        async with client:
            return await client.get_bugs([1, 2, 3])

    with pytest.raises(TestIORequestError) as caught:
        _within(bugs())
    assert caught.value.timed_out and client.stats.timeouts == 2


def test_a_listing_of_which_nothing_can_be_read_ends_with_one_open_range():
    sim = make_sim(FaultConfig(hang_endpoints={"exploratory_tests"}))
    pid = sim.products_payload()[0]["id"]

    async def listing(client):
        async with client:
            return await client.get_tests(pid, per_page=5)

    result = _within(listing(client_for(sim, max_attempts=1, recovery_attempts=1, timeout_s=0.05)))
    assert result.tests == []
    [lost] = result.unrecoverable
    assert (lost.first_offset, lost.last_offset, lost.older_test_id, lost.newer_test_id) == (0, 4, None, None)
    assert lost.holds(1) and lost.holds(10**9)  # every stored test of the product is kept
