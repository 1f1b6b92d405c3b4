"""Tests a listing could not read are never dropped, and the record of where they are (the red
unrecoverable-pages check) stays until a walk reads those positions again."""

from __future__ import annotations

import duckdb
import pytest

from reliability_support import (
    FAST,
    FULL_REFRESH,
    check_results,
    make_sim,
    materialize,
    ops_config,
    table_rows,
)

from testio_assets.simulator import FaultConfig
from testio_assets.simulator.resource import SimulatorApiResource

pytestmark = pytest.mark.slow  # several real Dagster runs per test

FULL = ops_config(exploratory_tests=FULL_REFRESH, bugs=FULL_REFRESH)


PER_PAGE = 4  # small pages, so the tiny customer's listings are many pages deep


def _deep_test(sim) -> int:
    """A test near the end of the largest product's listing, past where an incremental walk
    stops (the first page holding a stored test, a safety page, the oldest changeable test)."""
    pid = max((p["id"] for p in sim.products_payload()), key=lambda p: len(sim.tests_payload(p)))
    listing = sim.tests_payload(pid)
    assert len(listing) > 5 * PER_PAGE
    return listing[-2]["id"]


def _open_ranges(database) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute("SELECT product_id, first_offset, last_offset FROM _fetch_issues").fetchall()


def test_a_full_refresh_keeps_the_tests_it_could_not_list_until_they_are_read(tmp_path):
    sim = make_sim()
    database = tmp_path / "testio.duckdb"
    api = SimulatorApiResource.serving(
        sim, per_page=PER_PAGE, **{**FAST, "timeout_s": 0.2, "max_attempts": 2}
    )
    assert materialize(api, database).success
    before = table_rows(database)
    hidden = _deep_test(sim)

    # The page holding `hidden` never answers: a full refresh would take the test for deleted.
    sim.faults = FaultConfig(poison_test_ids={hidden}, poison_fault="timeout")
    result = materialize(api, database, run_config=FULL)
    assert result.success  # a lost page is a red check, not a failed run
    assert not check_results(result)["tests_unrecoverable_pages"].passed
    assert table_rows(database) == before  # the hidden test, its features, platforms, bugs
    [(_, first, last)] = _open_ranges(database)
    assert first == last

    # The fault clears, but an incremental walk does not reach that deep: the record stays.
    sim.faults = FaultConfig()
    result = materialize(api, database)
    assert not check_results(result)["tests_unrecoverable_pages"].passed
    assert len(_open_ranges(database)) == 1

    # A walk that reads those positions again clears it.
    result = materialize(api, database, run_config=FULL)
    assert check_results(result)["tests_unrecoverable_pages"].passed
    assert _open_ranges(database) == [] and table_rows(database) == before


def test_an_incremental_walk_that_reads_past_a_range_clears_it(tmp_path):
    sim = make_sim()
    database = tmp_path / "testio.duckdb"
    assert materialize(SimulatorApiResource.serving(sim), database).success
    pid = max((p["id"] for p in sim.products_payload()), key=lambda p: len(sim.tests_payload(p)))
    newest = sim.tests_payload(pid)[1]["id"]  # on the first page, which every walk reads
    api = SimulatorApiResource.serving(sim, **FAST)
    sim.faults = FaultConfig(poison_test_ids={newest})
    result = materialize(api, database)
    assert not check_results(result)["tests_unrecoverable_pages"].passed
    sim.faults = FaultConfig()
    result = materialize(api, database)
    assert check_results(result)["tests_unrecoverable_pages"].passed and _open_ranges(database) == []
