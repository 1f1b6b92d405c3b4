"""Saved queries as Dagster assets (issue 10, item 2), the way the pipeline runs them: the whole
graph materialised once with real Dagster from the simulator into a DuckDB file, then the metric
tables compared with ``query_metrics``, their checks run against deliberately corrupted copies,
their automation evaluated, and the real webserver asked what the UI shows."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import httpx
import pandas as pd
import pytest

from model_files import copy_models, edit
from process_support import free_port, stopped_at_exit
from semantic import explain, query_metrics
from semantic.answer.materialised import read_materialised
from semantic.answer.result import json_rows
from semantic.model.loader import load_model
from semantic.plan.invariants import additive_metrics
from semantic.plan.saved_queries import resolve_saved_query
from semantic.sql.columns import answer_columns, tables_read
from semantic.sql.compiler import compile_query, compile_saved_query
from semantic.surfaces.cli import main as cli
from testio_assets.metric_tables import guardrails, metric_table
from testio_assets.ops_summary import print_run_summary, step_errors
from testio_assets.simulator.resource import SimulatorApiResource
from testio_assets.definitions import build_definitions
from testio_assets.freshness import FreshnessWindows, policy_windows, windows_of
from testio_assets.metric_checks import metric_checks
from testio_assets.simulator import Simulator, SimulatorConfig
from testio_assets.warehouse.resource import WarehouseResource

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 1)  # the simulator's first day: "this quarter" holds October's tests
MODEL = load_model()
NAMES = sorted(MODEL.saved_queries)


def metric_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["metrics", name])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Every asset and check of the code location materialised once, into a DuckDB file and a
    Dagster instance on disk (the one the webserver test reads)."""
    root = tmp_path_factory.mktemp("metrics")
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(f"storage:\n  sqlite:\n    base_dir: {home / 'storage'}\n"
                                       "telemetry:\n  enabled: false\n")
    database = root / "testio.duckdb"
    defs = build_definitions(
        api=SimulatorApiResource.serving(Simulator(SimulatorConfig.preset("tiny", seed=7))),
        warehouse=WarehouseResource(database=str(database)),
    )
    config = {"ops": {metric_key(n).to_python_identifier(): {"config": {"as_of": AS_OF.isoformat()}} for n in NAMES}}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            run_config=config, instance=instance, raise_on_error=False)
        assert result.success
        yield defs, instance, result, database, home


def stored(database: Path, name: str) -> pd.DataFrame:
    with duckdb.connect(str(database), read_only=True) as con:
        return read_materialised(con, name).df


# -- definitions ---------------------------------------------------------------------------------

def test_each_saved_query_is_an_asset_the_ui_describes(run):
    defs = run[0]
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    metric_keys = {k for k in graph.get_all_asset_keys() if k.path[0] == "metrics"}
    assert {k.path[-1] for k in metric_keys} == set(NAMES)
    windows = policy_windows()
    for name in NAMES:
        node, sq = graph.get(metric_key(name)), MODEL.saved_queries[name]
        assert node.group_name == "metrics" and set(node.kinds) == {"duckdb", "sql"}
        assert node.description == sq.description and node.owners
        assert node.metadata["dagster/table_name"] == f"metrics.{name}"
        compiled = compile_saved_query(MODEL, resolve_saved_query(MODEL, sq, AS_OF), config=guardrails(sq))
        schema = node.metadata["dagster/column_schema"]
        assert [(c.name, c.type, c.description) for c in schema.columns] == \
            [(c.name, c.type, c.description) for c in answer_columns(MODEL, compiled.plan)]
        # the tightest of its inputs' windows, and eager automation (the project's sensor runs it)
        upstream = [windows[k.to_user_string()] for k in node.parent_keys]
        expected = FreshnessWindows(min(w.warn for w in upstream), min(w.fail for w in upstream))
        assert windows_of(defs)[f"metrics/{name}"] == expected
        assert node.automation_condition.get_label() == "eager_or_stale"
    sensor = next(s for s in defs.sensors if s.name == "testio_automation")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


