"""``testio-semantic``: query metrics, list the model and validate it from a shell (like ``mf``).

    testio-semantic query --metrics bug_count,bugs_per_test --group-by month \\
        --where "severity=critical|high" --start "this year" --order -bug_count --limit 10
    testio-semantic query --metrics bug_count --group-by feature --explain
    testio-semantic query --saved-query critical_bugs_by_feature_this_quarter
    testio-semantic export bugs_per_test_by_month --format csv --output bugs.csv
    testio-semantic list metrics
    testio-semantic list dimensions
    testio-semantic list dimension-values severity     # each value with how many bugs have it
    testio-semantic list saved-queries
    testio-semantic validate
    testio-semantic mcp                       # MCP server for AI assistants over stdio
    testio-semantic mcp --http --port 8000    # ... or streamable HTTP on 127.0.0.1

Every mistake prints one line on stderr (one per unknown name when a query names several)
and exits 2; ``validate`` exits 1 when the model has problems, printing each as
``file:line: problem``. The warehouse is found by the one rule of :mod:`semantic.project`
(``--warehouse``, else ``$TESTIO_WAREHOUSE_PATH``, else the project folder's
``data/testio.duckdb``), from any working directory; the project's ``.env`` is read first
(variables already set win). ``--models`` points any command at another model folder.

>>> parse_where(["severity=critical|high", "feature=null", "tester=x=y"])
{'severity': ['critical', 'high'], 'feature': None, 'tester': 'x=y'}
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import sqlglot

from semantic.answer.exports import EXPORTS_DIR_ENV, exports_dir, write_export
from semantic.answer.engines import open_engine
from semantic.answer.materialised import read_materialised, table_of
from semantic.answer.warehouse import read_copy_path
from semantic.config import Guardrails
from semantic.errors import ModelValidationError, SemanticError, UnknownNamesError
from semantic.model.loader import load_model, validate_against_warehouse
from semantic.model.spec import EXPORT_FORMATS, Dimension, Metric, Model
from semantic.plan.resolve import filter_target, filter_value_type, resolve_dimension, resolve_metric
from semantic.plan.saved_queries import check_saved_queries, saved_query
from semantic.plan.views import reaches
from semantic.project import load_project_env, warehouse_location
from semantic.sql.compiler import DIALECTS
from semantic.sql.metrics import metric_formula
from semantic.surfaces.query import describe_saved_query, explain, query_metrics

OUTPUTS = ("table", "csv", "json")
NULL_GROUP = "(none)"  # how a table shows a NULL group (csv and json keep null)


class UsageError(SemanticError):
    """A command line the parser cannot make sense of."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of usage + message
        raise UsageError(f"{message} (see {self.prog} --help)")


def parse_where(clauses: Sequence[str]) -> dict[str, Any]:
    """``dim=value`` as equality, ``dim=a|b`` as a list, ``dim=null`` as NULL."""
    filters: dict[str, Any] = {}
    for clause in clauses:
        name, sep, value = clause.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--where {clause!r} is not of the form dimension=value (a|b for a list, null for NULL)")
        if name in filters:
            raise UsageError(f"--where names {name!r} twice; give one clause with a|b for several values")
        value = value.strip()
        if value.lower() == "null":
            filters[name] = None
        elif "|" in value:
            filters[name] = [v.strip() for v in value.split("|")]
        else:
            filters[name] = value
    return filters


def _typed_filters(filters: dict[str, Any], models: str | None = None) -> dict[str, Any]:
    """Shell text to the type the filter compares with (``known_bug=true`` is a boolean,
    ``product_id=1001`` an integer); an unknown name is left for the query to refuse."""
    model = load_model(models)

    def convert(name: str, value: str) -> Any:
        try:
            kind = filter_value_type(*filter_target(model, name))
        except SemanticError:
            return value
        if kind == "boolean" and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if kind == "integer" and value.lstrip("-").isdigit():
            return int(value)
        return value

    return {
        name: None if value is None else [convert(name, v) for v in value] if isinstance(value, list)
        else convert(name, value)
        for name, value in filters.items()
    }


