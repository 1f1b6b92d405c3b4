"""Bugs by filter_test_cycle_ids batches."""

from __future__ import annotations

import json
import math
from contextlib import aclosing

import httpx
import pytest
from client_helpers import client_for, fast_config, make_sim, run

from testio_assets.client import TestIOClient, TestIOResponseError
from testio_assets.client.body_check import envelope_problem
from testio_assets.simulator import FaultConfig


def _all_test_ids(sim) -> list[int]:
    return [
        t["id"]
        for p in sim.products_payload()
        for t in sim.tests_payload(p["id"])
    ]


def _by_id(bugs: list[dict]) -> list[dict]:
    return sorted(bugs, key=lambda b: b["id"])


async def _bugs(client, ids, **kwargs):
    async with client:
        return await client.get_bugs(ids, **kwargs), client.stats


def test_bugs_equal_the_simulator_payload_in_batches(sim):
    ids = _all_test_ids(sim)
    bugs, stats = run(_bugs(client_for(sim), ids, batch_size=7))
    expected = sim.bugs_payload(ids)
    assert expected, "the tiny customer should have bugs"
    assert sorted(bugs, key=lambda b: b["id"]) == sorted(expected, key=lambda b: b["id"])
    assert stats.calls_by_kind["bugs"] == math.ceil(len(ids) / 7)
    sent = [r.query["filter_test_cycle_ids"] for r in sim.request_log if r.path.endswith("bugs")]
    assert sorted(int(i) for batch in sent for i in batch.split(",")) == sorted(ids)


def test_repeated_test_ids_are_requested_once_and_no_ids_mean_no_call(sim):
    ids = _all_test_ids(sim)[:5]
    bugs, stats = run(_bugs(client_for(sim), ids + ids))
    assert len(bugs) == len({b["id"] for b in bugs})
    assert stats.calls_by_kind["bugs"] == 1
    assert run(_bugs(client_for(sim), []))[0] == []


def test_bug_bodies_stream_every_bug_once_and_can_be_left_early(sim):
    ids = _all_test_ids(sim)

    async def stream(client):
        async with client:
            bodies = [body async for body in client.iter_bug_bodies(ids, batch_size=4)]
            async with aclosing(client.iter_bug_bodies(ids, batch_size=4)) as early:
                first = await anext(early)
            return bodies, first

    bodies, first = run(stream(client_for(sim)))
    assert len(bodies) == math.ceil(len(ids) / 4)
    streamed = [bug for body in bodies for bug in json.loads(body)["bugs"]]
    assert _by_id(streamed) == _by_id(sim.bugs_payload(ids))
    assert isinstance(json.loads(first)["bugs"], list)


def test_malformed_bug_bodies_are_re_requested_until_an_envelope_arrives(sim):
    ids = _all_test_ids(sim)
    faulty = make_sim(FaultConfig(malformed_probability=0.4))
    bugs, stats = run(_bugs(client_for(faulty), ids, batch_size=7))
    assert _by_id(bugs) == _by_id(sim.bugs_payload(ids))
    assert stats.retries > 0
    assert stats.calls_by_kind["bugs"] == math.ceil(len(ids) / 7) + stats.retries


def test_a_bug_body_that_stays_malformed_fails_naming_the_request(sim):
    faulty = make_sim(FaultConfig(malformed_probability=0.97))
    with pytest.raises(TestIOResponseError) as caught:
        run(_bugs(client_for(faulty, max_attempts=2), _all_test_ids(sim)[:3]))
    message = str(caught.value)
    assert "bugs?filter_test_cycle_ids=" in message and "2 attempt" in message
    assert "malformed body" in message


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('{"bugs": [{"id": 1}]}', None),
        ('{"bugs": []}', None),
        ("<html><body>Service unavailable</body></html>", "not JSON"),
        ('{"bugs": [', "not JSON"),
        ("[]", "expected a JSON object, got array"),
        ('{"data": null}', "missing key 'bugs'"),
        ('{"bugs": {"id": 1}}', "'bugs' should hold a list, got object"),
    ],
)
def test_envelope_check_names_what_is_wrong(body, problem):
    assert envelope_problem(body, "bugs") == problem


def test_a_bug_without_an_id_fails_clearly_when_decoded_as_dicts():
    class NoIds(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            return httpx.Response(200, json={"bugs": [{"title": "no id"}]})

    client = TestIOClient(fast_config(), transport=NoIds())
    with pytest.raises(TestIOResponseError, match="without an id"):
        run(_bugs(client, [1, 2]))
