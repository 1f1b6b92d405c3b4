"""Fault injection: latency, 429, transient 5xx, timeouts, malformed bodies, poison pages."""

from __future__ import annotations

import asyncio
import json
from email.utils import parsedate_to_datetime

import httpx
import pytest

from testio_assets.simulator import FaultConfig, Simulator, SimulatorConfig

BASE_URL = "http://testio-simulator/customer/v2"


def fetch_many(sim: Simulator, count: int, path: str = "products", timeout: float = 5.0, **params) -> list:
    """Responses (or the timeout exception) of ``count`` sequential requests."""

    async def run() -> list:
        results = []
        async with httpx.AsyncClient(transport=sim.transport(), base_url=BASE_URL, timeout=timeout) as client:
            for _ in range(count):
                try:
                    results.append(await client.get(path, params=params))
                except httpx.TimeoutException as error:
                    results.append(error)
        return results

    return asyncio.run(run())


def statuses(results: list) -> list:
    return [r.status_code if isinstance(r, httpx.Response) else "timeout" for r in results]


def make(**faults) -> Simulator:
    return Simulator(SimulatorConfig.preset("tiny"), faults=FaultConfig(**faults))


def test_fault_probabilities_are_validated():
    with pytest.raises(ValueError):
        FaultConfig(rate_limit_probability=0.6, transient_error_probability=0.4)
    with pytest.raises(ValueError):
        FaultConfig(latency_s=-1)


def test_latency_delays_beyond_a_short_client_timeout():
    sim = make(latency_s=0.3)
    assert statuses(fetch_many(sim, 1, timeout=0.05)) == ["timeout"]
    assert statuses(fetch_many(sim, 1)) == [200]


def test_rate_limit_with_retry_after_seconds_and_http_date():
    results = fetch_many(make(rate_limit_probability=0.5, retry_after_s=0), 20)
    limited = [r for r in results if r.status_code == 429]
    assert limited and len(limited) < 20
    assert {r.headers["Retry-After"] for r in limited} == {"0"}
    dated = [r for r in fetch_many(make(rate_limit_probability=0.9, retry_after_http_date=True), 5) if r.status_code == 429]
    assert dated and parsedate_to_datetime(dated[0].headers["Retry-After"]).tzinfo is not None


def test_transient_errors_are_independent_per_attempt():
    results = statuses(fetch_many(make(transient_error_probability=0.5), 30))
    assert set(results) <= {200, 500, 502, 503}
    assert 200 in results and len(set(results) - {200}) >= 2


def test_timeouts_hit_some_attempts_only():
    results = statuses(fetch_many(make(timeout_probability=0.5, timeout_delay_s=2.0), 8, timeout=0.1))
    assert "timeout" in results and 200 in results


def test_malformed_bodies_of_every_kind():
    results = fetch_many(make(malformed_probability=0.9), 30)
    kinds = set()
    for response in results:
        assert response.status_code == 200
        try:
            body = json.loads(response.text)
        except ValueError:
            kinds.add("not json")
            continue
        if not isinstance(body, dict):
            kinds.add("not an object")
        elif "products" not in body:
            kinds.add("no envelope")
    assert kinds == {"not json", "not an object", "no envelope"}


def test_faults_are_deterministic_and_toggle_at_runtime():
    config = FaultConfig(rate_limit_probability=0.2, transient_error_probability=0.3, malformed_probability=0.1)
    first = statuses(fetch_many(make(**vars(config)), 25))
    assert statuses(fetch_many(make(**vars(config)), 25)) == first
    sim = make(**vars(config))
    sim.faults = FaultConfig()
    assert set(statuses(fetch_many(sim, 10))) == {200}
    sim.faults = config
    assert statuses(fetch_many(sim, 25)) == first


def test_poison_pages_fail_at_every_size_and_the_rest_is_recoverable():
    sim = Simulator(SimulatorConfig.preset("tiny"))
    product = max(sim.products_payload(), key=lambda p: len(sim.tests_payload(p["id"])))
    expected = sim.tests_payload(product["id"])
    [poison] = sim.pick_test_ids(1, product_id=product["id"])
    sim.faults = FaultConfig(poison_test_ids=frozenset({poison}))
    position = [t["id"] for t in expected].index(poison)
    path = f"products/{product['id']}/exploratory_tests"
    recovered = []
    for per_page in (25, 10, 5, 2, 1):
        poison_page = position // per_page + 1
        assert statuses(fetch_many(sim, 2, path, page=poison_page, per_page=per_page)) == [500, 500]
        neighbour = poison_page + 1 if poison_page == 1 else poison_page - 1
        assert statuses(fetch_many(sim, 1, path, page=neighbour, per_page=per_page)) == [200]
    for page in range(1, len(expected) + 2):
        [response] = fetch_many(sim, 1, path, page=page, per_page=1)
        if response.status_code == 200:
            recovered += response.json()["exploratory_tests"]
    assert recovered == [t for t in expected if t["id"] != poison]
    assert statuses(fetch_many(sim, 1, f"exploratory_tests/{poison}")) == [200]


@pytest.mark.parametrize(
    ("endpoint", "path", "params", "kind", "body"),
    [
        ("products", "products", {}, "empty", {"products": []}),
        ("bugs", "bugs", {"filter_test_cycle_ids": "1"}, "stub", {"bugs": [{"id": 999999}]}),
        ("exploratory_tests", "products/{pid}/exploratory_tests", {"page": "1"}, "stub",
         {"exploratory_tests": [{"id": 999999}]}),
        ("exploratory_test", "exploratory_tests/{tid}", {}, "empty", {"exploratory_test": {}}),
    ],
)
def test_wrong_bodies_are_well_formed_envelopes_served_over_http(endpoint, path, params, kind, body):
    sim = make(wrong_bodies={endpoint: kind})
    pid = sim.products_payload()[0]["id"]
    tid = sim.tests_payload(pid)[0]["id"]
    with sim.serve() as base_url:
        response = httpx.get(f"{base_url}/customer/v2/{path.format(pid=pid, tid=tid)}", params=params)
        other = httpx.get(f"{base_url}/customer/v2/products/{pid}/features"
                          if endpoint != "products" else f"{base_url}/customer/v2/exploratory_tests/{tid}")
    assert response.status_code == 200 and response.json() == body
    assert other.status_code in (200, 422) and other.json() != body  # other endpoints unaffected


def test_unknown_endpoints_and_bodies_are_refused():
    with pytest.raises(ValueError, match="unknown endpoint"):
        FaultConfig(hang_endpoints={"bug"})
    with pytest.raises(ValueError, match="unknown wrong body"):
        FaultConfig(wrong_bodies={"bugs": "nonsense"})


def test_a_hanging_endpoint_never_answers_until_the_fault_is_lifted():
    sim = make(hang_endpoints={"bugs"})
    with sim.serve() as base_url:
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{base_url}/bugs", params={"filter_test_cycle_ids": "1"}, timeout=0.3)
        assert httpx.get(f"{base_url}/products").status_code == 200

        async def lift_while_waiting() -> httpx.Response:
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
                waiting = asyncio.ensure_future(client.get("bugs", params={"filter_test_cycle_ids": "1"}))
                while sim.hung_requests < 2:
                    await asyncio.sleep(0.01)
                assert not waiting.done()
                sim.faults = FaultConfig()
                return await waiting

        assert asyncio.run(lift_while_waiting()).status_code == 200
    assert sim.hung_requests == 2
