"""Incremental refresh against a full refresh after one simulated hour (and one day).

The simulator runs as a separate process over loopback HTTP with ``--latency-ms`` latency per
response (see ``_harness``). Phase 0: the simulator starts at T0 and every asset is
materialised into a fresh warehouse. Then, for each step (1 hour, 1 day), the simulator is
restarted with ``--advance-hours`` (the same customer, its clock moved on) and, from copies
of the T0 warehouse:

- the incremental cycle the automation runs every 20 minutes: tests (+ test features and
  platforms), bugs and users with the default run config (the catalogue keeps its own
  6-hour schedule);
- a full refresh of every asset (``full_refresh: true``), the earlier system's every cycle.

Printed per step: API calls and wall-clock of each, their ratios, and the share of tests that
are new or changed (status or bugs) since T0. Figures only.

Run: ``python benchmarks/incremental_refresh.py [--scale benchmark] [--latency-ms 50] [--rounds 3]``:
each round from a fresh T0 warehouse; medians over the rounds, and the load average.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
from _harness import TOKEN, load_average, start_simulator, stop_on_signals, stop_process

from testio_assets.assets import ingestion_assets
from testio_assets.client.resource import TestIOApiResource
from testio_assets.simulator.clock import DEFAULT_START
from testio_assets.warehouse.resource import WarehouseResource

CONCURRENCY = 10
STEPS = {"1 hour": timedelta(hours=1), "1 day": timedelta(days=1)}
INCREMENTAL_CYCLE = ["tests", "test_features", "test_platforms", "bugs", "users"]
FULL_REFRESH = {"ops": {op: {"config": {"full_refresh": True}} for op in ("exploratory_tests", "bugs")}}
FETCHING_ASSETS = ("products", "features", "tests", "bugs")  # test_features/platforms share tests' calls


def materialize(base_url: str, database: Path, *, selection=None, run_config=None) -> tuple[float, dict]:
    """Materialise; return wall-clock seconds and, per fetching asset, its metadata values."""
    api = TestIOApiResource(token=TOKEN, base_url=base_url, concurrency=CONCURRENCY)
    # A deployment's instance exists before its runs: creating one is not part of a cycle.
    instance = dg.DagsterInstance.ephemeral()
    started = time.perf_counter()
    result = dg.materialize(
        ingestion_assets,
        selection=selection,
        run_config=run_config or {},
        resources={"testio_api": api, "warehouse": WarehouseResource(database=str(database))},
        instance=instance,
    )
    wall = time.perf_counter() - started
    metadata = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        name = materialization.asset_key.to_user_string()
        if name in FETCHING_ASSETS:
            metadata[name] = {k: v.value for k, v in materialization.metadata.items()}
    return wall, metadata


def calls(metadata: dict) -> int:
    return sum(m["api_calls"] for m in metadata.values())


def changed_tests(before: Path, after: Path) -> tuple[int, int, int, int]:
    """Tests now; new or with a changed status; with a bug added, changed or gone; either."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{before}' AS b (READ_ONLY)")
    con.execute(f"ATTACH '{after}' AS a (READ_ONLY)")
    total = con.execute("SELECT count(*) FROM a.tests").fetchone()[0]
    status = con.execute(
        "SELECT count(*) FROM a.tests t LEFT JOIN b.tests o USING (test_id) "
        "WHERE o.test_id IS NULL OR o.status IS DISTINCT FROM t.status"
    ).fetchone()[0]
    bugs = con.execute(
        "SELECT count(DISTINCT test_id) FROM ("
        "(SELECT * FROM a.bugs EXCEPT SELECT * FROM b.bugs) UNION ALL "
        "(SELECT * FROM b.bugs EXCEPT SELECT * FROM a.bugs))"
    ).fetchone()[0]
    either = con.execute(
        "SELECT count(*) FROM a.tests t LEFT JOIN b.tests o USING (test_id) "
        "WHERE o.test_id IS NULL OR o.status IS DISTINCT FROM t.status OR t.test_id IN ("
        "SELECT test_id FROM (SELECT * FROM a.bugs EXCEPT SELECT * FROM b.bugs) UNION "
        "SELECT test_id FROM (SELECT * FROM b.bugs EXCEPT SELECT * FROM a.bugs))"
    ).fetchone()[0]
    con.close()
    return total, status, bugs, either


