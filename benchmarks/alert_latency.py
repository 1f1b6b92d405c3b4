"""Alert latency: from a freshness state change being recorded to the webhook receiving it.

In process, no daemon: each round reports a synthetic FreshnessStateChange into a SQLite test
instance (the storage `make ui` uses), evaluates the `freshness_alerts` sensor with the
previous cursor, and timestamps the POST in a real HTTP receiver on 127.0.0.1.

This is the sensor's share of the latency. With `make ui`, add the scheduling delays: the
freshness daemon evaluates policies every 30 s and the sensor ticks every 30 s, so a policy
crossing reaches the webhook within about a minute plus the figure printed here.

    .venv/bin/python benchmarks/alert_latency.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
from dagster._core.definitions.freshness import FreshnessState, FreshnessStateChange

from testio_assets.alerts import AlertSettings, build_freshness_alert_sensor
from testio_assets.freshness import freshness_policy, policy_windows

ARRIVALS: list[float] = []


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        ARRIVALS.append(time.perf_counter())
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@dg.asset(freshness_policy=freshness_policy(policy_windows({})["bugs"]))
def bugs() -> int:
    return 1


def measure(rounds: int, url: str) -> tuple[list[float], list[float]]:
    """Per round: (report -> webhook received, sensor evaluation wall-clock), in ms."""
    defs = dg.Definitions(assets=[bugs])
    sensor = build_freshness_alert_sensor(settings=AlertSettings(webhook_url=url))
    latencies, evaluations = [], []
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key="bugs"))
        with dg.build_sensor_context(instance=instance, definitions=defs) as context:
            cursor = sensor(context).cursor  # the first tick, before any transition
        states = [FreshnessState.PASS, FreshnessState.FAIL]
        for index in range(rounds + 1):  # round 0 warms up imports and connections
            previous, new = states[index % 2], states[(index + 1) % 2]
            started = time.perf_counter()
            instance.report_runless_asset_event(
                FreshnessStateChange(
                    key=dg.AssetKey("bugs"),
                    previous_state=previous,
                    new_state=new,
                    state_change_timestamp=time.time(),
                )
            )
            evaluated_from = time.perf_counter()
            with dg.build_sensor_context(
                instance=instance, definitions=defs, cursor=cursor
            ) as context:
                cursor = sensor(context).cursor
            finished = time.perf_counter()
            if index == 0:
                continue
            latencies.append((ARRIVALS[-1] - started) * 1000)
            evaluations.append((finished - evaluated_from) * 1000)
    expected = rounds + 1
    if len(ARRIVALS) != expected:
        raise SystemExit(f"expected {expected} webhook calls, got {len(ARRIVALS)}")
    return latencies, evaluations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        latencies, evaluations = measure(args.rounds, f"http://127.0.0.1:{server.server_port}/hook")
    finally:
        server.shutdown()
        server.server_close()
    print(f"alert latency over {args.rounds} transitions (in process, SQLite instance, no daemon)")
    print(f"  state change recorded -> webhook received: median {statistics.median(latencies):.1f} ms,"
          f" min {min(latencies):.1f} ms, max {max(latencies):.1f} ms")
    print(f"  sensor evaluation (read, format, POST):    median {statistics.median(evaluations):.1f} ms")
    print("  with `make ui` add up to 30 s (freshness daemon interval) + 30 s (sensor interval)")


if __name__ == "__main__":
    main()