@pytest.mark.parametrize("name", NAMES)
def test_dependencies_are_the_tables_the_sql_reads(run, name):
    node = run[0].resolve_asset_graph().get(metric_key(name))
    deps = {k.to_user_string() for k in node.parent_keys}
    sq = MODEL.saved_queries[name]
    compiled = compile_saved_query(MODEL, resolve_saved_query(MODEL, sq, AS_OF))
    assert deps == set(tables_read(compiled.tree))
    # the planner's own account of the tables a query reads agrees with the SQL's
    assert deps == set(explain(saved_query=name, today=AS_OF).metadata["tables"])


def test_lineage_of_the_shipped_questions():
    graph = build_definitions().resolve_asset_graph()

    def deps(name):
        return {k.to_user_string() for k in graph.get(metric_key(name)).parent_keys}

    assert deps("customer_engagement_by_month") == {"tests"}
    assert deps("critical_bugs_by_feature_this_quarter") == {"bugs", "tests", "features", "test_features"}
    assert deps("bug_review_rates_by_product_and_month") == {"bugs", "tests", "products"}


def test_changing_a_saved_query_changes_its_dependencies(tmp_path):
    root = copy_models(tmp_path)
    edit(root / "saved_queries.yaml", "      group_by: [customer, month]", "      group_by: [customer, platform]")
    edit(root / "saved_queries.yaml", "      metrics: [bugs_per_test, bug_count, test_count]",
         "      metrics: [test_count]")
    graph = build_definitions(model=load_model(root)).resolve_asset_graph()
    engagement = {k.to_user_string() for k in graph.get(metric_key("customer_engagement_by_month")).parent_keys}
    per_test = {k.to_user_string() for k in graph.get(metric_key("bugs_per_test_by_month")).parent_keys}
    assert engagement == {"tests", "test_platforms"}
    assert per_test == {"tests"}


def test_a_saved_query_reading_a_table_no_asset_writes_fails_the_load(tmp_path):
    root = copy_models(tmp_path)
    edit(root / "bugs.yaml", "    table: bugs\n", "    table: bug_archive\n")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="reads bug_archive, which no asset of this code"):
        build_definitions(model=load_model(root))


def test_a_saved_query_named_like_a_warehouse_table_fails_the_load(tmp_path):
    root = copy_models(tmp_path)
    edit(root / "saved_queries.yaml", "  - name: customer_engagement_by_month", "  - name: users")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="saved query users .* has the name of the table users"):
        build_definitions(model=load_model(root))


# -- materialised tables -------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_metric_tables_equal_query_metrics_answers(run, name):
    database = run[3]
    expected = query_metrics(saved_query=name, warehouse=str(database), today=AS_OF,
                             config=guardrails(MODEL.saved_queries[name])).df
    table = stored(database, name)
    assert len(table) > 0, f"{name} is empty on the simulator: the comparison would prove little"
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    # readers get the same table from the published copy
    pd.testing.assert_frame_equal(query_metrics(saved_query=name, warehouse=str(database), today=AS_OF,
                                                config=guardrails(MODEL.saved_queries[name])).df, table,
                                  check_dtype=False)


def test_materialisation_metadata_shows_rows_sql_dates_and_a_table_preview(run):
    result, database = run[2], run[3]
    by_asset = {e.step_materialization_data.materialization.asset_key: e.step_materialization_data.materialization
                for e in result.get_asset_materialization_events()}
    for name in NAMES:
        metadata = by_asset[metric_key(name)].metadata
        table = stored(database, name)
        assert metadata["dagster/row_count"].value == len(table)
        preview = metadata["preview"]
        assert isinstance(preview, dg.TableMetadataValue)
        assert [c.name for c in preview.schema.columns] == list(table.columns)
        assert [r.data for r in preview.records] == json_rows(table.head(10))
        assert metadata["sql"].value.startswith("```sql\nWITH") and metadata["as_of"].value == AS_OF.isoformat()
        request = resolve_saved_query(MODEL, name, AS_OF)
        assert metadata["date_range"].value == request.describe_dates()
        assert metadata["date_start"].value == request.date_range.start.isoformat()
    quarter = by_asset[metric_key("critical_bugs_by_feature_this_quarter")].metadata["date_range"].value
    assert quarter == "'this quarter' on 2026-11-01: 2026-10-01 00:00 UTC to 2026-11-02 00:00 UTC (exclusive)"


