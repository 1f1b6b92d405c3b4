"""The synthetic customer's data: determinism, shapes and the API's awkward parts."""

from __future__ import annotations

import collections

import pytest

from testio_assets.simulator import REJECTION_COMMENTS, Simulator, SimulatorConfig
from testio_assets.simulator.vocabulary import BUG_STATUSES, PRODUCT_TYPES, SEVERITIES, TEST_STATUSES, TESTING_TYPES
from testio_assets.warehouse.schema import REJECTION_REASONS


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(SimulatorConfig.preset("tiny", seed=7))


@pytest.fixture(scope="module")
def demo_tests() -> list[dict]:
    """Tests of the demo preset (bugs are generated lazily, so this stays cheap)."""
    return Simulator(SimulatorConfig.preset("demo", seed=7)).tests_payload()


def catalogue_feature_ids(sim: Simulator) -> set[int]:
    """Ids the catalogue endpoints return (every product lists features per sections_with_default)."""
    return {
        f["id"]
        for p in sim.products_payload()
        for s in p["sections_with_default"]
        for f in sim.section_features_payload(p["id"], s["id"])
    }


@pytest.fixture(scope="module")
def bugs(sim) -> list[dict]:
    return sim.bugs_payload()


def test_same_seed_same_payloads_and_other_seed_differs(sim, bugs):
    again = Simulator(SimulatorConfig.preset("tiny", seed=7))
    assert again.products_payload() == sim.products_payload()
    assert again.tests_payload() == sim.tests_payload()
    assert again.bugs_payload() == bugs
    other = Simulator(SimulatorConfig.preset("tiny", seed=8))
    assert other.tests_payload() != sim.tests_payload()
    assert other.bugs_payload() != bugs


def test_tiny_preset_size(sim, bugs):
    assert 3 <= len(sim.products_payload()) <= 4
    assert len(sim.tests_payload()) == 60
    assert 400 <= len(bugs) <= 900


def test_preset_overrides_and_unknown_preset():
    assert SimulatorConfig.preset("tiny", tests=5).tests == 5
    with pytest.raises(ValueError):
        SimulatorConfig.preset("huge")


def test_products_sectioned_and_plain_with_every_type():
    products = Simulator(SimulatorConfig.preset("demo")).products_payload()
    assert {p["type"] for p in products} == set(PRODUCT_TYPES)
    sectioned = [p for p in products if p["sections"]]
    plain = [p for p in products if not p["sections"]]
    assert sectioned and plain
    for p in sectioned:
        assert len(p["sections_with_default"]) >= 2
    for p in plain:
        assert p["sections_with_default"] == [{"id": p["default_section_id"], "name": "default-section"}]


def test_sectioned_product_shares_features_between_sections(sim):
    product = next(p for p in sim.products_payload() if p["sections"])
    with pytest.raises(ValueError):
        sim.features_payload(product["id"])
    plain = next(p for p in sim.products_payload() if not p["sections"])
    assert sim.section_features_payload(plain["id"], plain["default_section_id"]) == sim.features_payload(plain["id"])
    seen = collections.Counter(
        f["id"] for s in product["sections"] for f in sim.section_features_payload(product["id"], s["id"])
    )
    assert any(count > 1 for count in seen.values())


def test_every_status_and_testing_type(sim):
    tests = sim.tests_payload()
    assert {t["status"] for t in tests} == set(TEST_STATUSES)
    assert {t["testing_type"] for t in tests} == set(TESTING_TYPES)
    assert all(t["submitted_by"] is None for t in tests if t["status"] == "initialized")


