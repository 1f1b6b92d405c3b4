"""Bugs by filter_test_cycle_ids batches."""

from __future__ import annotations

import math

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
