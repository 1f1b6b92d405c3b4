"""Full sync of the benchmark customer over real loopback HTTP, against its latency bound.

The simulator runs as a separate process (``python -m testio_assets.simulator``) so its CPU
work does not share the client's GIL; every response carries ``--latency-ms`` of latency.
The real assets then materialise through ``dg.materialize`` into a fresh DuckDB file.

The lower bound of a fetch phase is the larger of the throughput bound
(calls x latency / concurrency) and its chain of dependent round trips x latency (a product's
test listing is walked with a lookahead that doubles from 1 to the concurrency, so its pages
take that many sequential rounds). Phases run one after the other, so their bounds add up.

Run: ``python benchmarks/ingest_full_sync.py [--scale benchmark] [--latency-ms 50] [--rounds 3]``.
Prints figures only: the medians of ``--rounds`` full syncs against one simulator, each round's
wall-clock, and the load average the rounds ran at.
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import duckdb

from _harness import TOKEN, load_average, peak_rss_mb, start_simulator, stop_on_signals, stop_process

from testio_assets.assets import ingestion_assets
from testio_assets.client.resource import TestIOApiResource
from testio_assets.client.stats import ENDPOINT_KINDS
from testio_assets.warehouse.resource import WarehouseResource

CONCURRENCY = 10
PER_PAGE = 25
# Fetch phases in the order the in-process executor runs them.
PHASES = {"products": ("products",), "features": ("features", "section_features"),
          "tests": ("tests_pages",), "bugs": ("bugs",)}


def listing_rounds(pages: int) -> int:
    """Sequential round trips to walk ``pages`` pages with a lookahead doubling to CONCURRENCY."""
    rounds, fetched, lookahead = 0, 0, 1
    while fetched < pages:
        fetched += lookahead
        rounds += 1
        lookahead = min(lookahead * 2, CONCURRENCY)
    return rounds


def one_sync(base_url: str) -> dict:
    """One full sync into a fresh warehouse; its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "testio.duckdb"
        api = TestIOApiResource(token=TOKEN, base_url=base_url, concurrency=CONCURRENCY)
        started = time.perf_counter()
        result = dg.materialize(
            ingestion_assets,
            resources={"testio_api": api, "warehouse": WarehouseResource(database=str(database))},
            instance=dg.DagsterInstance.ephemeral(),
        )
        wall = time.perf_counter() - started
        con = duckdb.connect(str(database), read_only=True)
        rows = dict(con.execute("SELECT table_name, row_count FROM _table_loads").fetchall())
        pages_by_product = [
            n // PER_PAGE + 1
            for (n,) in con.execute("SELECT count(*) FROM tests GROUP BY product_id").fetchall()
        ]
        con.close()
    calls: Counter[str] = Counter()
    step_seconds: dict[str, float] = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            metadata = event.event_specific_data.materialization.metadata
            if event.event_specific_data.materialization.asset_key.to_user_string() in ("products", "features", "tests", "bugs"):
                for kind in ENDPOINT_KINDS:
                    calls[kind] += metadata.get(f"api_calls_{kind}", dg.IntMetadataValue(0)).value
        if event.is_step_success:
            step_seconds[event.step_key] = event.event_specific_data.duration_ms / 1000
    return {"success": result.success, "wall": wall, "rows": rows, "calls": calls,
            "steps": step_seconds, "pages_by_product": pages_by_product}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="benchmark", choices=("tiny", "demo", "benchmark"))
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=3, help="full syncs (medians are printed)")
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    stop_on_signals()

    print(f"starting the simulator ({args.scale}, {args.latency_ms:g} ms latency) ...", flush=True)
    started = time.perf_counter()
    simulator, base_url = start_simulator(args.scale, args.latency_ms)
    print(f"simulator ready at {base_url} in {time.perf_counter() - started:.1f} s; {load_average()}", flush=True)
    syncs = []
    try:
        for round_no in range(1, args.rounds + 1):
            syncs.append(one_sync(base_url))
            print(f"round {round_no}: {syncs[-1]['wall']:.2f} s; {load_average()}", flush=True)
        simulator_peak = peak_rss_mb(simulator.pid)
    finally:
        stop_process(simulator)

    first = syncs[0]
    calls, rows = first["calls"], first["rows"]
    chains = {"products": 1, "features": 1, "tests": max(map(listing_rounds, first["pages_by_product"])), "bugs": 1}
    bounds = {
        phase: max(sum(calls[k] for k in kinds) * latency / CONCURRENCY, chains[phase] * latency)
        for phase, kinds in PHASES.items()
    }
    bound = sum(bounds.values())
    data_rows = sum(v for k, v in rows.items() if not k.startswith("_"))
    total_calls = sum(calls.values())
    wall = statistics.median(s["wall"] for s in syncs)
    steps = {k: statistics.median(s["steps"].get(k, math.nan) for s in syncs) for k in first["steps"]}

    print(f"\nfull sync, scale {args.scale}, latency {args.latency_ms:g} ms, concurrency {CONCURRENCY}, "
          f"medians of {len(syncs)} rounds")
    print("rows written:        " + ", ".join(f"{k} {v:,}" for k, v in sorted(rows.items()) if not k.startswith("_")))
    print("API calls:           " + ", ".join(f"{k} {v:,}" for k, v in calls.items() if v) + f"; total {total_calls:,} "
          "(round 1; the listing's speculative pages vary by round: "
          + ", ".join(f"{sum(s['calls'].values()):,}" for s in syncs) + ")")
    print("lower bound by phase: " + ", ".join(
        f"{p} {b:.2f} s ({'chain' if chains[p] * latency >= b else 'throughput'})" for p, b in bounds.items()
    ))
    print(f"lower bound:         {bound:.2f} s  (throughput alone {total_calls * latency / CONCURRENCY:.2f} s, "
          f"longest listing chain {chains['tests']} rounds)")
    print(f"wall-clock:          {wall:.2f} s median (rounds: " + ", ".join(f"{s['wall']:.2f}" for s in syncs)
          + "; steps: " + ", ".join(f"{k} {v:.2f}" for k, v in steps.items()) + ")")
    print(f"ratio wall/bound:    {wall / bound:.2f}  (target <= 1.5; rounds: "
          + ", ".join(f"{s['wall'] / bound:.2f}" for s in syncs) + ")")
    print(f"rows written / s:    {data_rows / wall:,.0f}")
    client_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory:         client {client_peak:,.0f} MB, simulator {simulator_peak:,.0f} MB (target <= 1,536 MB)")
    print(f"after the rounds:    {load_average()}")
    if not all(s["success"] for s in syncs) or math.isnan(simulator_peak):
        print("WARNING: a run did not succeed or a figure is missing")


if __name__ == "__main__":
    main()
