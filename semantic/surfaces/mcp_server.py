"""``testio-semantic mcp``: the semantic layer as an MCP server for AI assistants.

Built on the official MCP Python SDK (``MCPServer``). Tools, named as in the earlier system
(``get_analytics_capabilities``) and dbt's MCP server (the others):

- ``query_metrics``: the Python API's ``query_metrics`` (same arguments and guardrails); rows
  as JSON, with the explanation, warnings, freshness, resolved date range and SQL.
- ``get_metrics_compiled_sql``: the same question compiled for a SQL dialect, not run.
- ``list_metrics``, ``get_dimensions`` (which dimensions can group given metrics, with their
  declared values), ``get_analytics_capabilities`` (everything ``capabilities()`` says).
- ``list_saved_queries`` (the model's saved queries: each question as written, its table and
  exports) and ``query_saved_query`` (one answered by name, as ``query_metrics(saved_query=)``).

Every answer opens the warehouse for that call only (a DuckDB file through its published
``<stem>.read.duckdb`` copy when it exists, read-only), so the server never blocks the
pipeline's writer between calls. A :class:`~semantic.errors.SemanticError` comes back as a
tool error carrying its message (what is wrong, a did-you-mean, the valid names); anything
else as a one-line tool error, its traceback logged on stderr (in stdio mode stdout is the
protocol channel: the SDK diverts stray writes to stderr).

Tool descriptions and argument schemas are built from the model when the server starts, so the
metric, dimension and saved query names an assistant sees are the model's.

>>> tools = SemanticTools(ServerOptions())
>>> [t.__name__ for t in tools.tools()]  # doctest: +NORMALIZE_WHITESPACE
['query_metrics', 'get_metrics_compiled_sql', 'list_metrics', 'get_dimensions', 'get_analytics_capabilities',
 'list_saved_queries', 'query_saved_query']
>>> "severity" in tools.get_dimensions(["test_count"])["cannot_group"]
True
>>> loopback_host("0.0.0.0")
Traceback (most recent call last):
...
ValueError: 0.0.0.0 is not a loopback address; the MCP server listens on this machine only (127.0.0.1, ::1 or localhost)
"""

import functools
import inspect
import ipaddress
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from semantic.answer.warehouse import read_copy_path
from semantic.config import Guardrails
from semantic.errors import SemanticError, UnknownMetricError, WarehouseUnavailableError
from semantic.model.loader import load_model
from semantic.model.spec import Model
from semantic.plan.dates import ACCEPTED_FORMS
from semantic.plan.resolve import metric_inputs, resolve_metric
from semantic.plan.timegrain import LABELS
from semantic.plan.views import reaches
from semantic.project import warehouse_location
from semantic.sql.compiler import DIALECTS
from semantic.surfaces.query import capabilities, explain, query_metrics

log = logging.getLogger("semantic.mcp")

SERVER_NAME = "testio-semantic"
HTTP_PATH = "/mcp"
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                            open_world_hint=False)

INSTRUCTIONS = """\
Metrics of TestIO crowd testing (tests, bugs, features, testers) from the team's warehouse,
computed by a semantic layer whose definitions are the only source of truth: never compute a
metric yourself from other numbers, ask for it. Start with list_metrics (definitions) and
get_dimensions (what can group those metrics, with allowed filter values), then call
query_metrics. Report the answer's warnings (stale data, filters that do not restrict a
metric, rows cut by the limit) with the numbers. get_metrics_compiled_sql shows the SQL
without running it; get_analytics_capabilities describes everything at once."""


@dataclass(frozen=True)
class ServerOptions:
    """Where the server reads from: the warehouse file, the model folder, and the clock."""

    warehouse: str | None = None  # None: the rule of semantic.project (TESTIO_WAREHOUSE_URL, TESTIO_WAREHOUSE_PATH, the project's data/)
    models: str | None = None  # None: the packaged model
    today: date | None = None  # None: the UTC date at each call


