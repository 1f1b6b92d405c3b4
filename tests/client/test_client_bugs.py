"""Bugs by filter_test_cycle_ids batches."""

from __future__ import annotations

import math
from contextlib import aclosing

from client_helpers import client_for, run


def _all_test_ids(sim) -> list[int]:
    return [
        t["id"]
        for p in sim.products_payload()
        for t in sim.tests_payload(p["id"])
    ]


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


def test_bug_batches_stream_every_bug_once_and_can_be_left_early(sim):
    ids = _all_test_ids(sim)

    async def stream(client):
        async with client:
            batches = [batch async for batch in client.iter_bug_batches(ids, batch_size=4)]
            async with aclosing(client.iter_bug_batches(ids, batch_size=4)) as early:
                first = await anext(early)
            return batches, first

    batches, first = run(stream(client_for(sim)))
    assert len(batches) == math.ceil(len(ids) / 4)
    streamed = sorted((bug for batch in batches for bug in batch), key=lambda b: b["id"])
    assert streamed == sorted(sim.bugs_payload(ids), key=lambda b: b["id"])
    assert isinstance(first, list)