def test_exports_are_written_on_materialisation(run):
    database = run[3]
    exports = database.parent / "exports"
    csv = pd.read_csv(exports / "critical_bugs_by_feature_this_quarter.csv")
    table = stored(database, "critical_bugs_by_feature_this_quarter")
    assert csv["bug_count"].tolist() == table["bug_count"].tolist()
    assert csv["feature"].fillna("").tolist() == table["feature"].fillna("").tolist()
    pd.testing.assert_frame_equal(pd.read_parquet(exports / "bugs_per_test_by_month.parquet"),
                                  stored(database, "bugs_per_test_by_month"), check_dtype=False)
    assert sorted(p.name for p in exports.iterdir()) == [
        "bugs_per_test_by_month.parquet", "critical_bugs_by_feature_this_quarter.csv"]


def test_the_cli_exports_the_materialised_table(run, tmp_path, capsys):
    database = run[3]
    target = tmp_path / "engagement.json"
    code = cli(["export", "customer_engagement_by_month", "--format", "json", "--output", str(target),
                "--warehouse", str(database)])
    out = capsys.readouterr().out
    assert code == 0 and "as materialised at" in out and "'12 months ago' .. 'today' on 2026-11-01" in out
    assert json.loads(target.read_text()) == json_rows(stored(database, "customer_engagement_by_month"))


# -- checks --------------------------------------------------------------------------------------

def test_every_metric_check_passes_on_the_real_run(run):
    evaluations = [e for e in run[2].get_asset_check_evaluations() if e.asset_key.path[0] == "metrics"]
    assert {e.check_name for e in evaluations} == {
        *(f"{n}_matches_fresh_answer" for n in NAMES), *(f"{n}_groups_add_up" for n in NAMES),
        "bug_review_rates_by_product_and_month_shares_within_0_1", "tester_bugs_and_acceptance_by_month_shares_within_0_1",
    }
    assert all(e.passed for e in evaluations), [(e.check_name, e.description) for e in evaluations if not e.passed]


def run_checks(database: Path, name: str) -> dict[str, dg.AssetCheckEvaluation]:
    checks = {c.node_def.name: c for c in metric_checks(MODEL, [metric_table(MODEL, MODEL.saved_queries[name])])}
    check = checks[f"{name}_checks"]
    result = dg.materialize([check], selection=dg.AssetSelection.checks(check), raise_on_error=False,
                            resources={"warehouse": WarehouseResource(database=str(database), publish_read_copy=False)})
    return {e.check_name.removeprefix(f"{name}_"): e for e in result.get_asset_check_evaluations()}


def corrupted(run, tmp_path, statement: str) -> Path:
    copy = tmp_path / "corrupted.duckdb"
    shutil.copyfile(run[3], copy)
    with duckdb.connect(str(copy)) as con:
        changed = con.execute(statement).fetchone()[0]
    assert changed >= 1, statement
    return copy


RATES = "metrics.bug_review_rates_by_product_and_month"
FIRST_ROW = f"rowid = (SELECT min(rowid) FROM {RATES} WHERE rejection_rate IS NOT NULL)"
CORRUPTIONS = {
    # a share above 1: only a bad table can hold one
    "a rate above 1": (f"UPDATE {RATES} SET rejection_rate = 1.25 WHERE {FIRST_ROW}",
                       {"shares_within_0_1", "matches_fresh_answer"}),
    "a negative rate": (f"UPDATE {RATES} SET auto_acceptance_rate = -0.5 WHERE auto_acceptance_rate IS NOT NULL",
                        {"shares_within_0_1", "matches_fresh_answer"}),
    # a count off by one: the groups no longer add up, and the fresh answer disagrees
    "a count off by one": (f"UPDATE {RATES} SET bug_count = bug_count + 1 WHERE {FIRST_ROW}",
                           {"groups_add_up", "matches_fresh_answer"}),
    # a group lost: the sum falls short, the fresh answer has it
    "a group deleted": (f"DELETE FROM {RATES} WHERE {FIRST_ROW}", {"groups_add_up", "matches_fresh_answer"}),
    # a label changed: every sum and bound still holds, only the comparison sees it
    "a label changed": (f"UPDATE {RATES} SET product = product || ' (old)' WHERE {FIRST_ROW}",
                        {"matches_fresh_answer"}),
    # two rates swapped within bounds: only the comparison sees it
    "two values swapped": (f"UPDATE {RATES} SET rejection_rate = overall_acceptance_rate, "
                           f"overall_acceptance_rate = rejection_rate WHERE rejection_rate <> overall_acceptance_rate",
                           {"matches_fresh_answer"}),
}