def loopback_host(host: str) -> str:
    """The host if it is a loopback address (the only kind the server listens on), else ValueError.

    >>> loopback_host("127.0.0.1"), loopback_host("localhost"), loopback_host("::1")
    ('127.0.0.1', 'localhost', '::1')
    """
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"{host} is not a loopback address; the MCP server listens on this machine only "
            f"(127.0.0.1, ::1 or localhost)")
    return host


def tool_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Typed errors become tool errors with their message; anything else a one-line tool error
    (the SDK would answer only "Error executing tool X"), its traceback logged on stderr.

    >>> tool_errors(lambda: query_metrics(["bug_cnt"]))()
    Traceback (most recent call last):
    ...
    mcp.server.mcpserver.exceptions.ToolError: UnknownMetricError: unknown metric 'bug_cnt'; did you mean 'bug_count'?; ...
    """

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SemanticError as err:
            raise ToolError(f"{type(err).__name__}: {err}") from None
        except Exception as err:
            log.exception("tool %s failed unexpectedly", fn.__name__)
            first_line = next(iter(str(err).splitlines()), "")
            raise ToolError(f"internal error in {fn.__name__} ({type(err).__name__}: {first_line}); "
                            f"the server's log on stderr has the traceback") from None

    return call


def as_json(answer: dict[str, Any]) -> str:
    """A tool's answer as one line of JSON (the SDK would indent it, costing an assistant's context).

    >>> as_json({"rows": [{"bug_count": 3, "rate": None}]})
    '{"rows": [{"bug_count": 3, "rate": null}]}'
    """
    return json.dumps(answer, ensure_ascii=False, allow_nan=False)


def _json_word(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _names(names) -> str:
    return ", ".join(sorted(names))


class SemanticTools:
    """The tools, as plain methods over one set of options; :meth:`tools` gives them with the
    argument schemas (descriptions, enumerations) of the model loaded at start."""

    def __init__(self, options: ServerOptions):
        self.options = options
        self.startup_model = load_model(options.models)  # a broken model fails the start, not a call

    def model(self) -> Model:
        """The model for one call (cached by the loader until a file changes)."""
        return load_model(self.options.models)

    def answer(self, **request: Any) -> dict[str, Any]:
        """Run one query (``query_metrics`` arguments) and shape the answer for an assistant."""
        result = query_metrics(**request, warehouse=self.options.warehouse, today=self.options.today,
                               model=self.model())
        out = result.to_dict()
        meta = out.pop("metadata")
        start, end = meta["date_range"]
        return {
            "columns": out["columns"], "rows": out["rows"], "row_count": len(out["rows"]),
            "total_rows": meta["total_rows"], "warnings": out["warnings"], "explanation": out["explanation"],
            "date_range": {"start": start, "end": end,
                           "meaning": "UTC timestamps, start inclusive, end exclusive; null is unbounded"},
            "freshness": meta["freshness"], "partial_periods": meta["partial_periods"],
            "metrics_used": meta["metrics_used"],
            "dimensions_used": meta["dimensions_used"], "sql": out["sql"], "dialect": meta["dialect"],
            "engine": meta["engine"], "query_time_ms": round(meta["query_time_ms"], 1),
            **({"saved_query": meta["saved_query"]} if "saved_query" in meta else {}),
        }

    def compiled_sql(self, dialect: str | None = None, **request: Any) -> dict[str, Any]:
        result = explain(**request, dialect=dialect, warehouse=self.options.warehouse, today=self.options.today,
                         model=self.model())
        start, end = result.metadata["date_range"]
        return {"dialect": result.metadata["dialect"], "sql": result.sql, "explanation": result.explanation,
                "warnings": result.warnings, "date_range": {"start": start, "end": end},
                "tables": result.metadata["tables"]}

    def list_metrics(self) -> dict[str, Any]:
        metrics = capabilities(self.model())["metrics"]
        return {"metrics": [{"name": name, **spec} for name, spec in metrics.items()]}

    def get_dimensions(self, metrics: list[str]) -> dict[str, Any]:
        model = self.model()
        if not metrics:
            raise UnknownMetricError("no metric given; name at least one of: "
                                     + _names(n for n, m in model.metrics.items() if not m.hidden))
        resolved = [resolve_metric(model, name) for name in dict.fromkeys(metrics)]
        sources = {model.metrics[i.metric].model for m in resolved for i in metric_inputs(model, m)}
        described = capabilities(model)["dimensions"]
        groupable = [name for name, dim in sorted(model.dimensions.items())
                     if all(reaches(model, dim, source) for source in sources)]
        return {
            "metrics": [m.name for m in resolved],
            "dimensions": [{"name": name, **described[name]} for name in groupable],
            "cannot_group": sorted(set(model.dimensions) - set(groupable)),
            "note": "every dimension can filter; a filter on one in cannot_group does not restrict the parts of "
                    "these metrics computed on tables it cannot reach (a bug-only filter and test counts), and "
                    "the answer's warnings say so",
        }

    def capabilities(self) -> dict[str, Any]:
        return capabilities(self.model())

    def list_saved_queries(self) -> dict[str, Any]:
        return {"saved_queries": list(capabilities(self.model())["saved_queries"].values())}

    def tools(self) -> list[Callable[..., Any]]:
        """The tool functions, named and documented for an assistant, arguments typed and described."""
        model = self.startup_model
        metric_names = sorted(n for n, m in model.metrics.items() if not m.hidden)
        dimension_names = sorted(model.dimensions)
        limits = Guardrails.from_env()
        declared = "; ".join(f"{name}: {', '.join(map(_json_word, dim.allowed_values))}"
                             for name, dim in sorted(model.dimensions.items()) if dim.allowed_values is not None)
        ids = _names(f"{name}_id" for name, dim in model.dimensions.items() if dim.has_id)
        by_grain: dict[str, list[str]] = {}
        for name, dim in model.dimensions.items():
            by_grain.setdefault(model.models[dim.model].entity, []).append(name)
        grains = "; ".join(f"{grain}-grain: {_names(names)}" for grain, names in sorted(by_grain.items()))
        forms = "; ".join(ACCEPTED_FORMS)
        time_labels = ", ".join(f"{name} {LABELS[dim.granularity].example}"
                                for name, dim in sorted(model.dimensions.items()) if dim.is_time)

        Metrics = Annotated[list[str], Field(
            description=f"Metric names (at least one): {', '.join(metric_names)}. list_metrics gives their "
                        f"definitions.",
            json_schema_extra={"items": {"type": "string", "enum": metric_names}})]
        Dimensions = Annotated[list[str], Field(
            description=f"Dimensions to group by, at most {limits.max_dimensions}; [] (the default) for one total "
                        f"row. Names: {', '.join(dimension_names)}. Dimensions by grain ({grains}): a bug-grain "
                        f"dimension groups only bug metrics (get_dimensions tells which dimensions can group given "
                        f"metrics). Time dimensions group by the test's end (UTC), labelled {time_labels}. An entity "
                        f"dimension also returns its <name>_id column.",
            json_schema_extra={"items": {"type": "string", "enum": dimension_names}})]
        Filters = Annotated[dict[str, str | int | float | bool | None | list[str | int | float | bool | None]] | None,
                            Field(description=(
            "Filters on any dimension, grouped or not, as {dimension: value}: a value means equality, a list "
            "means IN, null means IS NULL (the NULL group, e.g. {\"feature\": null}: bugs attributed to no feature), "
            "[value, null] means IN or "
            f"NULL. Keys are dimension names or the id columns {ids}. Examples: {{\"severity\": \"critical\"}}, "
            "{\"severity\": [\"critical\", \"high\"]}, {\"feature\": null}, {\"product_id\": 1001}, "
            "{\"month\": \"2025-02\"}, {\"known_bug\": false}. Where a dimension declares its values, a value "
            f"outside them is an error with a suggestion: {declared}. Other values (product, feature, tester names) are labels as "
            "query_metrics returns them. A test_status filter replaces the default scope of executed tests."))]
        StartDate = Annotated[str | None, Field(description=(
            "First day counted, from 00:00 UTC, on the test's end date (bugs follow their test). An ISO date or a "
            f"relative form: {forms}. A period alone (no end_date) means the whole period: 'last month' is the "
            "previous calendar month. Examples: '2025-01-01', 'last 30 days', 'this quarter', 'last month', "
            "'YTD', '3 months ago'. Omit for no lower bound."))]
        EndDate = Annotated[str | None, Field(description=(
            "Last day counted, through 23:59:59 UTC. Same forms as start_date; a period contributes its last day "
            "('last month' ends on its last day). Omit for no upper bound."))]
        SortBy = Annotated[str | list[str] | None, Field(description=(
            "A requested metric or dimension (or a list of them) to sort by. Default: the first time dimension "
            "ascending, else the first metric descending."))]
        SortOrder = Annotated[Literal["asc", "desc"], Field(description="Direction of sort_by.")]
        Limit = Annotated[int | None, Field(description=(
            f"Maximum rows returned (default {limits.default_row_limit}, capped at {limits.max_row_limit}); "
            "total_rows says how many the full answer has."))]
        FillMissing = Annotated[bool, Field(description=(
            "List every known member of each dimension (e.g. every month of the date range, every feature), "
            "with zero counts, instead of only members that occur."))]
        Dialect = Annotated[Literal[DIALECTS] | None, Field(
            description="SQL dialect to render; default: the dialect of the warehouse's engine (what query_metrics runs).")]
        saved_names = sorted(model.saved_queries)
        SavedQueryName = Annotated[str, Field(
            description=f"Name of a saved query: {', '.join(saved_names) or '(the model has none)'}. "
                        f"list_saved_queries gives the question each one asks.",
            json_schema_extra={"enum": saved_names} if saved_names else None)]

        @tool_errors
        def query_metrics(metrics: Metrics, dimensions: Dimensions = [], filters: Filters = None,  # noqa: B006
                          start_date: StartDate = None, end_date: EndDate = None, sort_by: SortBy = None,
                          sort_order: SortOrder = "desc", limit: Limit = None,
                          fill_missing: FillMissing = False) -> str:
            """Compute metrics, optionally grouped by dimensions, filtered and limited to a date range.

            Returns rows (one object per row: one key per dimension label, <dimension>_id for entity
            dimensions, one per metric; null is a real group such as unattributed bugs, or a ratio with a
            zero denominator), columns, total_rows, an explanation in words of what was counted, warnings
            (stale data, filters that do not restrict a metric, rows cut by the limit, partial periods), the
            freshness of every table read, partial_periods (time labels still open or cut by the date range, whose
            figures are not comparable with whole periods), the resolved date range and the SQL that ran (on the warehouse's engine, named in engine). Example: bugs per test by month this
            year: metrics=["bugs_per_test"], dimensions=["month"], start_date="this year"."""
            return as_json(self.answer(metrics=metrics, dimensions=dimensions, filters=filters,
                                       start_date=start_date, end_date=end_date, sort_by=sort_by,
                                       sort_order=sort_order, limit=limit, fill_missing=fill_missing))

        @tool_errors
        def get_metrics_compiled_sql(metrics: Metrics, dimensions: Dimensions = [],  # noqa: B006
                                     filters: Filters = None, start_date: StartDate = None,
                                     end_date: EndDate = None, sort_by: SortBy = None, sort_order: SortOrder = "desc",
                                     limit: Limit = None, fill_missing: FillMissing = False,
                                     dialect: Dialect = None) -> str:
            """The SQL that query_metrics would run for the same arguments, rendered for a SQL dialect,
            without running it, with the explanation and warnings. Use it to show or reuse the SQL; use
            query_metrics for numbers."""
            return as_json(self.compiled_sql(dialect, metrics=metrics, dimensions=dimensions, filters=filters,
                                             start_date=start_date, end_date=end_date, sort_by=sort_by,
                                             sort_order=sort_order, limit=limit, fill_missing=fill_missing))

        @tool_errors
        def list_metrics() -> str:
            """Every metric: name, description, type (count, ratio, ...), the tables it is computed on, its
            formula in words and as SQL."""
            return as_json(self.list_metrics())

        @tool_errors
        def get_dimensions(metrics: Metrics) -> str:
            """The dimensions that can group all the given metrics (description, grain, id column, value type,
            declared values where the model lists them, time granularity and label format), and the ones
            that cannot."""
            return as_json(self.get_dimensions(metrics))

        @tool_errors
        def get_analytics_capabilities() -> str:
            """Everything that can be asked at once: dimensions, metrics with formulas, filter syntax and the
            default scope, limits (max dimensions, row limits, query timeout), accepted date forms, SQL
            dialects."""
            return as_json(self.capabilities())

        @tool_errors
        def list_saved_queries() -> str:
            """The team's saved queries: named questions asked again and again (each one's description,
            metrics, group_by, where filters, order_by, limit, dates as written, the warehouse table
            metrics.<name> that holds its materialised answer, and its file exports)."""
            return as_json(self.list_saved_queries())

        @tool_errors
        def query_saved_query(name: SavedQueryName) -> str:
            """Answer a saved query by name, exactly as query_metrics answers the question it stands for.
            Its dates are resolved today (a trend grouped by month starts on the first day of its first
            month); saved_query in the answer says how, and date_range gives the range. Same answer shape
            as query_metrics."""
            return as_json(self.answer(saved_query=name))

        return [query_metrics, get_metrics_compiled_sql, list_metrics, get_dimensions, get_analytics_capabilities,
                list_saved_queries, query_saved_query]


def build_server(options: ServerOptions) -> MCPServer:
    """The MCP server with every tool registered (nothing opened yet)."""
    server = MCPServer(SERVER_NAME, instructions=INSTRUCTIONS, log_level="INFO")
    for tool in SemanticTools(options).tools():
        server.add_tool(tool, description=inspect.cleandoc(tool.__doc__), annotations=READ_ONLY,
                        structured_output=False)
    return server


def _log_warehouse(options: ServerOptions) -> None:
    """Say which warehouse the server reads (a file, or a server's URL without its password), and
    which part of the rule chose it."""
    try:
        location = warehouse_location(options.warehouse)
    except WarehouseUnavailableError as err:
        log.warning("%s (query_metrics reports this until it is set)", err)
        return
    if location.path is None:
        log.info("testio-semantic MCP server reading %s on %s", location.describe(), location.engine)
        return
    path = location.path
    read_from = read_copy_path(path) if read_copy_path(path).exists() else path
    log.info("testio-semantic MCP server reading %s (%s)%s", read_from.resolve(), location.found_by,
             "" if read_from.exists() else "; not there yet: query_metrics reports it until `make demo` builds it")


def serve(options: ServerOptions, *, http: bool = False, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the server over stdio (the default) or streamable HTTP on a loopback address."""
    # Plain lines on stderr (the SDK would install a terminal-width handler): MCP clients keep the
    # server's stderr as its log. In stdio mode stdout carries the protocol and nothing else.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = build_server(options)
    try:
        _log_warehouse(options)
        if http:
            log.info("streamable HTTP on %s, path %s, port %s", host, HTTP_PATH, port or "chosen by the system (below)")
            server.run("streamable-http", host=loopback_host(host), port=port, streamable_http_path=HTTP_PATH)
        else:
            server.run("stdio")
    except KeyboardInterrupt:  # Ctrl-C in a terminal: a stop, not a crash
        log.info("stopped")