def _csv(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="testio-semantic", description="Query the TestIO semantic layer.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    query = commands.add_parser("query", help="compute metrics by dimensions, or answer a saved query")
    query.add_argument("--metrics", help="comma-separated metric names")
    query.add_argument("--saved-query", metavar="NAME",
                       help="answer this saved query (instead of --metrics and the options that shape a question)")
    query.add_argument("--group-by", default="", help="comma-separated dimension names (at most the configured maximum)")
    query.add_argument("--where", action="append", default=[], metavar="DIM=VALUE",
                       help="filter; repeatable; a|b for a list, null for NULL")
    query.add_argument("--start", help="start date: ISO (2025-02-01) or relative ('3 months ago', 'last month', 'YTD')")
    query.add_argument("--end", help="end date, inclusive through the end of that day")
    query.add_argument("--order", help="metric or dimension to sort by; prefix with - for descending")
    query.add_argument("--limit", type=int, help="maximum rows (capped by the configured row limit)")
    query.add_argument("--fill-missing", action="store_true", help="list every member of each dimension")
    query.add_argument("--explain", action="store_true", help="print the SQL and its explanation instead of running it")
    query.add_argument("--dialect", choices=DIALECTS,
                       help="show the SQL in this dialect (--explain prints it; without --explain the answer is "
                            "still computed on the warehouse's engine, and a warning says so); default: the "
                            "warehouse's engine's")
    query.add_argument("--output", default="table", choices=OUTPUTS)
    query.add_argument("--today", type=date.fromisoformat, help="the clock's date for relative dates (default: today, UTC)")
    _source_options(query)

    listing = commands.add_parser("list", help="list metrics, dimensions, saved queries, or one dimension's values "
                                               "with counts")
    listing.add_argument("what", choices=("metrics", "dimensions", "saved-queries", "dimension-values"))
    listing.add_argument("dimension", nargs="?", help="with dimension-values: the dimension whose values to list")
    listing.add_argument("--metric", help="with dimension-values: the metric counted per value (default: the count "
                                          "of the dimension's own entity, test_count or bug_count)")
    listing.add_argument("--output", default="table", choices=OUTPUTS)
    _source_options(listing)

    export = commands.add_parser("export", help="write a saved query's answer to a file (csv, parquet, json)")
    export.add_argument("name", help="the saved query")
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    export.add_argument("--output", metavar="PATH",
                        help="file to write (default: <exports directory>/<name>.<format>; the exports directory is "
                             f"${EXPORTS_DIR_ENV}, else exports/ beside the warehouse)")
    export.add_argument("--fresh", action="store_true",
                        help="answer the saved query now, instead of exporting its materialised table metrics.<name>")
    export.add_argument("--today", type=date.fromisoformat,
                        help="with --fresh: the clock's date for its dates (default: today, UTC)")
    _source_options(export)

    validate = commands.add_parser("validate", help="load and validate the model (and the warehouse, when present)")
    _source_options(validate)

    mcp = commands.add_parser("mcp", help="serve the semantic layer to AI assistants (Model Context Protocol)")
    mcp.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    mcp.add_argument("--host", default="127.0.0.1",
                     help="loopback address to listen on with --http (default 127.0.0.1)")
    mcp.add_argument("--port", type=int, default=8000, help="port with --http (default 8000; 0 picks a free one)")
    mcp.add_argument("--today", type=date.fromisoformat,
                     help="the clock's date for relative dates (default: today, UTC, at each call)")
    _source_options(mcp)
    return parser


def _source_options(parser: argparse.ArgumentParser) -> None:
    """``--warehouse`` and ``--models``, the same for every command."""
    parser.add_argument("--warehouse", help="DuckDB file, duckdb:///path, md:database (MotherDuck) or "
                                            "postgresql://user:password@host:5432/db (default: $TESTIO_WAREHOUSE_URL, "
                                            "else $TESTIO_WAREHOUSE_PATH, else data/testio.duckdb in the project "
                                            "folder, found from any working directory)")
    parser.add_argument("--models", help="model directory or file (default: the packaged model)")


# Options that shape a question: a saved query is a whole question and takes none of them.
QUESTION_OPTIONS = ("metrics", "group_by", "where", "start", "end", "order", "limit", "fill_missing")


def _request(args: argparse.Namespace) -> dict[str, Any]:
    if args.saved_query is not None:
        given = [f"--{o.replace('_', '-')}" for o in QUESTION_OPTIONS if getattr(args, o) not in (None, "", [], False)]
        if given:
            raise UsageError(f"--saved-query is a whole question and takes no {', '.join(given)}; drop them, or "
                             f"ask the question with --metrics")
        return dict(saved_query=args.saved_query, model=args.models)
    if not args.metrics:
        raise UsageError("give --metrics (see `testio-semantic list metrics`) or --saved-query "
                         "(see `testio-semantic list saved-queries`)")
    sort_by, sort_order = None, "desc"
    if args.order:
        sort_by = args.order.lstrip("-")
        sort_order = "desc" if args.order.startswith("-") else "asc"
    return dict(
        metrics=_csv(args.metrics), dimensions=_csv(args.group_by),
        filters=_typed_filters(parse_where(args.where), args.models) or None,
        start_date=args.start, end_date=args.end, sort_by=sort_by, sort_order=sort_order, limit=args.limit,
        fill_missing=args.fill_missing, model=args.models,
    )


def _query(args: argparse.Namespace) -> int:
    request = _request(args)
    if args.explain:
        explained = explain(**request, dialect=args.dialect, warehouse=args.warehouse, today=args.today)
        print(_pretty(explained.sql, explained.metadata["dialect"]))
        print("\n" + "\n".join(f"-- {line}" for line in explained.explanation.splitlines()))
        return 0
    result = query_metrics(**request, dialect=args.dialect, warehouse=args.warehouse, today=args.today)
    if "saved_query" in result.metadata:
        print(f"saved query {args.saved_query}: {result.metadata['saved_query']['dates']}", file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _print_frame(result.df, result.metadata["dimensions_used"], args.output)
    return 0


def _print_frame(frame, dimensions: Sequence[str], output: str) -> None:
    """An answer on stdout: csv and json keep NULL as null; a table shows a NULL group as (none)."""
    if output == "csv":
        frame.to_csv(sys.stdout, index=False, lineterminator="\n")
    elif output == "json":
        print(frame.to_json(orient="records", date_format="iso"))
    elif not len(frame):
        print("(no rows)")
    else:
        groups = [c for d in dimensions for c in (d, f"{d}_id") if c in frame.columns]
        shown = frame.astype({c: object for c in groups})
        shown[groups] = shown[groups].where(frame[groups].notna(), NULL_GROUP)
        print(shown.to_string(index=False))


def _pretty(sql: str, dialect: str) -> str:
    """The SQL laid out on several lines for reading (unchanged if sqlglot cannot re-read it)."""
    try:
        return sqlglot.transpile(sql, read=dialect, write=dialect, pretty=True)[0]
    except sqlglot.errors.SqlglotError:
        return sql


def _list(args: argparse.Namespace) -> int:
    if args.what == "dimension-values":
        return _dimension_values(args)
    if args.dimension or args.metric:
        raise UsageError(f"list {args.what} takes no dimension or --metric (they go with list dimension-values)")
    model = load_model(args.models)
    if args.what == "saved-queries":
        rows = [_saved_query_row(describe_saved_query(sq), args.output)
                for sq in sorted(model.saved_queries.values(), key=lambda sq: sq.name)]
    elif args.what == "metrics":
        rows = [
            {"name": m.name, "type": m.type, "formula": metric_formula(model, m), "description": m.description}
            for m in sorted(model.metrics.values(), key=lambda m: m.name) if not m.hidden
        ]
    else:
        rows = [
            {"name": d.name, "type": f"time ({d.granularity})" if d.is_time else "categorical",
             "id": f"{d.name}_id" if d.has_id else "", "values": _values(d, args.output), "description": d.description}
            for d in sorted(model.dimensions.values(), key=lambda d: d.name)
        ]
    if args.output == "json":
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"(no {args.what})")
        return 0
    if args.output == "csv":
        import pandas as pd

        pd.DataFrame(rows).to_csv(sys.stdout, index=False, lineterminator="\n")
        return 0
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in rows[0]}
    print("  ".join(k.ljust(w) for k, w in widths.items()).rstrip())
    for row in rows:
        print("  ".join(str(row[k]).ljust(w) for k, w in widths.items()).rstrip())
    return 0


