"""Plausible but wrong API answers (an empty envelope, one stub row) never replace good tables:
each run ends with a clear, typed message and the previous version intact for writers and
readers, under incremental and full refresh alike. A loss accepted on purpose goes through."""

from __future__ import annotations

import pytest
from reliability_support import (
    FULL_REFRESH,
    failures,
    make_sim,
    materialize,
    ops_config,
    table_rows,
)

from testio_assets.simulator import FaultConfig
from testio_assets.simulator.resource import SimulatorApiResource
from testio_assets.warehouse.guards import DataLossError, ShrinkGuard
from testio_assets.warehouse.resource import WarehouseResource

pytestmark = pytest.mark.slow  # a real Dagster run per wrong answer

FULL = ops_config(exploratory_tests=FULL_REFRESH, bugs=FULL_REFRESH)
# Each wrong answer and the step that must refuse it, with the words its message must hold.
CASES = {
    ("products", "empty"): ("products", "DataLossError", "lacks 4 of the 4 stored"),
    ("products", "stub"): ("products", "InvalidRecordError", "lacks name"),
    ("features", "empty"): ("features", "DataLossError", "would shrink"),
    ("features", "stub"): ("features", "InvalidRecordError", "lacks title"),
    ("exploratory_tests", "empty"): ("exploratory_tests", "DataLossError", "tests of product"),
    ("exploratory_tests", "stub"): ("exploratory_tests", "InvalidRecordError", "id 999999 lacks status, product.id"),
    ("bugs", "empty"): ("bugs", "DataLossError", "would shrink"),
    ("bugs", "stub"): ("bugs", "Failure", "lack test.id"),
}
ALSO = {"features": "section_features"}  # sectioned products read features per section


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    database = tmp_path_factory.mktemp("built") / "testio.duckdb"
    assert materialize(SimulatorApiResource.serving(make_sim()), database).success
    return database


def _copy(built, tmp_path):
    database = tmp_path / "testio.duckdb"
    database.write_bytes(built.read_bytes())
    copy = WarehouseResource(database=str(database)).read_copy
    copy.write_bytes(WarehouseResource(database=str(built)).read_copy.read_bytes())
    return database, copy


# The catalogue always refreshes fully, so its run config has no refresh mode to vary.
RUNS = [
    (endpoint, kind, mode)
    for endpoint, kind in CASES
    for mode in (("incremental",) if endpoint in ("products", "features") else ("incremental", "full"))
]


@pytest.mark.parametrize(("endpoint", "kind", "mode"), RUNS)
def test_a_wrong_answer_fails_clearly_and_loses_nothing(built, tmp_path, endpoint, kind, mode):
    database, copy = _copy(built, tmp_path)
    before, copy_before = table_rows(database), table_rows(copy)
    wrong = {name: kind for name in (endpoint, ALSO.get(endpoint)) if name}
    sim = make_sim(FaultConfig(wrong_bodies=wrong))
    result = materialize(
        SimulatorApiResource.serving(sim, max_attempts=1), database,
        run_config=FULL if mode == "full" else None,
    )
    step, error, words = CASES[(endpoint, kind)]
    assert not result.success
    found = failures(result)
    assert found[step][0] == error, found
    assert words in found[step][1]
    if error == "DataLossError":
        assert f"ops: {{{step}: {{config: {{allow_shrink: true}}}}}}" in found[step][1]
    assert table_rows(database) == before
    assert table_rows(copy) == copy_before


def test_a_loss_accepted_in_the_run_config_goes_through(built, tmp_path):
    database, copy = _copy(built, tmp_path)
    sim = make_sim(FaultConfig(wrong_bodies={"bugs": "empty"}))
    accept = ops_config(bugs={"full_refresh": True, "allow_shrink": True})
    result = materialize(SimulatorApiResource.serving(sim), database, run_config=accept)
    assert result.success
    assert table_rows(database)["bugs"] == [] and table_rows(copy)["bugs"] == []


def test_the_shrink_share_is_a_bound_the_config_sets():
    guard = ShrinkGuard("bugs", max_shrink_share=0.25)
    guard.check_counts("bugs", stored=100, incoming=75)
    with pytest.raises(DataLossError, match="-26.0%, more than max_shrink_share 25%"):
        guard.check_counts("bugs", stored=100, incoming=74)
    ShrinkGuard("bugs", allow_shrink=True).check_counts("bugs", stored=100, incoming=0)
    guard.check_counts("bugs", stored=0, incoming=0)
