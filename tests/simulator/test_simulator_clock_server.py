"""The movable clock (new tests, progressing statuses, frozen tests) and the real uvicorn server."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from testio_assets.simulator import DEFAULT_START, Simulator, SimulatorConfig
from testio_assets.simulator.__main__ import parse_args

FROZEN = ("archived", "cancelled")


def get_json(sim: Simulator, path: str, **params) -> dict:
    async def fetch() -> dict:
        async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as client:
            response = await client.get(path, params=params)
            assert response.status_code == 200
            return response.json()

    return asyncio.run(fetch())


def test_default_clock_is_a_fixed_aware_anchor():
    sim = Simulator(SimulatorConfig.preset("tiny"))
    assert sim.now == DEFAULT_START and sim.now.tzinfo is not None
    with pytest.raises(ValueError):
        sim.advance(timedelta(hours=-1))


def test_advance_adds_new_tests_freezes_old_ones_and_moves_bugs():
    sim = Simulator(SimulatorConfig.preset("tiny"))
    before_tests = {t["id"]: t for t in sim.tests_payload()}
    before_bugs = {b["id"]: b for b in sim.bugs_payload()}
    served_before = get_json(sim, "bugs", filter_test_cycle_ids=",".join(map(str, before_tests)))
    sim.advance(timedelta(days=30))
    after = sim.tests_payload()
    new = [t for t in after if t["id"] not in before_tests]
    assert new and after[: len(new)] == new  # new tests come first (newest first)
    for test in after:
        old = before_tests.get(test["id"])
        if old is not None and old["status"] in FROZEN:
            assert test == old
    assert any(t != before_tests[t["id"]] for t in after if t["id"] in before_tests)

    after_bugs = {b["id"]: b for b in sim.bugs_payload()}
    frozen_ids = {i for i, t in before_tests.items() if t["status"] in FROZEN}
    for bug_id, bug in before_bugs.items():
        if bug["test"]["id"] in frozen_ids:
            assert after_bugs[bug_id] == bug
    changed = [i for i, b in before_bugs.items() if after_bugs[i]["status"] != b["status"]]
    assert changed
    assert {before_tests[before_bugs[i]["test"]["id"]]["status"] for i in changed} <= {"running", "locked", "customer_finalized"}
    # The served responses follow the clock (no stale cache).
    served_after = get_json(sim, "bugs", filter_test_cycle_ids=",".join(map(str, before_tests)))
    assert served_after != served_before
    assert served_after == {"bugs": sim.bugs_payload(list(before_tests))}
    product_id = after[0]["product"]["id"]
    assert get_json(sim, f"products/{product_id}/exploratory_tests", page=1, per_page=5) == {
        "exploratory_tests": sim.tests_payload(product_id)[:5]
    }


def test_state_depends_only_on_now():
    stepwise = Simulator(SimulatorConfig.preset("tiny"))
    for _ in range(3):
        stepwise.advance(timedelta(days=2))
    direct = Simulator(SimulatorConfig.preset("tiny"))
    direct.advance(timedelta(days=6))
    assert stepwise.tests_payload() == direct.tests_payload()
    assert stepwise.bugs_payload() == direct.bugs_payload()


def test_realtime_clock_moves_from_start():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    sim = Simulator(SimulatorConfig.preset("tiny"), start=start, realtime=True)
    first = sim.now
    assert first >= start and sim.now >= first


def test_uvicorn_server_answers_on_loopback_and_stops():
    sim = Simulator(SimulatorConfig.preset("tiny"), token="abc")
    with sim.serve(host="127.0.0.1", port=0) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=base_url + "/customer/v2", headers={"Authorization": "Token abc"}) as client:
            assert client.get("products").json() == {"products": sim.products_payload()}
        assert httpx.get(base_url + "/products").status_code == 401
    with pytest.raises(httpx.ConnectError):
        httpx.get(base_url + "/products", timeout=2)
    with pytest.raises(ValueError):
        with sim.serve(host="0.0.0.0"):
            pass


def test_command_line_refuses_other_hosts_than_loopback():
    assert parse_args(["--scale", "tiny", "--port", "0"]).host == "127.0.0.1"
    with pytest.raises(SystemExit):
        parse_args(["--host", "0.0.0.0"])


def test_realtime_without_start_is_the_same_customer_in_every_process():
    first = Simulator(SimulatorConfig.preset("tiny"), realtime=True)
    second = Simulator(SimulatorConfig.preset("tiny"), realtime=True)
    assert first.clock.start == second.clock.start
    assert first.clock.start.day == 1 and first.clock.start.hour == 0
    # "now" is the wall clock, not the anchor.
    assert abs(first.now.timestamp() - datetime.now(timezone.utc).timestamp()) < 60
    ids = lambda sim: [t["id"] for t in sim.tests_payload()]
    assert ids(first) == ids(second)
