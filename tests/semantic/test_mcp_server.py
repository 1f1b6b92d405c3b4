"""The MCP server as an assistant meets it: ``testio-semantic mcp`` started as a subprocess from
another folder and driven by the SDK's own client over stdio (and once over streamable HTTP),
its answers compared with the Python API's on a small real warehouse."""

from __future__ import annotations

import contextlib
import inspect
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from anyio.from_thread import start_blocking_portal
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver.exceptions import ToolError

from semantic import UnknownDimensionError, capabilities, explain, load_model, query_metrics
from semantic.answer.warehouse import read_copy_path
from semantic.sql.compiler import DIALECTS
from semantic.surfaces.mcp_server import ServerOptions, SemanticTools, tool_errors
from warehouse_fixtures import build_warehouse, golden_rows

pytestmark = pytest.mark.slow  # the MCP server over stdio and HTTP as processes

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("testio-semantic")
TODAY = date(2025, 3, 15)
TOOLS = {"query_metrics", "get_metrics_compiled_sql", "list_metrics", "get_dimensions", "get_analytics_capabilities",
         "list_saved_queries", "query_saved_query"}


def _rows() -> dict[str, list[dict]]:
    """The golden data, a March test without bugs (zero counts, NULL rates) and an unattributed bug."""
    rows = golden_rows()
    rows["tests"].append({"test_id": 3005, "product_id": 1001, "status": "locked", "testing_type": "focused",
                          "end_at": datetime(2025, 3, 2, 9), "created_by": "bob", "submitted_by": "alice"})
    rows["test_features"].append({"test_feature_id": 5005, "test_id": 3005, "feature_id": 2001, "title": "Checkout"})
    rows["bugs"].append({"bug_id": 9100, "test_id": 3004, "severity": "low", "status": "accepted",
                         "api_status": "accepted", "known": True, "author_name": "tester9"})
    return rows


class Client:
    """Synchronous calls into one MCP client session running in a portal's event loop."""

    def __init__(self, portal, session: ClientSession):
        self.portal, self.session = portal, session

    def tools(self):
        return {t.name: t for t in self.portal.call(self.session.list_tools).tools}

    def call(self, tool: str, arguments: dict | None = None):
        return self.portal.call(self.session.call_tool, tool, arguments or {})

    def answer(self, tool: str, arguments: dict | None = None) -> dict:
        result = self.call(tool, arguments)
        text = "".join(block.text for block in result.content)
        assert not result.is_error, text
        assert "\n" not in text  # one line of JSON: an indented answer costs an assistant's context
        return json.loads(text)


@contextlib.asynccontextmanager
async def _session(transport):
    async with transport as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


@contextlib.contextmanager
def connected(transport):
    with start_blocking_portal() as portal, portal.wrap_async_context_manager(_session(transport)) as session:
        yield Client(portal, session)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("mcp") / "warehouse.duckdb"
    build_warehouse(path, **_rows())
    return str(path)