@pytest.mark.parametrize("statement, failing", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_each_check_fails_on_a_corrupted_metric_table(run, tmp_path, statement, failing):
    outcomes = run_checks(corrupted(run, tmp_path, statement), "bug_review_rates_by_product_and_month")
    assert set(outcomes) == {"shares_within_0_1", "groups_add_up", "matches_fresh_answer"}
    assert {name for name, e in outcomes.items() if not e.passed} == failing
    for name in failing:
        assert outcomes[name].severity == dg.AssetCheckSeverity.ERROR and outcomes[name].description


def test_the_comparison_warns_when_an_input_changed_after_the_table_was_built(run, tmp_path):
    copy = corrupted(run, tmp_path, "UPDATE _table_loads SET loaded_at = loaded_at + INTERVAL 1 MINUTE "
                                    "WHERE table_name = 'bugs'")
    outcomes = run_checks(copy, "bugs_per_test_by_month")
    fresh = outcomes["matches_fresh_answer"]
    assert not fresh.passed and fresh.severity == dg.AssetCheckSeverity.WARN
    assert "bugs changed after this answer was stored" in fresh.description
    assert outcomes["groups_add_up"].passed  # the sums are taken afresh over the same scope
    # customer engagement reads tests only: a new bugs load does not make it stale
    assert run_checks(copy, "customer_engagement_by_month")["matches_fresh_answer"].passed


def test_a_table_never_materialised_fails_its_checks(tmp_path):
    database = tmp_path / "empty.duckdb"
    duckdb.connect(str(database)).close()
    outcomes = run_checks(database, "bugs_per_test_by_month")
    assert outcomes and not any(e.passed for e in outcomes.values())
    assert all("has not been materialised" in e.description for e in outcomes.values())


def test_a_version_failing_its_checks_is_rolled_back_and_never_published(run, tmp_path, capsys):
    """Write, audit, publish for metric tables: a model whose "share" counts more than its
    denominator (every bug over the accepted ones) produces a version the audit refuses."""
    name = "bug_review_rates_by_product_and_month"
    root = copy_models(tmp_path)
    edit(root / "ratios.yaml", "    numerator: {metric: bug_count, filter: \"status = 'auto_accepted'\", "
                               "alias: auto_accepted_bugs}", "    numerator: bug_count")
    database = tmp_path / "testio.duckdb"
    shutil.copyfile(run[3], database)
    shutil.copyfile(run[3].with_name("testio.read.duckdb"), tmp_path / "testio.read.duckdb")
    published = (tmp_path / "testio.read.duckdb").read_bytes()
    before = stored(database, name)
    defs = build_definitions(model=load_model(root), warehouse=WarehouseResource(database=str(database)),
                             api=SimulatorApiResource.serving(Simulator(SimulatorConfig.preset("tiny", seed=7))))
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        asset_selection=[metric_key(name)], instance=instance, raise_on_error=False,
        run_config={"ops": {metric_key(name).to_python_identifier(): {"config": {"as_of": AS_OF.isoformat()}}}})
    assert not result.success
    failure = step_errors(result)[metric_key(name).to_python_identifier()]
    assert failure.cls_name == "WarehouseAuditError"
    assert f"refusing to write metrics.{name}: the new version fails its checks ({name}_shares_within_0_1 " \
        "(auto_acceptance_rate: " in failure.message
    assert "Nothing was written" in failure.message
    pd.testing.assert_frame_equal(stored(database, name), before)  # the previous version stays
    assert (tmp_path / "testio.read.duckdb").read_bytes() == published  # and readers' copy too
    print_run_summary(defs, instance, result, elapsed_s=1.0)  # make demo's summary: failed, not "not run"
    summary = capsys.readouterr().out
    assert f"FAILED step {metric_key(name).to_python_identifier()}: " in summary
    assert f"metrics/{name}" not in next(line for line in summary.splitlines() if line.startswith("Not run"))


