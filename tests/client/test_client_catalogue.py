"""Products and section-aware features, read from the simulator in-process."""

from __future__ import annotations

from client_helpers import client_for, run

from testio_assets.client import product_section_ids


async def _catalogue(client):
    async with client:
        products = await client.get_products()
        features = {p["id"]: await client.get_features(p) for p in products}
        return products, features, client.stats


def test_products_equal_the_simulator_payload(sim):
    products, _, stats = run(_catalogue(client_for(sim)))
    assert products == sim.products_payload()
    assert stats.calls_by_kind["products"] == 1


def test_plain_product_features_come_from_one_call_with_no_sections(sim):
    products, features, _ = run(_catalogue(client_for(sim)))
    plain = [p for p in products if not product_section_ids(p)]
    assert plain, "the tiny customer should have a product without sections"
    for product in plain:
        expected = sim.features_payload(product["id"])
        got = features[product["id"]]
        assert [{k: v for k, v in f.items() if k not in ("product_id", "section_ids")} for f in got] == expected
        assert all(f["section_ids"] == [] and f["product_id"] == product["id"] for f in got)


def test_sectioned_product_features_are_deduplicated_with_their_sections(sim):
    products, features, stats = run(_catalogue(client_for(sim)))
    sectioned = [p for p in products if product_section_ids(p)]
    assert sectioned, "the tiny customer should have a sectioned product"
    shared_seen = False
    for product in sectioned:
        pid = product["id"]
        expected_sections: dict[int, list[int]] = {}
        expected_payload: dict[int, dict] = {}
        for sid in product_section_ids(product):
            for feature in sim.section_features_payload(pid, sid):
                expected_sections.setdefault(feature["id"], []).append(sid)
                expected_payload[feature["id"]] = feature
        got = features[pid]
        assert len(got) == len({f["id"] for f in got}), "feature ids must be unique"
        assert {f["id"]: f["section_ids"] for f in got} == {
            fid: sorted(sids) for fid, sids in expected_sections.items()
        }
        for feature in got:
            assert feature["product_id"] == pid
            assert {k: v for k, v in feature.items() if k not in ("product_id", "section_ids")} == (
                expected_payload[feature["id"]]
            )
        shared_seen |= any(len(f["section_ids"]) > 1 for f in got)
    assert shared_seen, "some feature should be shared between sections"
    assert stats.calls_by_kind["section_features"] == sum(len(product_section_ids(p)) for p in sectioned)


def test_sectioned_products_never_call_the_plain_features_endpoint(sim):
    run(_catalogue(client_for(sim)))
    assert not [r for r in sim.request_log if r.status == 422]