@pytest.fixture(scope="module")
def server_log(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mcp-cwd") / "server.log"


@pytest.fixture(scope="module")
def server(warehouse, server_log):
    """One stdio server for the module, started as an MCP client does: the installed script, from
    another folder, the warehouse named by the environment."""
    params = StdioServerParameters(command=str(SCRIPT), args=["mcp", "--today", TODAY.isoformat()],
                                   env={"TESTIO_WAREHOUSE_PATH": warehouse}, cwd=server_log.parent)
    with open(server_log, "w") as log, connected(stdio_client(params, errlog=log)) as client:
        yield client


def frame_rows(df: pd.DataFrame) -> list[dict]:
    """The DataFrame's rows as the JSON an assistant should get: NaN/NA as None, numpy scalars as Python."""
    return [{c: None if pd.isna(v) else v.item() if isinstance(v, np.generic) else v for c, v in row.items()}
            for row in df.to_dict("records")]


QUERIES = {
    "ratio and NULL group by feature": dict(metrics=["bug_count", "bugs_per_test"], dimensions=["feature"]),
    "filtered list, ascending": dict(metrics=["bug_count"], dimensions=["severity"],
                                     filters={"bug_status": ["accepted", "rejected"]}, sort_by="severity",
                                     sort_order="asc"),
    "month without bugs: zero and NULL rate": dict(metrics=["bug_count", "rejection_rate"], dimensions=["month"]),
    "relative dates": dict(metrics=["test_count", "bug_count", "auto_acceptance_rate"], start_date="last month"),
    "ISO dates, filled months": dict(metrics=["test_count"], dimensions=["month"], start_date="2025-01-01",
                                     end_date="2025-03-31", fill_missing=True),
    "filter on NULL": dict(metrics=["bug_count"], dimensions=["feature"], filters={"feature": None}),
    "filter on an id and a boolean": dict(metrics=["bug_count", "active_testers"], dimensions=["product"],
                                          filters={"product_id": 1001, "known_bug": False}),
    "two dimensions, limit below the total": dict(metrics=["bug_count"], dimensions=["severity", "bug_status"],
                                                  limit=3),
}


@pytest.mark.parametrize("arguments", QUERIES.values(), ids=QUERIES.keys())
def test_query_metrics_gives_the_python_apis_answer(server, warehouse, arguments):
    answer = server.answer("query_metrics", arguments)
    expected = query_metrics(**arguments, warehouse=warehouse, today=TODAY)
    assert answer["columns"] == list(expected.df.columns)
    assert answer["rows"] == frame_rows(expected.df)
    assert answer["row_count"] == len(expected.df)
    assert answer["total_rows"] == expected.metadata["total_rows"]
    assert [answer["date_range"]["start"], answer["date_range"]["end"]] == expected.metadata["date_range"]
    assert (answer["sql"], answer["explanation"], answer["warnings"]) == \
        (expected.sql, expected.explanation, expected.warnings)
    assert {t: f["state"] for t, f in answer["freshness"].items()} == \
        {t: f["state"] for t, f in expected.metadata["freshness"].items()}


def test_query_metrics_numbers(server):
    """The numbers themselves, not only agreement: NULL group, NULL ratio, zero count, dates, limit."""
    by_feature = server.answer("query_metrics", QUERIES["ratio and NULL group by feature"])["rows"]
    assert {"feature": None, "feature_id": None, "bug_count": 1, "bugs_per_test": None} in by_feature
    assert {"feature": "Checkout", "feature_id": 2001, "bug_count": 10, "bugs_per_test": 2.0} in by_feature
    by_month = server.answer("query_metrics", QUERIES["month without bugs: zero and NULL rate"])["rows"]
    assert by_month == [{"month": "2025-02", "bug_count": 11, "rejection_rate": 3 / 11},
                        {"month": "2025-03", "bug_count": 0, "rejection_rate": None}]
    february = server.answer("query_metrics", QUERIES["relative dates"])
    assert february["rows"] == [{"test_count": 4, "bug_count": 11, "auto_acceptance_rate": 2 / 7}]
    assert february["date_range"]["start"] == "2025-02-01T00:00:00"
    assert february["date_range"]["end"] == "2025-03-01T00:00:00"
    limited = server.answer("query_metrics", QUERIES["two dimensions, limit below the total"])
    assert limited["row_count"] == 3 < limited["total_rows"]
    assert any("showing 3 of" in w for w in limited["warnings"])


def test_tools_are_listed_with_descriptions_and_schemas(server):
    tools = server.tools()
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert len(tool.description) > 80, tool.name
        assert tool.input_schema["type"] == "object"
        assert all(p.get("description") for p in tool.input_schema.get("properties", {}).values()), tool.name
        assert tool.annotations.read_only_hint is True
    # where, not what, is asked; a saved query is asked through query_saved_query
    question = {"dialect", "warehouse", "today", "freshness", "config", "model", "saved_query"}
    python_arguments = set(inspect.signature(query_metrics).parameters) - question
    assert set(tools["query_metrics"].input_schema["properties"]) == python_arguments
    assert set(tools["get_metrics_compiled_sql"].input_schema["properties"]) == python_arguments | {"dialect"}
    assert tools["query_metrics"].input_schema["required"] == ["metrics"]


def test_schemas_enumerate_the_models_names(server):
    props = server.tools()["get_metrics_compiled_sql"].input_schema["properties"]
    known = capabilities()
    assert props["metrics"]["items"]["enum"] == sorted(known["metrics"])
    assert props["dimensions"]["items"]["enum"] == sorted(known["dimensions"])
    assert props["sort_order"]["enum"] == ["asc", "desc"]
    assert props["dialect"]["anyOf"][0]["enum"] == list(DIALECTS)  # or null: the warehouse engine's
    for form in ("last 30 days", "this quarter", "YTD"):
        assert form in props["start_date"]["description"]
    assert '{"feature": null}' in props["filters"]["description"]
    assert "critical, high" in props["filters"]["description"]  # the declared severities


ERRORS = {
    "unknown metric": ({"metrics": ["bug_cnt"]}, "UnknownMetricError: unknown metric 'bug_cnt'; did you mean 'bug_count'?"),
    "unknown dimension": ({"metrics": ["bug_count"], "dimensions": ["severty"]}, "did you mean 'severity'?"),
    "filter on an unknown dimension": ({"metrics": ["bug_count"], "filters": {"severty": "critical"}}, "'severity'"),
    "value outside the declared ones": (
        {"metrics": ["bug_count"], "filters": {"severity": "critcal"}},
        "InvalidFilterValueError: filter severity='critcal': 'critcal' is not a value of severity; did you mean 'critical'?",
    ),
    "bug-grain dimension of a test metric": ({"metrics": ["test_count"], "dimensions": ["severity"]}, "bug-grain"),
    "date outside the grammar": ({"metrics": ["bug_count"], "start_date": "last fortnight"}, "last N days"),
    "sort by what was not asked": ({"metrics": ["bug_count"], "sort_by": "test_count"}, "cannot sort by 'test_count'"),
}


@pytest.mark.parametrize("arguments, says", ERRORS.values(), ids=ERRORS.keys())
def test_a_bad_argument_is_a_tool_error_with_the_hint(server, arguments, says):
    result = server.call("query_metrics", arguments)
    text = result.content[0].text
    assert result.is_error
    assert says in text
    assert text.startswith("Error executing tool query_metrics: ") and "internal error" not in text
    assert "Traceback" not in text and text.count("\n") < 3


def test_arguments_the_schema_refuses_are_tool_errors_too(server):
    result = server.call("get_metrics_compiled_sql", {"metrics": ["bug_count"], "dialect": "oracle"})
    assert result.is_error and "dialect" in result.content[0].text and "'postgres'" in result.content[0].text
    result = server.call("get_dimensions", {"metrics": ["bug_cnt"]})
    assert result.is_error and "did you mean 'bug_count'?" in result.content[0].text


def test_typed_errors_leave_no_traceback_in_the_log(server, server_log):
    server.call("query_metrics", {"metrics": ["bug_cnt"]})
    log = server_log.read_text()
    assert "reading" in log and "warehouse.duckdb" in log
    assert "Traceback" not in log


def test_get_dimensions_agrees_with_what_queries_accept(server):
    model = load_model()
    for metrics in (["test_count"], ["bug_count"], ["bugs_per_test"], ["features_tested", "bug_count"]):
        answer = server.answer("get_dimensions", {"metrics": metrics})
        groupable = [d["name"] for d in answer["dimensions"]]
        assert sorted(groupable + answer["cannot_group"]) == sorted(model.dimensions)
        for name in groupable:
            explain(metrics, [name], today=TODAY)
        for name in answer["cannot_group"]:
            with pytest.raises(UnknownDimensionError):
                explain(metrics, [name], today=TODAY)
    bug_dimensions = {d["name"]: d for d in server.answer("get_dimensions", {"metrics": ["bug_count"]})["dimensions"]}
    assert bug_dimensions["severity"]["allowed_values"] == list(model.dimensions["severity"].allowed_values)
    assert bug_dimensions["month"]["label_format"] == "2025-02"
    assert "severity" in server.answer("get_dimensions", {"metrics": ["test_count"]})["cannot_group"]


def test_list_metrics_and_capabilities_come_from_the_model(server):
    known = capabilities()
    metrics = server.answer("list_metrics")["metrics"]
    assert [m["name"] for m in metrics] == list(known["metrics"])
    assert {m["name"]: m["formula"] for m in metrics} == {n: m["formula"] for n, m in known["metrics"].items()}
    assert server.answer("get_analytics_capabilities") == json.loads(json.dumps(known))


def test_saved_queries_are_listed_as_the_model_declares_them(server):
    listed = server.answer("list_saved_queries")["saved_queries"]
    assert listed == json.loads(json.dumps(list(capabilities()["saved_queries"].values())))
    schema = server.tools()["query_saved_query"].input_schema
    assert schema["properties"]["name"]["enum"] == sorted(load_model().saved_queries) and schema["required"] == ["name"]


@pytest.mark.parametrize("name", sorted(load_model().saved_queries))
def test_query_saved_query_gives_the_python_apis_answer(server, warehouse, name):
    answer = server.answer("query_saved_query", {"name": name})
    expected = query_metrics(saved_query=name, warehouse=warehouse, today=TODAY)
    assert answer["rows"] == frame_rows(expected.df) and answer["columns"] == list(expected.df.columns)
    assert [answer["date_range"]["start"], answer["date_range"]["end"]] == expected.metadata["date_range"]
    assert answer["saved_query"] == expected.metadata["saved_query"]
    assert answer["saved_query"]["as_of"] == TODAY.isoformat() and answer["explanation"] == expected.explanation


def test_an_unknown_saved_query_is_a_tool_error_with_the_hint(server):
    result = server.call("query_saved_query", {"name": "bugs_per_tst_by_month"})
    assert result.is_error and "did you mean 'bugs_per_test_by_month'?" in result.content[0].text


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "bigquery"])
def test_compiled_sql_is_explains_without_running(server, dialect):
    arguments = dict(metrics=["bugs_per_test"], dimensions=["month"], start_date="YTD",
                     filters={"testing_type": "coverage"})
    answer = server.answer("get_metrics_compiled_sql", {**arguments, "dialect": dialect})
    expected = explain(**arguments, dialect=dialect, today=TODAY)
    assert (answer["dialect"], answer["sql"], answer["explanation"]) == (dialect, expected.sql, expected.explanation)
    assert answer["date_range"] == {"start": "2025-01-01T00:00:00", "end": "2025-03-16T00:00:00"}
    if dialect == "duckdb":
        assert answer["sql"] == server.answer("query_metrics", arguments)["sql"]


