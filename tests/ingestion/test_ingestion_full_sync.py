"""A full materialisation from the tiny simulator equals the simulator's own data."""

from __future__ import annotations

import collections
from datetime import datetime, timezone

import duckdb
import pytest
from ingestion_support import DATA_TABLES, check_results, make_sim, materialize, table_rows

from testio_assets.client.resource import TestIOApiResource
from testio_assets.warehouse.resource import read_copy_path
from testio_assets.warehouse.schema import REJECTION_REASONS


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc).replace(tzinfo=None)


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    sim = make_sim()
    database = tmp_path_factory.mktemp("warehouse") / "testio.duckdb"
    result = materialize(TestIOApiResource.for_simulator(sim), database)
    assert result.success
    return sim, database, result


@pytest.fixture
def con(synced):
    connection = duckdb.connect(str(synced[1]), read_only=True)
    yield connection
    connection.close()


def _catalogue(sim):
    """feature id -> sorted section ids, from the simulator's catalogue endpoints."""
    sections_of: dict[int, set[int]] = {}
    for product in sim.products_payload():
        section_ids = [s["id"] for s in product["sections"]] or (
            [s["id"] for s in product["sections_with_default"]]
            if len(product["sections_with_default"]) > 1 else []
        )
        if not section_ids:
            for feature in sim.features_payload(product["id"]):
                sections_of[feature["id"]] = set()
        for section_id in section_ids:
            for feature in sim.section_features_payload(product["id"], section_id):
                sections_of.setdefault(feature["id"], set()).add(section_id)
    return {fid: sorted(sids) for fid, sids in sections_of.items()}


def test_row_counts_equal_the_simulator(synced, con):
    sim = synced[0]
    tests = [t for p in sim.products_payload() for t in sim.tests_payload(p["id"])]
    bugs = sim.bugs_payload()
    expected = {
        "products": len(sim.products_payload()),
        "features": len(_catalogue(sim)),
        "tests": len(tests),
        "test_features": sum(len(t["features"]) for t in tests),
        "test_platforms": len({(t["id"], r["operating_system"]["id"]) for t in tests for r in t["requirements"]}),
        "bugs": len(bugs),
        "users": len({b["author"]["name"] for b in bugs})
        + len({t[k] for t in tests for k in ("created_by", "submitted_by") if t[k]}),
    }
    actual = {name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in DATA_TABLES}
    assert actual == expected
    # The listing ends on a short page for at least one product: its oldest test is present.
    short = [p["id"] for p in sim.products_payload() if len(sim.tests_payload(p["id"])) % 25]
    assert short
    oldest = sim.tests_payload(short[0])[-1]["id"]
    assert con.execute("SELECT count(*) FROM tests WHERE test_id = ?", [oldest]).fetchone()[0] == 1


def test_shared_section_features_keep_every_section(synced, con):
    catalogue = _catalogue(synced[0])
    shared = {fid: sids for fid, sids in catalogue.items() if len(sids) > 1}
    assert shared, "the tiny customer has a sectioned product with a shared feature"
    stored = dict(con.execute("SELECT feature_id, section_ids FROM features").fetchall())
    assert {fid: sorted(stored[fid]) for fid in catalogue} == catalogue


def test_sample_of_tests_field_by_field(synced, con):
    sim = synced[0]
    sectioned = {p["id"] for p in sim.products_payload() if p["sections"]}
    for product in sim.products_payload():
        for test in sim.tests_payload(product["id"])[::7]:
            row = con.execute(
                "SELECT product_id, section_id, title, status, testing_type, start_at, end_at, "
                "created_by, submitted_by, test_environment_id, test_environment_title "
                "FROM tests WHERE test_id = ?", [test["id"]]
            ).fetchone()
            assert row == (
                product["id"],
                test["section"]["id"] if product["id"] in sectioned and test.get("section") else None,
                test["title"], test["status"], test["testing_type"],
                _utc(test["start_at"]) if test["start_at"] else None,
                _utc(test["end_at"]) if test["end_at"] else None,
                test["created_by"], test["submitted_by"],
                test["test_environment"]["id"], test["test_environment"]["title"],
            )


def test_offset_timestamps_are_converted(synced, con):
    sim = synced[0]
    with_offset = [
        t for p in sim.products_payload() for t in sim.tests_payload(p["id"])
        if t["start_at"] and not t["start_at"].endswith(("Z", "+00:00"))
    ]
    assert with_offset
    test = with_offset[0]
    stored = con.execute("SELECT start_at FROM tests WHERE test_id = ?", [test["id"]]).fetchone()[0]
    assert stored == _utc(test["start_at"]) != datetime.fromisoformat(test["start_at"]).replace(tzinfo=None)