def entity_count_metric(model: Model, dim: Dimension) -> Metric:
    """The metric counting the entities of a dimension's own table (test_count for a test
    dimension, bug_count for a bug dimension): a visible count of its primary key, no filter.

    >>> m = load_model()
    >>> entity_count_metric(m, m.dimensions["severity"]).name, entity_count_metric(m, m.dimensions["month"]).name
    ('bug_count', 'test_count')
    """
    key = model.models[dim.model].primary_key
    for metric in sorted(model.metrics.values(), key=lambda m: m.name):
        if (metric.model == dim.model and metric.type in ("count", "count_distinct") and not metric.hidden
                and metric.filter is None and metric.expr is not None and metric.expr.sql() in key):
            return metric
    raise SemanticError(f"no metric counts the rows of {dim.model}: name one with --metric")


def _dimension_values(args: argparse.Namespace) -> int:
    """Every value of a dimension in the warehouse (label and id), with a metric per value, in
    the default scope: what a --where on it can select, and how much each value holds."""
    if not args.dimension:
        raise UsageError("list dimension-values needs a dimension: testio-semantic list dimension-values severity "
                         "(see testio-semantic list dimensions)")
    model = load_model(args.models)
    dim = resolve_dimension(model, args.dimension)
    metric = resolve_metric(model, args.metric) if args.metric else entity_count_metric(model, dim)
    limit = Guardrails.from_env().max_row_limit
    result = query_metrics([metric.name], [dim.name], sort_by=dim.name, sort_order="asc", limit=limit,
                           warehouse=args.warehouse, model=model)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _print_frame(result.df, [dim.name], args.output)
    return 0


