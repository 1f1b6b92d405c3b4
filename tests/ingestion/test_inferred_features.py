"""Features the catalogue no longer lists are inferred members of ``features``, whatever the
order in which the catalogue and the tests are materialised, and the semantic layer labels
them with their title."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest
from ingestion_support import make_sim, materialize, rows_by_key

from semantic import query_metrics
from testio_assets.assets import exploratory_tests
from testio_assets.assets.catalogue import features, products
from testio_assets.checks import CHECKS
from testio_assets.ingestion.inferred_features import sync_inferred_features
from testio_assets.simulator.resource import SimulatorApiResource

FEATURE_REFERENCE = "test_features_feature_id_in_features"


def features_table(database: Path) -> dict[int, tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return rows_by_key(con, "SELECT feature_id, title, inferred FROM features")
    finally:
        con.close()


def check_passes(database: Path, name: str) -> bool:
    [check] = [c for c in CHECKS if c.name == name]
    con = duckdb.connect(str(database), read_only=True)
    try:
        return check.evaluate(con)["passed"]
    finally:
        con.close()


def metadata(result: dg.ExecuteInJobResult, asset: str) -> dict:
    [event] = [
        e for e in result.get_asset_materialization_events()
        if e.materialization.asset_key.to_user_string() == asset
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


@pytest.fixture(scope="module")
def sim():
    return make_sim()


@pytest.fixture(scope="module")
def catalogue_ids(sim) -> set[int]:
    return {
        f["id"] for p in sim.products_payload() for s in p["sections_with_default"]
        for f in sim.section_features_payload(p["id"], s["id"])
    }


@pytest.fixture(scope="module")
def named_ids(sim) -> set[int]:
    return {f["feature_id"] for t in sim.tests_payload() for f in t["features"]}


def test_tests_before_the_catalogue_then_the_catalogue(sim, catalogue_ids, named_ids, tmp_path):
    api = SimulatorApiResource.serving(sim)
    database = tmp_path / "testio.duckdb"
    tests_first = materialize(api, database, selection=[products, exploratory_tests])
    assert tests_first.success
    # No catalogue yet: every feature a test names is an inferred member, so ids resolve.
    assert {fid: row[1] for fid, row in features_table(database).items()} == dict.fromkeys(named_ids, True)
    assert check_passes(database, FEATURE_REFERENCE)
    assert metadata(tests_first, "test_features")["inferred_features"] == len(named_ids)

    catalogue = materialize(api, database, selection=[features])
    assert catalogue.success
    rows = features_table(database)
    # The catalogue's rows replace inferred ones; only the retired features stay inferred.
    assert {fid for fid, row in rows.items() if row[1]} == named_ids - catalogue_ids != set()
    assert {fid for fid, row in rows.items() if not row[1]} == catalogue_ids
    assert metadata(catalogue, "features")["inferred_features"] == len(named_ids - catalogue_ids)
    assert check_passes(database, FEATURE_REFERENCE)


@pytest.fixture(scope="module")
def synced(sim, tmp_path_factory) -> Path:
    database = tmp_path_factory.mktemp("inferred") / "testio.duckdb"
    assert materialize(SimulatorApiResource.serving(sim), database).success
    return database


def test_a_catalogue_refresh_keeps_referenced_inferred_members_and_drops_the_rest(sim, synced, tmp_path):
    database = tmp_path / "copy.duckdb"
    database.write_bytes(synced.read_bytes())
    before = features_table(database)
    assert any(inferred for _, inferred in before.values())
    con = duckdb.connect(str(database))
    con.execute(
        "INSERT INTO features (feature_id, product_id, title, user_stories, section_ids, inferred) "
        "VALUES (1, NULL, 'named by no test', [], [], true)"
    )
    con.close()
    assert materialize(SimulatorApiResource.serving(sim), database, selection=[features]).success
    assert features_table(database) == before


def test_the_tests_refresh_drops_and_restores_inferred_members(synced, tmp_path):
    database = tmp_path / "copy.duckdb"
    database.write_bytes(synced.read_bytes())
    before = features_table(database)
    retired = next(fid for fid, row in before.items() if row[1])
    con = duckdb.connect(str(database))
    con.execute("DELETE FROM features WHERE feature_id = ?", [retired])
    con.execute("INSERT INTO features (feature_id, title, inferred) VALUES (2, 'stray', true)")
    con.close()
    # The reference check is for the truly unexpected: a lost inferred member is an error.
    assert not check_passes(database, FEATURE_REFERENCE)
    con = duckdb.connect(str(database))
    count = sync_inferred_features(con)
    con.close()
    assert features_table(database) == before
    assert count == sum(row[1] for row in before.values())


def test_a_warehouse_from_before_inferred_members_gains_the_column(synced, tmp_path):
    database = tmp_path / "copy.duckdb"
    database.write_bytes(synced.read_bytes())
    before = features_table(database)
    con = duckdb.connect(str(database))
    con.execute("DELETE FROM features WHERE inferred")
    con.execute("ALTER TABLE features DROP COLUMN inferred")
    sync_inferred_features(con)
    con.close()
    after = features_table(database)
    assert {fid for fid, row in after.items() if row[1]} == {fid for fid, row in before.items() if row[1]}
    assert {fid for fid, row in after.items() if row[1] is None} == {fid for fid, row in before.items() if not row[1]}


def test_grouping_by_feature_shows_the_retired_features_title(sim, synced, catalogue_ids):
    titles = {f["feature_id"]: f["title"] for t in sim.tests_payload() for f in t["features"]}
    retired = {fid: title for fid, title in titles.items() if fid not in catalogue_ids}
    assert retired
    con = duckdb.connect(str(synced), read_only=True)
    expected = dict(
        con.execute(
            "SELECT b.feature_id, count(*) FROM bugs b JOIN tests t USING (test_id) "
            "WHERE t.status IN ('running', 'locked', 'customer_finalized', 'archived') "
            "GROUP BY ALL"
        ).fetchall()
    )
    con.close()
    answer = query_metrics(["bug_count"], ["feature"], warehouse=synced, fill_missing=True, limit=1000).df
    by_id = answer.set_index("feature_id")
    for fid, title in retired.items():
        assert by_id.loc[fid, "feature"] == title
        # Every member of the feature dimension is listed, retired ones too (0 without bugs).
        assert by_id.loc[fid, "bug_count"] == expected.get(fid, 0)
