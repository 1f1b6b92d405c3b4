"""A full materialisation from the tiny simulator equals the simulator's own data."""

from __future__ import annotations

import collections
from datetime import datetime, timezone

import dagster as dg
import duckdb
import pytest
from ingestion_support import DATA_TABLES, check_results, make_sim, materialize, rows_by_key, table_rows

from testio_assets.simulator.resource import SimulatorApiResource
from testio_assets.warehouse.resource import read_copy_path
from testio_assets.warehouse.schema import REJECTION_REASONS, TABLES


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc).replace(tzinfo=None)


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    sim = make_sim()
    database = tmp_path_factory.mktemp("warehouse") / "testio.duckdb"
    result = materialize(SimulatorApiResource.serving(sim), database)
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
        # The catalogue plus the features tests name that it no longer lists (inferred).
        "features": len(set(_catalogue(sim)) | {f["feature_id"] for t in tests for f in t["features"]}),
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
    stored = rows_by_key(
        con,
        "SELECT bug_id, test_id, test_feature_id, feature_id, status, api_status, "
        "auto_accepted, author_name, reported_at, severity, device_os_names FROM bugs",
    )
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


def test_users_counts_equal_direct_counts_over_tests_and_bugs(synced, con):
    """Every user's figures equal counts taken directly, in Python, over the warehouse's tests
    (every status) and bugs, and over the simulator's own payloads."""
    tests = con.execute("SELECT created_by, submitted_by FROM tests").fetchall()
    created = collections.Counter(c for c, _ in tests if c is not None)
    submitted = collections.Counter(s for _, s in tests if s is not None)
    reported = collections.Counter(
        a for (a,) in con.execute("SELECT author_name FROM bugs").fetchall() if a is not None
    )
    expected = {
        **{f"customer:{name}": (0, created[name], submitted[name]) for name in {*created, *submitted}},
        **{f"tester:{name}": (count, 0, 0) for name, count in reported.items()},
    }
    users = con.execute("SELECT user_id, bugs_reported, tests_created, tests_submitted FROM users").fetchall()
    assert {user_id: tuple(counts) for user_id, *counts in users} == expected
    payloads = synced[0].tests_payload()
    assert created == collections.Counter(t["created_by"] for t in payloads if t["created_by"])
    assert submitted == collections.Counter(t["submitted_by"] for t in payloads if t["submitted_by"])
    assert any(created[name] != submitted[name] for name in created), "roles differ for someone"


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


def test_every_check_passes(synced):
    checks = check_results(synced[2])
    assert len(checks) == 16
    assert {name for name, e in checks.items() if not e.passed} == set()
    assert checks["test_features_feature_id_in_features"].severity.value == "ERROR"
    share = checks["bugs_attributed_share"].metadata["attributed_share"].value
    assert 0.95 <= share < 1


def test_features_the_catalogue_no_longer_lists_are_inferred_members(synced, con):
    sim = synced[0]
    catalogue = set(_catalogue(sim))
    newest_snapshot: dict[int, tuple[dict, int]] = {}  # feature id -> (test feature, product)
    for product in sim.products_payload():
        for test in sim.tests_payload(product["id"]):
            for feature in test["features"]:
                kept = newest_snapshot.get(feature["feature_id"])
                if kept is None or feature["id"] > kept[0]["id"]:
                    newest_snapshot[feature["feature_id"]] = (feature, product["id"])
    retired = set(newest_snapshot) - catalogue
    assert retired, "the tiny customer's tests name features the catalogue no longer lists"
    rows = rows_by_key(
        con,
        "SELECT feature_id, product_id, title, description, howtofind, user_stories, "
        "section_ids, inferred FROM features",
    )
    assert {fid for fid, row in rows.items() if row[-1]} == retired
    assert {fid for fid, row in rows.items() if row[-1] is False} == catalogue
    for fid in retired:
        feature, product_id = newest_snapshot[fid]
        assert rows[fid] == (
            product_id, feature["title"], feature["description"], feature["howtofind"],
            feature["user_stories"], [], True,
        )


def test_materialization_metadata(synced):
    result = synced[2]
    materializations = [e.materialization for e in result.get_asset_materialization_events()]
    by_asset = {m.asset_key.to_user_string(): m.metadata for m in materializations}
    assert set(by_asset) == set(DATA_TABLES)
    bugs = by_asset["bugs"]
    assert bugs["dagster/row_count"].value > 0 and bugs["api_calls_bugs"].value == bugs["api_calls"].value > 0
    preview = bugs["preview"]
    assert isinstance(preview, dg.TableMetadataValue), "a table the UI renders, not markdown behind a button"
    assert [c.name for c in preview.schema.columns] == list(TABLES["bugs"].column_names)
    ids = [record.data["bug_id"] for record in preview.records]
    assert len(ids) == 5 and ids == sorted(ids)
    assert by_asset["tests"]["source"].value.startswith("built-in simulator")


def test_rerun_is_idempotent_and_read_copy_matches(synced, tmp_path):
    sim, database, _ = synced
    before = table_rows(database)
    assert materialize(SimulatorApiResource.serving(sim), database).success
    after = table_rows(database)
    assert after == before
    read_copy = read_copy_path(database)
    assert read_copy.exists() and read_copy.stat().st_mtime >= database.stat().st_mtime
    assert table_rows(read_copy) == after