def test_no_warehouse_handle_is_held_between_calls(server, warehouse):
    """A read-only handle in the server process would block the pipeline's writer (DuckDB locks across
    processes): between two calls, a writer opens the file at once."""
    server.answer("query_metrics", {"metrics": ["bug_count"]})
    writer = duckdb.connect(warehouse)
    try:
        writer.execute("CREATE TABLE writer_was_here AS SELECT 1 AS x")
        writer.execute("DROP TABLE writer_was_here")
    finally:
        writer.close()
    assert server.answer("query_metrics", {"metrics": ["bug_count"]})["rows"] == [{"bug_count": 11}]


def test_a_missing_warehouse_is_a_tool_error_that_says_how_to_build_it(tmp_path):
    query = dict((t.__name__, t) for t in SemanticTools(ServerOptions(warehouse=str(tmp_path / "none.duckdb"))).tools())
    with pytest.raises(ToolError, match=r"WarehouseNotFoundError: no warehouse at .*none\.duckdb \(the path given\): run `make demo`"):
        query["query_metrics"](metrics=["bug_count"])


def test_an_unexpected_exception_is_a_clean_tool_error_and_its_traceback_is_logged(caplog):
    def broken_tool():
        raise KeyError("boom")

    with pytest.raises(ToolError) as raised:
        tool_errors(broken_tool)()
    assert str(raised.value) == "internal error in broken_tool (KeyError: 'boom'); " \
                                "the server's log on stderr has the traceback"
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    record = caplog.records[-1]
    assert record.name == "semantic.mcp" and record.exc_info and record.exc_info[0] is KeyError