def _saved_query_row(described: dict[str, Any], output: str) -> dict[str, Any]:
    """A saved query as JSON gives it, or as one table (or csv) row: its question in CLI words."""
    if output == "json":
        return described
    dates = " .. ".join(d or "open" for d in (described["start_date"], described["end_date"])) \
        if described["end_date"] else described["start_date"] or "all dates"
    where = "; ".join(f"{k}={'|'.join(map(str, v)) if isinstance(v, list) else 'null' if v is None else v}"
                      for k, v in described["where"].items())
    return {"name": described["name"], "metrics": ",".join(described["metrics"]),
            "group_by": ",".join(described["group_by"]), "where": where, "dates": dates,
            "exports": ",".join(e["path"] for e in described["exports"]), "description": described["description"]}


def _export(args: argparse.Namespace) -> int:
    """The materialised table of a saved query (or, with --fresh, an answer now) to a file."""
    target = Path(args.output) if args.output else exports_dir(args.warehouse) / f"{args.name}.{args.format}"
    if args.fresh:
        result = query_metrics(saved_query=args.name, warehouse=args.warehouse, today=args.today, model=args.models)
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        frame, source = result.df, f"answered now, {result.metadata['saved_query']['dates']}"
    else:
        if args.today is not None:
            raise UsageError("--today applies to --fresh only: a materialised table keeps the day it was built on")
        saved_query(load_model(args.models), args.name)  # an unknown name is an error with a did-you-mean
        with open_engine(args.warehouse) as con:
            stored = read_materialised(con, args.name)
        frame = stored.df
        source = f"{table_of(args.name)} as materialised at {stored.loaded_at:%Y-%m-%d %H:%M} UTC, {stored.dates}"
    written = write_export(frame, args.format, target)
    print(f"wrote {len(frame)} rows of {args.name} to {written} ({source})")
    return 0


def _values(dim, output: str):
    """A dimension's declared values (JSON: a list, or null when it declares none)."""
    if output == "json":
        return None if dim.allowed_values is None else list(dim.allowed_values)
    return "" if dim.allowed_values is None else "|".join(str(v).lower() if isinstance(v, bool) else str(v)
                                                           for v in dim.allowed_values)


def _validate(args: argparse.Namespace) -> int:
    location = warehouse_location(args.warehouse)
    target = location.path
    try:
        model = load_model(args.models)
        check_saved_queries(model)
        checked = f"model (no warehouse at {target}: its tables and columns were not checked)"
        if target is None or target.exists() or read_copy_path(target).exists():
            with open_engine(args.warehouse) as con:
                validate_against_warehouse(model, con)
            checked = f"model and warehouse {con.where}"
    except ModelValidationError as err:
        for problem in getattr(err, "problems", None) or [str(err)]:
            print(_located(problem), file=sys.stderr)
        return 1
    print(f"ok: {checked} valid ({len(model.metrics)} metrics, {len(model.dimensions)} dimensions, "
          f"{len(model.saved_queries)} saved queries)")
    return 0


def _mcp(args: argparse.Namespace) -> int:
    # Imported here: the MCP SDK takes about a second to import, which no other command should pay.
    from semantic.surfaces.mcp_server import ServerOptions, loopback_host, serve

    try:
        host = loopback_host(args.host)
    except ValueError as err:
        raise UsageError(f"--host: {err}") from None
    serve(ServerOptions(warehouse=args.warehouse, models=args.models, today=args.today),
          http=args.http, host=host, port=args.port)
    return 0


def _located(problem: str) -> str:
    """``message at file:line`` as ``file:line: message`` (what editors and CI annotate)."""
    message, sep, where = problem.rpartition(" at ")
    return f"{where}: {message}" if sep and ":" in where and " " not in where else problem


def _attach_order(argv: list[str]) -> list[str]:
    """``--order -bug_count`` as ``--order=-bug_count``: argparse would read ``-bug_count`` as an option."""
    out = []
    for arg in argv:
        if out and out[-1] == "--order" and arg.startswith("-"):
            out[-1] = f"--order={arg}"
        else:
            out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 invalid model, 2 bad input)."""
    try:
        load_project_env()
        args = _build_parser().parse_args(_attach_order(list(sys.argv[1:] if argv is None else argv)))
        commands = {"query": _query, "list": _list, "export": _export, "validate": _validate, "mcp": _mcp}
        return commands[args.command](args)
    except UnknownNamesError as err:
        for each in err.errors:
            print(f"error: {str(each).splitlines()[0]}", file=sys.stderr)
        return 2
    except SemanticError as err:
        print(f"error: {str(err).splitlines()[0] if str(err) else type(err).__name__}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `| head` closed the pipe: not an error worth a message
        return 0
    except Exception as err:  # never a traceback on a terminal; the message still says what failed
        print(f"error: {type(err).__name__}: {err}".splitlines()[0], file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
