"""The HTTP surface: envelopes, pagination, errors and auth, over the in-process transport."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from testio_assets.simulator import Simulator, SimulatorConfig

BASE_URLS = ("http://testio-simulator", "http://testio-simulator/customer/v2")


def get(sim: Simulator, path: str, base_url: str = BASE_URLS[1], headers: dict | None = None, **params) -> httpx.Response:
    async def fetch() -> httpx.Response:
        async with httpx.AsyncClient(transport=sim.transport(), base_url=base_url, headers=headers) as client:
            return await client.get(path, params=params)

    return asyncio.run(fetch())


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(SimulatorConfig.preset("tiny", seed=7))


def sectioned(sim):
    return next(p for p in sim.products_payload() if p["sections"])


def plain(sim):
    return next(p for p in sim.products_payload() if not p["sections"])


@pytest.mark.parametrize("base_url", BASE_URLS)
def test_products_envelope_at_both_mount_points(sim, base_url):
    response = get(sim, "products", base_url=base_url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"products": sim.products_payload()}


def test_single_product_and_test_envelopes(sim):
    product = sim.products_payload()[0]
    assert get(sim, f"products/{product['id']}").json() == {"product": product}
    test = sim.tests_payload()[3]
    assert get(sim, f"exploratory_tests/{test['id']}").json() == {"exploratory_test": test}


def test_features_plain_sectioned_and_422(sim):
    p = plain(sim)
    assert get(sim, f"products/{p['id']}/features").json() == {"features": sim.features_payload(p["id"])}
    default = get(sim, f"products/{p['id']}/sections/{p['default_section_id']}/features").json()
    assert default == {"features": sim.features_payload(p["id"])}
    assert get(sim, f"products/{p['id']}/sections/1/features").status_code == 404
    s = sectioned(sim)
    response = get(sim, f"products/{s['id']}/features")
    assert response.status_code == 422 and "error" in response.json()
    section = s["sections"][0]["id"]
    assert get(sim, f"products/{s['id']}/sections/{section}/features").json() == {
        "features": sim.section_features_payload(s["id"], section)
    }


def test_user_stories_section_rule(sim):
    s = sectioned(sim)
    assert get(sim, f"products/{s['id']}/user_stories").status_code == 400
    stories = get(sim, f"products/{s['id']}/user_stories", section_id=s["sections"][0]["id"]).json()["user_stories"]
    assert stories and set(stories[0]) == {"id", "path", "title", "feature_id"}
    assert "user_stories" in get(sim, f"products/{plain(sim)['id']}/user_stories").json()


def test_unknown_ids_answer_404_json(sim):
    for path in ("products/1", "products/1/exploratory_tests", "exploratory_tests/1", "no/such/path"):
        response = get(sim, path)
        assert response.status_code == 404 and "error" in response.json()


def test_pages_newest_first_until_a_short_page(sim):
    product = max(sim.products_payload(), key=lambda p: len(sim.tests_payload(p["id"])))
    expected = sim.tests_payload(product["id"])
    assert len(expected) > 14
    collected, page = [], 1
    while True:
        body = get(sim, f"products/{product['id']}/exploratory_tests", page=page, per_page=7).json()
        assert set(body) == {"exploratory_tests"}
        collected += body["exploratory_tests"]
        if len(body["exploratory_tests"]) < 7:
            break
        page += 1
    assert collected == expected
    assert [t["id"] for t in collected] == sorted((t["id"] for t in collected), reverse=True)
    first = get(sim, f"products/{product['id']}/exploratory_tests", page=1).json()["exploratory_tests"]
    assert first == expected[:25]
    assert get(sim, f"products/{product['id']}/exploratory_tests", page=99).json() == {"exploratory_tests": []}
    assert get(sim, f"products/{product['id']}/exploratory_tests", page=0).status_code == 400


def test_without_page_only_the_latest_150_tests():
    sim = Simulator(SimulatorConfig(products=1, tests=170, bugs_per_test=0))
    product_id = sim.products_payload()[0]["id"]
    body = get(sim, f"products/{product_id}/exploratory_tests").json()
    assert body["exploratory_tests"] == sim.tests_payload(product_id)[:150]


def test_bugs_by_test_cycle_ids(sim):
    ids = [t["id"] for t in sim.tests_payload()[:15]]
    body = get(sim, "bugs", filter_test_cycle_ids=",".join(map(str, ids + [1, 2]))).json()
    assert body == {"bugs": sim.bugs_payload(ids)}
    assert body["bugs"]
    assert get(sim, "bugs", filter_test_cycle_ids="1,2").json() == {"bugs": []}
    assert get(sim, "bugs").status_code == 400


def test_request_log_records_relative_paths(sim):
    sim.reset_request_log()
    get(sim, "bugs", filter_test_cycle_ids="1,2")
    get(sim, "products", base_url=BASE_URLS[0])
    assert [(r.method, r.path, r.query, r.status) for r in sim.request_log] == [
        ("GET", "bugs", {"filter_test_cycle_ids": "1,2"}, 200),
        ("GET", "products", {}, 200),
    ]


def test_token_required_and_forbidden_token():
    sim = Simulator(SimulatorConfig.preset("tiny"), token="abc", forbidden_token="nope")
    assert get(sim, "products").status_code == 401
    wrong = get(sim, "products", headers={"Authorization": "Bearer abc"})
    assert wrong.status_code == 401 and "error" in wrong.json()
    assert get(sim, "products", headers={"Authorization": "Token abc"}).status_code == 200
    assert get(sim, "products", headers={"Authorization": "Token nope"}).status_code == 403


def test_no_token_accepts_any_header(sim):
    assert get(sim, "products", headers={"Authorization": "Token whatever"}).status_code == 200
    assert get(sim, "products").status_code == 200
