"""The client over real loopback HTTP against the simulator served by uvicorn."""

from __future__ import annotations

import pytest
from client_helpers import TOKEN, fast_config, make_sim, run

from testio_assets.client import TestIOAuthError, TestIOClient, TestIORequestError
from testio_assets.simulator import FaultConfig


async def _catalogue_and_tests(client):
    async with client:
        products = await client.get_products()
        features = {p["id"]: await client.get_features(p) for p in products}
        tests = {p["id"]: (await client.get_tests(p["id"], per_page=5)).tests for p in products}
        bugs = await client.get_bugs([t["id"] for ts in tests.values() for t in ts])
        return products, features, tests, bugs


def test_served_simulator_gives_the_same_data_as_in_process():
    sim = make_sim(FaultConfig(transient_error_probability=0.1, rate_limit_probability=0.1), token=TOKEN)
    with sim.serve() as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        client = TestIOClient(fast_config(base_url=base_url, token=TOKEN))
        products, features, tests, bugs = run(_catalogue_and_tests(client))
    assert products == sim.products_payload()
    for pid, listing in tests.items():
        assert listing == sim.tests_payload(pid)
        assert all(f["product_id"] == pid for f in features[pid])
    assert sorted(b["id"] for b in bugs) == sorted(b["id"] for b in sim.bugs_payload())
    assert client.stats.retries > 0


def test_served_timeouts_are_retried_then_typed():
    # The server's delay is short so that shutting it down does not wait long for stragglers.
    sim = make_sim(FaultConfig(timeout_probability=0.97, timeout_delay_s=0.6))
    with sim.serve() as base_url:
        slow = TestIOClient(fast_config(base_url=base_url, timeout_s=0.2, max_attempts=2))
        with pytest.raises(TestIORequestError) as caught:
            run(_catalogue_and_tests(slow))
    assert caught.value.status is None and slow.stats.timeouts == 2


def test_served_auth_failure_is_typed_and_redacted():
    sim = make_sim(token=TOKEN)
    with sim.serve() as base_url:
        wrong = TestIOClient(fast_config(base_url=base_url, token="not-" + TOKEN))
        with pytest.raises(TestIOAuthError) as caught:
            run(_catalogue_and_tests(wrong))
    assert caught.value.status == 401 and TOKEN not in str(caught.value)