def one_round(args: argparse.Namespace, tmp: Path) -> tuple[float, int, dict[str, dict]]:
    """T0's full sync, then each step's incremental cycle and full refresh: their figures."""
    base = tmp / "t0.duckdb"
    simulator, url = start_simulator(args.scale, args.latency_ms)
    try:
        t0_wall, t0 = materialize(url, base)
    finally:
        stop_process(simulator)
    figures = {}
    for label, step in STEPS.items():
        incremental_db, full_db = tmp / f"inc-{step}.duckdb", tmp / f"full-{step}.duckdb"
        shutil.copyfile(base, incremental_db)
        shutil.copyfile(base, full_db)
        simulator, url = start_simulator(args.scale, args.latency_ms, step)
        try:
            inc_wall, inc = materialize(url, incremental_db, selection=INCREMENTAL_CYCLE)
            full_wall, full = materialize(url, full_db, run_config=FULL_REFRESH)
        finally:
            stop_process(simulator)
        total, status, bugs, either = changed_tests(base, full_db)
        figures[label] = {
            "inc_wall": inc_wall, "inc": inc, "full_wall": full_wall, "full": full,
            "total": total, "status": status, "bugs": bugs, "either": either,
        }
        for path in (incremental_db, full_db):
            path.unlink()
    return t0_wall, calls(t0), figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="benchmark", choices=("tiny", "demo", "benchmark"))
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every step (medians are printed)")
    args = parser.parse_args()
    stop_on_signals()

    print(f"scale {args.scale}, latency {args.latency_ms:g} ms, concurrency {CONCURRENCY}, T0 "
          f"{DEFAULT_START.isoformat()}; {load_average()}", flush=True)
    rounds = []
    for round_no in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory() as tmp:
            t0_wall, t0_calls, figures = one_round(args, Path(tmp))
        rounds.append(figures)
        print(f"round {round_no}: first full sync {t0_calls:,} calls, {t0_wall:.2f} s; " + "; ".join(
            f"after {label}: incremental {f['inc_wall']:.2f} s, full {f['full_wall']:.2f} s"
            for label, f in figures.items()
        ) + f"; {load_average()}", flush=True)

    for label in STEPS:
        runs = [r[label] for r in rounds]
        first = runs[0]
        tests, bug_meta = first["inc"]["tests"], first["inc"]["bugs"]
        inc_wall = statistics.median(f["inc_wall"] for f in runs)
        full_wall = statistics.median(f["full_wall"] for f in runs)
        inc_calls = statistics.median(calls(f["inc"]) for f in runs)
        full_calls = statistics.median(calls(f["full"]) for f in runs)
        inc_rounds = ", ".join(f"{f['inc_wall']:.2f}" for f in runs)
        full_rounds = ", ".join(f"{f['full_wall']:.2f}" for f in runs)
        print(f"\nafter {label} (simulated), medians of {len(runs)} rounds:")
        print(f"  tests new or changed: {first['either']:,} of {first['total']:,} ({first['either'] / first['total']:.2%}): "
              f"{tests['tests_new']:,} new, {first['status'] - tests['tests_new']:,} status changes, "
              f"{first['bugs']:,} with bug changes")
        print(f"  incremental: {inc_calls:,.0f} calls (listing pages {tests['test_pages_fetched']:,} "
              f"+ {tests['api_calls'] - tests['test_pages_fetched'] - tests['tests_fetched_individually']:,} "
              f"speculative, stragglers one by one {tests['tests_fetched_individually']:,}, "
              f"bug batches {bug_meta['api_calls']:,} for {bug_meta['bug_tests_refetched']:,} tests; "
              f"{tests['tests_listed']:,} tests listed), {inc_wall:.2f} s "
              f"(rounds: {inc_rounds})")
        print(f"  full:        {full_calls:,.0f} calls (estimate reported by the incremental run "
              f"for tests + bugs: {tests['api_calls_full_refresh_estimate'] + bug_meta['api_calls_full_refresh_estimate']:,}), "
              f"{full_wall:.2f} s (rounds: {full_rounds})")
        print(f"  ratios:      calls {inc_calls / full_calls:.1%} (target <= 5%), "
              f"wall-clock {inc_wall / full_wall:.1%} (target <= 10%; rounds: "
              + ", ".join(f"{f['inc_wall'] / f['full_wall']:.1%}" for f in runs) + ")", flush=True)
    print(f"\nafter the rounds: {load_average()}")


if __name__ == "__main__":
    main()
