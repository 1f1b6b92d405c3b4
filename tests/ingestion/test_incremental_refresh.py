"""Incremental refresh (pull model) against the tiny simulator, compared with a full resync.

One scenario: a first materialisation (no run config: the warehouse is empty, so it falls back
to a full refresh), a month of simulated time, an incremental run, a full resync into a second
warehouse at the same simulated time, and a second incremental run without a clock change.
Seed 38 is chosen because that month holds every kind of change: new tests, running -> locked,
a bug decision revised on a locked test, and a locked test archived; read one test per page,
its listing also has stragglers worth fetching by id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from ingestion_support import DATA_TABLES, table_rows

from testio_assets.assets import ingestion_assets
from testio_assets.definitions import build_definitions
from testio_assets.simulator import Simulator, SimulatorConfig
from testio_assets.simulator.app import RecordedRequest
from testio_assets.simulator.resource import SimulatorApiResource
from testio_assets.warehouse.resource import WarehouseResource
from testio_assets.warehouse.schema import FROZEN_TEST_STATUSES

pytestmark = pytest.mark.slow  # four real runs across a moved clock

SEED = 38
ADVANCE = timedelta(days=30)
# Small pages and batches so the call counts reflect the listing depth and the tests chosen.
PER_PAGE = 5
BUG_BATCH = 3
LOOKAHEAD_SLACK = 10
FULL = {"ops": {name: {"config": {"full_refresh": True}} for name in ("exploratory_tests", "bugs")}}


@dataclass
class Run:
    result: dg.ExecuteInJobResult
    requests: list[RecordedRequest]

    def metadata(self, asset: str) -> dict:
        [materialization] = [
            m for m in self.result.asset_materializations_for_node(
                "exploratory_tests" if asset == "tests" else asset
            ) if m.asset_key.to_user_string() == asset
        ]
        return {k: v.value for k, v in materialization.metadata.items()}

    def bug_request_ids(self) -> list[int]:
        return [
            int(i) for r in self.requests if r.path == "bugs"
            for i in r.query["filter_test_cycle_ids"].split(",")
        ]

    def listing_pages(self) -> int:
        return sum(r.path.endswith("/exploratory_tests") for r in self.requests)

    def detail_requests(self) -> int:
        return sum(r.path.startswith("exploratory_tests/") for r in self.requests)


def run(
    sim: Simulator, database: Path, run_config: dict | None = None, per_page: int = PER_PAGE
) -> Run:
    api = SimulatorApiResource.serving(sim, per_page=per_page, bug_batch_size=BUG_BATCH)
    job = build_definitions(
        api=api, warehouse=WarehouseResource(database=str(database))
    ).resolve_implicit_global_asset_job_def()
    sim.reset_request_log()
    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), run_config=run_config or {}, raise_on_error=False,
        asset_selection=[key for assets in ingestion_assets for key in assets.keys],  # not the metrics
    )
    assert result.success
    return Run(result, list(sim.request_log))


def statuses(database: Path) -> dict[int, str]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return dict(con.execute("SELECT test_id, status FROM tests").fetchall())
    finally:
        con.close()


def bug_states(database: Path) -> dict[int, tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {r[0]: r[1:] for r in con.execute("SELECT bug_id, test_id, status FROM bugs").fetchall()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("incremental")
    sim = Simulator(SimulatorConfig.preset("tiny", seed=SEED))
    incremental_db, full_db = tmp / "incremental.duckdb", tmp / "full.duckdb"
    first = run(sim, incremental_db)
    before = {"statuses": statuses(incremental_db), "bugs": bug_states(incremental_db)}
    sim.advance(ADVANCE)
    incremental = run(sim, incremental_db)
    full = run(sim, full_db, FULL)
    again = run(sim, incremental_db)
    return {
        "sim": sim, "incremental_db": incremental_db, "full_db": full_db, "before": before,
        "first": first, "incremental": incremental, "full": full, "again": again,
    }


def test_first_run_on_an_empty_warehouse_falls_back_to_a_full_refresh(scenario):
    first = scenario["first"]
    assert first.metadata("tests")["refresh_mode"] == "full (first load)"
    assert first.metadata("bugs")["refresh_mode"] == "full (first load)"
    assert scenario["incremental"].metadata("tests")["refresh_mode"] == "incremental"
    assert scenario["full"].metadata("bugs")["refresh_mode"] == "full"


def test_the_month_brought_every_kind_of_change(scenario):
    before, after = scenario["before"], statuses(scenario["full_db"])
    new = set(after) - set(before["statuses"])
    changed = {t: (before["statuses"][t], after[t]) for t in before["statuses"] if before["statuses"][t] != after[t]}
    assert new
    assert ("running", "locked") in changed.values()
    assert ("locked", "archived") in changed.values()
    bugs_after = bug_states(scenario["full_db"])
    revised_on = {
        before["statuses"][test_id] for bug_id, (test_id, status) in before["bugs"].items()
        if bugs_after[bug_id][1] != status
    }
    assert {"running", "locked"} <= revised_on


def test_incremental_tables_equal_a_full_resync(scenario):
    incremental = table_rows(scenario["incremental_db"])
    full = table_rows(scenario["full_db"])
    for name in DATA_TABLES:
        assert incremental[name] == full[name], name


def test_incremental_makes_far_fewer_calls_and_reports_both(scenario):
    incremental, full = scenario["incremental"], scenario["full"]
    for asset in ("tests", "bugs"):
        made = incremental.metadata(asset)["api_calls"]
        estimate = incremental.metadata(asset)["api_calls_full_refresh_estimate"]
        # The estimate counts the pages a full walk must read; speculative lookahead can add a few.
        assert estimate <= full.metadata(asset)["api_calls"] <= estimate + LOOKAHEAD_SLACK
        assert made < estimate
    assert len(incremental.bug_request_ids()) < 0.6 * len(full.bug_request_ids())
    tests = incremental.metadata("tests")
    assert tests["tests_new"] == len(set(statuses(scenario["full_db"])) - set(scenario["before"]["statuses"]))
    assert tests["tests_listed"] < len(statuses(scenario["full_db"]))


def test_frozen_tests_bugs_are_never_requested_again(scenario):
    frozen_before = {t for t, s in scenario["before"]["statuses"].items() if s in FROZEN_TEST_STATUSES}
    requested = set(scenario["incremental"].bug_request_ids())
    assert frozen_before and not requested & frozen_before
    after = statuses(scenario["full_db"])
    expected = {t for t, s in after.items() if t not in frozen_before}
    assert requested == expected  # new, not frozen, or frozen since the last sync (final fetch)


def test_a_test_archived_between_syncs_gets_one_final_bug_fetch(scenario):
    before, after = scenario["before"]["statuses"], statuses(scenario["full_db"])
    archived = {t for t in before if before[t] == "locked" and after[t] == "archived"}
    assert archived <= set(scenario["incremental"].bug_request_ids())
    assert not archived & set(scenario["again"].bug_request_ids())


def test_running_to_locked_is_visible_after_the_incremental_run(scenario):
    before, after = scenario["before"]["statuses"], statuses(scenario["incremental_db"])
    assert any(before[t] == "running" and after[t] == "locked" for t in before)


def test_a_second_run_without_a_clock_change_makes_only_the_minimal_calls(scenario):
    again = scenario["again"]
    stored = statuses(scenario["incremental_db"])
    changeable = {t for t, s in stored.items() if s not in FROZEN_TEST_STATUSES}
    ids = again.bug_request_ids()
    assert sorted(ids) == sorted(changeable)
    assert again.metadata("bugs")["api_calls"] == math.ceil(len(changeable) / BUG_BATCH)
    assert again.metadata("tests")["tests_new"] == 0
    # Per product, every changeable test is seen at the fewest calls: the walk reads page 1 (it
    # holds a known test) plus one safety page, or more pages down to some changeable test, and
    # never past the listing's short last page; each older changeable test is one detail call.
    con = duckdb.connect(str(scenario["incremental_db"]), read_only=True)
    by_product = con.execute(
        "SELECT list(status ORDER BY test_id DESC) FROM tests GROUP BY product_id"
    ).fetchall()
    con.close()
    minimal = 0
    for (newest_first,) in by_product:
        changeable_at = [i for i, s in enumerate(newest_first) if s not in FROZEN_TEST_STATUSES]
        last_page = len(newest_first) // PER_PAGE + 1
        minimal += min(
            min(last_page, max(1 + 1, (changeable_at[k - 1] // PER_PAGE + 1) if k else 1))
            + len(changeable_at) - k
            for k in range(len(changeable_at) + 1)
        )
    tests = again.metadata("tests")
    assert tests["test_pages_fetched"] + tests["tests_fetched_individually"] == minimal
    assert tests["tests_fetched_individually"] == again.detail_requests()
    # Requests add only the speculative lookahead past that point, cancelled once not needed.
    assert tests["test_pages_fetched"] <= again.listing_pages() < scenario["full"].listing_pages()


def test_stragglers_deep_in_the_listing_are_fetched_one_by_one(tmp_path):
    # One test per page makes every changeable test below the first few pages a straggler:
    # a detail call each is cheaper than walking down to it.
    sim = Simulator(SimulatorConfig.preset("tiny", seed=SEED))
    incremental_db, full_db = tmp_path / "incremental.duckdb", tmp_path / "full.duckdb"
    run(sim, incremental_db, per_page=1)
    sim.advance(ADVANCE)
    incremental = run(sim, incremental_db, per_page=1)
    run(sim, full_db, FULL, per_page=1)
    assert incremental.metadata("tests")["tests_fetched_individually"] == incremental.detail_requests() > 0
    incremental_rows, full_rows = table_rows(incremental_db), table_rows(full_db)
    for name in DATA_TABLES:
        assert incremental_rows[name] == full_rows[name], name