def _wait_for_port(log: Path, process: subprocess.Popen, within_s: float = 60.0) -> int:
    """The port uvicorn reports once it listens (``--port 0`` lets the system pick a free one)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        found = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", log.read_text())
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"the HTTP server did not start:\n{log.read_text()}")


def test_http_mode_on_loopback_reads_the_published_copy_with_the_given_models(tmp_path):
    """``--http`` on 127.0.0.1, driven by the SDK's streamable HTTP client: the answer comes from the
    read copy (which has one more critical bug than the main file) and the model of ``--models``."""
    main = tmp_path / "warehouse.duckdb"
    build_warehouse(main, **golden_rows())
    copy_rows = golden_rows()
    copy_rows["bugs"].append({"bug_id": 9200, "test_id": 3004, "severity": "critical", "status": "accepted"})
    build_warehouse(read_copy_path(main), **copy_rows)
    models = tmp_path / "models"
    shutil.copytree(ROOT / "semantic" / "models", models)
    (models / "extra.yaml").write_text(
        "metrics:\n  - name: critical_bug_count\n    description: Critical bugs in scope.\n"
        "    type: count_distinct\n    model: bugs\n    expr: bug_id\n    filter: \"severity = 'critical'\"\n")
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "semantic", "mcp", "--http", "--port", "0", "--warehouse", str(main),
             "--models", str(models)], cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        port = _wait_for_port(log, process)
        with connected(streamable_http_client(f"http://127.0.0.1:{port}/mcp")) as client:
            metrics = client.tools()["query_metrics"].input_schema["properties"]["metrics"]
            assert "critical_bug_count" in metrics["items"]["enum"]
            answer = client.answer("query_metrics", {"metrics": ["critical_bug_count", "bug_count"]})
        assert answer["rows"] == [{"critical_bug_count": 3, "bug_count": 11}]
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_http_mode_refuses_a_host_that_is_not_loopback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "semantic", "mcp", "--http", "--host", "0.0.0.0"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "0.0.0.0 is not a loopback address" in done.stderr and done.stdout == ""


def test_ctrl_c_stops_the_stdio_server_without_a_traceback(warehouse, tmp_path):
    log = tmp_path / "server.log"
    with open(log, "w") as err:
        # SIGINT as a terminal delivers it (a shell running the suite in the background ignores it)
        process = subprocess.Popen([str(SCRIPT), "mcp", "--warehouse", warehouse], cwd=tmp_path,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while "reading" not in log.read_text() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, log.read_text()
    assert out == b"" and "Traceback" not in log.read_text() and "stopped" in log.read_text()


def test_started_in_a_project_folder_with_no_variable_the_server_reads_its_warehouse(tmp_path):
    """As an MCP client configured with only the command starts it: no TESTIO_WAREHOUSE_PATH, the
    working directory somewhere inside a project (here a copy in tmp_path)."""
    project = tmp_path / "clone"
    (project / "data").mkdir(parents=True)
    (project / "notes").mkdir()
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    build_warehouse(project / "data" / "testio.duckdb", **_rows())
    log = tmp_path / "server.log"
    params = StdioServerParameters(command=str(SCRIPT), args=["mcp", "--today", TODAY.isoformat()], env={},
                                   cwd=project / "notes")
    arguments = QUERIES["ratio and NULL group by feature"]
    with open(log, "w") as errlog, connected(stdio_client(params, errlog=errlog)) as client:
        answer = client.answer("query_metrics", arguments)
    expected = query_metrics(**arguments, warehouse=str(project / "data" / "testio.duckdb"), today=TODAY)
    assert answer["rows"] == frame_rows(expected.df)
    assert f"reading {project / 'data' / 'testio.duckdb'} (the project folder found from the working directory)" \
        in log.read_text()