def test_additive_metrics_add_up_over_every_dimension_on_the_simulator(run):
    """The classification behind the groups_add_up checks, against data: for every dimension, the
    metrics it calls additive add up to their total; some it leaves out really do not."""
    database = str(run[3])
    totals = query_metrics(sorted(n for n, m in MODEL.metrics.items() if not m.hidden), warehouse=database).df
    counter_examples = set()
    for dimension in sorted(MODEL.dimensions):
        metrics = [n for n, m in MODEL.metrics.items() if m.is_simple and not m.hidden]
        try:
            plan = compile_query(MODEL, metrics, [dimension], config=guardrails(MODEL.saved_queries[NAMES[0]])).plan
        except Exception:  # noqa: BLE001 - a bug-grain dimension cannot group test metrics
            metrics = [n for n in metrics if MODEL.metrics[n].model == "bugs"]
            plan = compile_query(MODEL, metrics, [dimension], config=guardrails(MODEL.saved_queries[NAMES[0]])).plan
        grouped = query_metrics(metrics, [dimension], warehouse=database,
                                config=guardrails(MODEL.saved_queries[NAMES[0]])).df
        additive = additive_metrics(MODEL, plan)
        for metric in metrics:
            adds_up = grouped[metric].sum() == totals[metric].iloc[0]
            if metric in additive:
                assert adds_up, (metric, dimension)
            elif not adds_up:
                counter_examples.add((metric, dimension))
    assert {("test_count", "feature"), ("active_testers", "month"), ("bug_count", "platform")} <= counter_examples


# -- automation and the UI -----------------------------------------------------------------------

def test_automation_materialises_the_metrics_that_read_an_updated_table(run):
    defs, instance = run[0], run[1]
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert not any(first.get_num_requested(metric_key(n)) for n in NAMES)
    instance.report_runless_asset_event(dg.AssetMaterialization("bugs"))
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    requested = {n for n in NAMES if second.get_num_requested(metric_key(n))}
    assert requested == set(NAMES) - {"customer_engagement_by_month"}  # it reads tests only


GRAPHQL = """
{
  assetNodes(group: {groupName: "metrics", repositoryName: "__repository__",
                     repositoryLocationName: "testio_assets.definitions"}) {
    assetKey { path } groupName kinds description
    dependencyKeys { path }
    assetMaterializations(limit: 1) {
      metadataEntries {
        label
        ... on TableMetadataEntry { table { records schema { columns { name type } } } }
        ... on TextMetadataEntry { text }
      }
    }
  }
}
"""


@pytest.mark.slow  # a Dagster webserver
def test_the_ui_shows_the_metrics_group_its_lineage_and_table_previews(run, tmp_path):
    defs, home, database = run[0], run[4], run[3]
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(f"load_from:\n  - python_module:\n      module_name: testio_assets.definitions\n"
                         f"      working_directory: {ROOT}\n")
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "TESTIO_WAREHOUSE_PATH": str(database)}
    env.pop("TESTIO_CUSTOMER_API_TOKEN", None)
    log = tmp_path / "webserver.log"
    with open(log, "w") as out, stopped_at_exit(subprocess.Popen(
            [sys.executable, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(port), "-w", str(workspace)],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)) as server:
        nodes = None
        deadline = time.monotonic() + 120
        while nodes is None and time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()[-3000:]
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": GRAPHQL}, timeout=10)
                data = answer.json().get("data") or {}
                nodes = data.get("assetNodes") or None
            except (httpx.HTTPError, ValueError):
                pass
            if nodes is None:
                time.sleep(0.25)
    assert nodes, f"no metric assets from the webserver:\n{log.read_text()[-3000:]}"
    by_name = {n["assetKey"]["path"][-1]: n for n in nodes}
    assert set(by_name) == set(NAMES)
    graph = defs.resolve_asset_graph()
    for name, node in by_name.items():
        assert node["groupName"] == "metrics" and set(node["kinds"]) == {"duckdb", "sql"}
        assert {"/".join(k["path"]) for k in node["dependencyKeys"]} == \
            {k.to_user_string() for k in graph.get(metric_key(name)).parent_keys}
        entries = {e["label"]: e for e in node["assetMaterializations"][0]["metadataEntries"]}
        preview = entries["preview"]["table"]
        table = stored(database, name)
        assert [c["name"] for c in preview["schema"]["columns"]] == list(table.columns)
        assert [json.loads(r) for r in preview["records"]] == json_rows(table.head(10))
        assert entries["date_range"]["text"].startswith("'")