def test_bugs_field_by_field(synced, con):
    bugs = synced[0].bugs_payload()
    stored = {
        row[0]: row[1:]
        for row in con.execute(
            "SELECT bug_id, test_id, test_feature_id, feature_id, status, api_status, "
            "auto_accepted, author_name, reported_at, severity, device_os_names FROM bugs"
        ).fetchall()
    }
    for bug in bugs:
        test_feature = bug.get("test_feature") or {}
        status = "auto_accepted" if bug["status"] == "accepted" and bug["auto_accepted"] else bug["status"]
        assert stored[bug["id"]] == (
            bug["test"]["id"], test_feature.get("id"), test_feature.get("feature_id"), status,
            bug["status"], bug["auto_accepted"], bug["author"]["name"], _utc(bug["reported_at"]),
            bug["severity"], [d["operating_system"]["name"] for d in bug["devices"]],
        )
    assert any(b.get("test_feature") is None for b in bugs), "unattributed bugs exist"
    assert any("test_feature" not in b for b in bugs), "bugs without a test_feature key exist"
    assert any(b["auto_accepted"] for b in bugs), "auto-accepted bugs exist"


def test_rejection_reasons_over_http_equal_the_simulators_own(synced, con):
    """Each bug's reason, derived from the comments fetched over HTTP, is the reason the
    simulator attached to its latest default comment (None for free text, no comment, or a bug
    that is not rejected)."""
    sim = synced[0]
    now = sim.clock.timestamp()
    truth = {
        bug.id: bug.rejection_reason_at(now)
        for test in sim.dataset.visible_tests(now) for bug in sim.dataset.bugs(test, now)
    }
    stored = dict(con.execute("SELECT bug_id, rejection_reason FROM bugs").fetchall())
    assert stored == truth
    reasons = collections.Counter(truth.values())
    assert set(reasons) == {*REJECTION_REASONS, None}
    rejected_unnamed = con.execute(
        "SELECT count(*) FROM bugs WHERE status = 'rejected' AND rejection_reason IS NULL"
    ).fetchone()[0]
    assert rejected_unnamed > 0, "free-text and comment-less rejections stay NULL"


def test_testers_and_customers_are_separate_identities(con):
    roles = dict(con.execute("SELECT user_id, role FROM users").fetchall())
    shared = {u.split(":", 1)[1] for u in roles if u.startswith("tester:")} & {
        u.split(":", 1)[1] for u in roles if u.startswith("customer:")
    }
    assert shared, "one name is both a tester and a customer"
    for name in shared:
        assert roles[f"tester:{name}"] == "tester" and roles[f"customer:{name}"] == "customer"


def test_no_credential_is_stored(synced, con):
    secrets = {
        t["test_environment"][k]
        for p in synced[0].products_payload() for t in synced[0].tests_payload(p["id"])
        for k in ("username", "password") if t["test_environment"].get(k)
    }
    assert secrets
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE data_type IN ('VARCHAR', 'VARCHAR[]')"
    ).fetchall()
    for table, column in columns:
        text = con.execute(f'SELECT string_agg(CAST("{column}" AS VARCHAR), \'\\n\') FROM "{table}"').fetchone()[0] or ""
        assert not [s for s in secrets if s in text], f"credential found in {table}.{column}"


def test_every_check_passes_except_the_documented_catalogue_gap(synced, con):
    checks = check_results(synced[2])
    assert len(checks) == 16
    failing = {name for name, e in checks.items() if not e.passed}
    # The contract lets a test name a catalogue feature the catalogue does not list (yet).
    assert failing <= {"test_features_feature_id_in_features"}
    if failing:
        evaluation = checks["test_features_feature_id_in_features"]
        assert evaluation.severity.value == "WARN"
        orphans = con.execute(
            "SELECT count(DISTINCT feature_id) FROM test_features "
            "WHERE feature_id NOT IN (SELECT feature_id FROM features)"
        ).fetchone()[0]
        assert evaluation.metadata["violations"].value == orphans > 0
    share = checks["bugs_attributed_share"].metadata["attributed_share"].value
    assert 0.95 <= share < 1


def test_materialization_metadata(synced):
    result = synced[2]
    materializations = [e.materialization for e in result.get_asset_materialization_events()]
    by_asset = {m.asset_key.to_user_string(): m.metadata for m in materializations}
    assert set(by_asset) == set(DATA_TABLES)
    bugs = by_asset["bugs"]
    assert bugs["dagster/row_count"].value > 0 and bugs["api_calls_bugs"].value == bugs["api_calls"].value > 0
    assert "| bug_id |" in bugs["preview"].value
    assert by_asset["tests"]["source"].value.startswith("built-in simulator")


def test_rerun_is_idempotent_and_read_copy_matches(synced, tmp_path):
    sim, database, _ = synced
    before = table_rows(database)
    assert materialize(TestIOApiResource.for_simulator(sim), database).success
    after = table_rows(database)
    assert after == before
    read_copy = read_copy_path(database)
    assert read_copy.exists() and read_copy.stat().st_mtime >= database.stat().st_mtime
    assert table_rows(read_copy) == after
