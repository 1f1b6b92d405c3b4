"""Injected faults: retried transparently, Retry-After obeyed, poison pages recovered."""

from __future__ import annotations

import pytest
from client_helpers import RecordingSleep, client_for, make_sim, run

from testio_assets.client import TestIORequestError, TestIOResponseError
from testio_assets.simulator import FaultConfig


async def _everything(client, per_page=4):
    """Products, features, every test and every bug, as plain comparable values."""
    async with client:
        products = await client.get_products()
        features = [f for p in products for f in await client.get_features(p)]
        tests = {p["id"]: (await client.get_tests(p["id"], per_page=per_page)).tests for p in products}
        bugs = await client.get_bugs([t["id"] for ts in tests.values() for t in ts], batch_size=5)
        return {
            "products": products,
            "features": sorted(features, key=lambda f: f["id"]),
            "tests": tests,
            "bugs": sorted(bugs, key=lambda b: b["id"]),
        }, client.stats


def test_transient_faults_leave_the_results_unchanged_and_show_in_the_stats(sim):
    clean, clean_stats = run(_everything(client_for(sim)))
    assert clean_stats.retries == 0
    faults = FaultConfig(
        rate_limit_probability=0.1,
        transient_error_probability=0.1,
        timeout_probability=0.05,
        timeout_delay_s=1.0,
        malformed_probability=0.1,
    )
    faulty = make_sim(faults)
    result, stats = run(_everything(client_for(faulty, timeout_s=0.3)))
    assert result == clean
    statuses = [r.status for r in faulty.request_log]
    assert stats.retries > 0 and stats.timeouts > 0
    assert stats.rate_limited == statuses.count(429) > 0
    assert stats.total_calls > clean_stats.total_calls


def test_retry_after_in_seconds_sets_the_wait():
    sim = make_sim(FaultConfig(rate_limit_probability=0.5, retry_after_s=3))
    sleep = RecordingSleep()
    _, stats = run(_everything(client_for(sim, sleep=sleep, retry_after_max_s=120)))
    waits_after_429 = [d for d in sleep.delays if d == 3.0]
    assert len(waits_after_429) == stats.rate_limited > 0
    # Every other wait is jittered backoff, well below what the server asked for.
    assert all(d <= 0.005 for d in sleep.delays if d != 3.0)


def test_retry_after_as_http_date_sets_the_wait():
    sim = make_sim(FaultConfig(rate_limit_probability=0.5, retry_after_s=3, retry_after_http_date=True))
    sleep = RecordingSleep()
    _, stats = run(_everything(client_for(sim, sleep=sleep, retry_after_max_s=120)))
    # An HTTP date has whole seconds, so the wait is between 2 and 3 seconds.
    assert len([d for d in sleep.delays if 1.0 < d <= 3.0]) == stats.rate_limited > 0


def test_retry_after_is_capped_by_configuration():
    sim = make_sim(FaultConfig(rate_limit_probability=0.5, retry_after_s=3600))
    sleep = RecordingSleep()
    run(_everything(client_for(sim, sleep=sleep, retry_after_max_s=0.002)))
    assert sleep.delays and max(sleep.delays) <= 0.005


async def _products(client):
    async with client:
        return await client.get_products()


def _largest_product(sim) -> tuple[int, list[dict]]:
    pid = max(
        (p["id"] for p in sim.products_payload()),
        key=lambda p: len(sim.tests_payload(p)),
    )
    return pid, sim.tests_payload(pid)


@pytest.mark.parametrize("poison_count", [1, 2])
def test_persistent_page_500_is_recovered_down_to_single_tests(poison_count):
    pid, expected = _largest_product(make_sim())
    offset = len(expected) // 2
    poison = [t["id"] for t in expected[offset : offset + poison_count]]
    sim = make_sim(FaultConfig(poison_test_ids=frozenset(poison)))

    async def listing(client):
        async with client:
            return await client.get_tests(pid, per_page=25), client.stats

    result, stats = run(listing(client_for(sim, max_attempts=3)))
    assert result.tests == [t for t in expected if t["id"] not in poison]
    assert result.complete
    [lost] = result.unrecoverable
    assert (lost.product_id, lost.first_offset, lost.last_offset) == (
        pid, offset, offset + poison_count - 1
    )
    assert (lost.per_page_tried, lost.status) == (1, 500)
    assert stats.unrecoverable_ranges == [lost]
    assert stats.as_metadata()["unrecoverable_tests"] == poison_count


def test_a_body_that_stays_malformed_raises_a_response_error_naming_the_endpoint():
    sim = make_sim(FaultConfig(malformed_probability=0.97))

    with pytest.raises(TestIOResponseError) as caught:
        run(_products(client_for(sim, max_attempts=2)))
    assert "products" in str(caught.value) and "2 attempt" in str(caught.value)


def test_timeouts_are_enforced_on_the_in_process_transport():
    sim = make_sim(FaultConfig(timeout_probability=0.97, timeout_delay_s=5.0))

    client = client_for(sim, max_attempts=2, timeout_s=0.2)
    with pytest.raises(TestIORequestError) as caught:
        run(_products(client))
    assert caught.value.status is None and "0.2s" in str(caught.value)
    assert client.stats.timeouts == 2


def test_persistent_5xx_raises_a_request_error_with_the_status():
    sim = make_sim(FaultConfig(transient_error_probability=0.97))

    with pytest.raises(TestIORequestError) as caught:
        run(_products(client_for(sim, max_attempts=2)))
    assert caught.value.status in (500, 502, 503)
