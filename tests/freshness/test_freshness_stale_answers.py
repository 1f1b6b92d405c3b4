"""Every semantic-layer answer reports the age of its tables and warns when they are stale."""

from __future__ import annotations

from datetime import datetime, timezone

import dagster as dg
import duckdb
import pytest

from semantic import WarehouseLoadLogFreshness, query_metrics
from testio_assets.freshness_state import DagsterFreshnessSource

pytestmark = pytest.mark.slow  # a full materialisation (shared by the folder)


def test_fresh_answer_reports_age_and_state_without_warning(materialized, tmp_path):
    defs, instance, materialized_at = materialized
    source = DagsterFreshnessSource(instance, now=materialized_at + 600)
    result = query_metrics(["bug_count", "test_count"], freshness=source)
    assert not [w for w in result.warnings if "freshness" in w or "never" in w]
    freshness = result.metadata["freshness"]
    assert set(freshness) == {"bugs", "tests"}
    assert freshness["bugs"]["state"] == "passing"
    assert 600 <= freshness["bugs"]["age_seconds"] < 600 + 120
    assert freshness["bugs"]["policy"] == "warn after 1h, fail after 2h"
    assert "computed from the policy" in freshness["bugs"]["source"]


def test_answer_over_a_table_older_than_its_policy_warns_with_the_age(materialized):
    defs, instance, materialized_at = materialized
    source = DagsterFreshnessSource(instance, now=materialized_at + 3 * 3600 + 30)
    result = query_metrics(["bugs_per_test"], ["month"], freshness=source)
    stale = [w for w in result.warnings if w.startswith("bugs ")]
    assert len(stale) == 1
    assert "3 h" in stale[0] and "FAILED" in stale[0] and "fail after 2h" in stale[0]
    assert result.metadata["freshness"]["tests"]["state"] == "failed"


def test_warning_state_between_the_windows(materialized):
    defs, instance, materialized_at = materialized
    source = DagsterFreshnessSource(instance, now=materialized_at + 90 * 60)
    result = query_metrics(["bug_count"], freshness=source)
    assert any("bugs" in w and "WARNING" in w for w in result.warnings)


def test_never_materialised_tables_are_reported():
    with dg.instance_for_test() as empty_instance:
        source = DagsterFreshnessSource(empty_instance)
        states = source.table_freshness(["bugs"])
    assert states["bugs"].state == "never_loaded"
    assert states["bugs"].last_loaded_at is None


def test_answers_know_age_and_state_from_the_warehouse_alone(materialized, tmp_path):
    # A notebook without Dagster: the load log carries the policy in force at each write.
    defs, instance, materialized_at = materialized
    warehouse = str(tmp_path / "testio.duckdb")
    fresh = query_metrics(["bug_count"], warehouse=warehouse)
    assert fresh.metadata["freshness"]["bugs"]["state"] == "passing"
    assert fresh.metadata["freshness"]["bugs"]["policy"] == "warn after 1h, fail after 2h"
    assert "policy recorded at load" in fresh.metadata["freshness"]["bugs"]["source"]

    later = datetime.fromtimestamp(materialized_at + 3 * 3600, timezone.utc)
    with duckdb.connect(str(tmp_path / "testio.read.duckdb"), read_only=True) as con:
        stale = query_metrics(
            ["bug_count"], ["product"], warehouse=con, freshness=WarehouseLoadLogFreshness(con, now=later)
        )
    assert any(w.startswith("bugs was last loaded 3 h") and "FAILED" in w for w in stale.warnings)
    assert stale.metadata["freshness"]["products"]["state"] == "passing"  # the catalogue's 12h/1d