def test_test_shape_credentials_offsets_platforms_features(sim, demo_tests):
    tests = sim.tests_payload()
    assert any(t["test_environment"]["username"] and t["test_environment"]["password"] for t in tests)
    offsets = {t["start_at"][-6:] if not t["start_at"].endswith("Z") else "Z" for t in tests}
    assert {"Z", "+02:00", "-05:00"} <= offsets
    catalogue_ids = catalogue_feature_ids(sim)
    for t in tests:
        oses = [r["operating_system"]["id"] for r in t["requirements"]]
        assert 1 <= len(oses) <= 4 and len(set(oses)) == len(oses)
        for r in t["requirements"]:
            assert bool(r["browsers"]) == (r["category"]["key"] == "computer")
        assert 1 <= len(t["features"]) <= 5
        assert not {f["id"] for f in t["features"]} & catalogue_ids
    assert any(t["created_by"] is None for t in demo_tests)
    listed = catalogue_feature_ids(Simulator(SimulatorConfig.preset("demo")))
    assert any(f["feature_id"] not in listed for t in demo_tests for f in t["features"])


def test_submitters_differ_from_creators_often_enough_to_matter(demo_tests):
    submitted = [t for t in demo_tests if t["submitted_by"] is not None]
    by_another = [t for t in submitted if t["submitted_by"] != t["created_by"]]
    assert 0.2 <= len(by_another) / len(submitted) <= 0.35
    # Only tests that were submitted have a submitter: initialized ones and those cancelled
    # before submission (never reviewed) have none.
    for t in demo_tests:
        assert (t["submitted_by"] is None) == (t["review_status"] == "not_reviewed"), t["id"]
    assert {t["status"] for t in demo_tests if t["submitted_by"] is None} == {"initialized", "cancelled"}
    created = collections.Counter(t["created_by"] for t in demo_tests if t["created_by"])
    submitted_count = collections.Counter(t["submitted_by"] for t in submitted)
    top_submitter, most = submitted_count.most_common(1)[0]
    assert most >= 1.5 * created[top_submitter], "the QA lead submits far more tests than she creates"
    assert created.most_common(1)[0][0] != top_submitter, "ranking by creator would name someone else"


def test_bug_distributions(bugs):
    assert {b["severity"] for b in bugs} == set(SEVERITIES)
    assert {b["status"] for b in bugs} == set(BUG_STATUSES)
    accepted = [b for b in bugs if b["status"] == "accepted"]
    auto_share = sum(b["auto_accepted"] for b in accepted) / len(accepted)
    assert 0.15 <= auto_share <= 0.45
    assert all(not b["auto_accepted"] for b in bugs if b["status"] != "accepted")
    assert any(b["known"] for b in bugs)


def test_unattributed_bugs_in_both_forms(bugs):
    missing = [b for b in bugs if "test_feature" not in b]
    null = [b for b in bugs if "test_feature" in b and b["test_feature"] is None]
    assert missing and null
    assert (len(missing) + len(null)) / len(bugs) < 0.06


def test_bugs_point_at_their_tests_features(sim, bugs):
    tests = {t["id"]: t for t in sim.tests_payload()}
    for bug in bugs:
        test = tests[bug["test"]["id"]]
        if bug.get("test_feature"):
            tf = next(f for f in test["features"] if f["id"] == bug["test_feature"]["id"])
            assert bug["test_feature"]["feature_id"] == tf["feature_id"] == bug["feature"]["id"]
            assert bug["feature"]["title"] == tf["title"]
        assert bug["reported_at"].endswith("Z") or bug["reported_at"][-6] in "+-"


def test_rejection_comments(bugs):
    assert set(REJECTION_COMMENTS) == set(REJECTION_REASONS)
    defaults = set(REJECTION_COMMENTS.values())
    rejected = [b for b in bugs if b["status"] == "rejected"]
    with_default = [b for b in rejected if any(c["body"] in defaults for c in b["comments"])]
    assert with_default and len(with_default) < len(rejected)


def test_people_tests_without_bugs(sim, bugs):
    testers = {b["author"]["name"] for b in bugs}
    customers = {t[k] for t in sim.tests_payload() for k in ("created_by", "submitted_by") if t[k]}
    assert testers & customers
    assert 2 <= len(customers) <= 10
    tests_with_bugs = {b["test"]["id"] for b in bugs}
    assert any(t["id"] not in tests_with_bugs for t in sim.tests_payload() if t["status"] == "archived")
