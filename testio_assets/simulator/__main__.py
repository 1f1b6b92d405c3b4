"""Run the simulator as a local server: ``python -m testio_assets.simulator --scale demo``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import datetime, timedelta

from testio_assets.simulator.config import (
    ENDPOINT_ENVELOPES,
    PRESETS,
    WRONG_BODIES,
    FaultConfig,
    SimulatorConfig,
)
from testio_assets.simulator.server import LOOPBACK_HOSTS
from testio_assets.simulator.simulator import Simulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m testio_assets.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", choices=LOOPBACK_HOSTS, help="loopback address to bind")
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    parser.add_argument("--scale", default="demo", choices=sorted(PRESETS), help="size of the customer")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="latency added to every response")
    parser.add_argument("--realtime", action="store_true", help="let the simulated clock follow wall-clock time")
    parser.add_argument("--start", type=datetime.fromisoformat, default=None, help="simulated start (aware ISO 8601)")
    parser.add_argument(
        "--advance-hours", type=float, default=0.0,
        help="serve the customer of --start this many simulated hours later (the same customer, "
        "unlike a later --start, which anchors a different history)",
    )
    parser.add_argument("--token", default=None, help="require 'Authorization: Token <token>'")
    parser.add_argument(
        "--hang", action="append", default=[], choices=sorted(ENDPOINT_ENVELOPES), metavar="ENDPOINT",
        help=f"never answer this endpoint (repeatable; one of {', '.join(ENDPOINT_ENVELOPES)})",
    )
    parser.add_argument(
        "--wrong-body", action="append", default=[], type=_wrong_body, metavar="ENDPOINT=KIND",
        help=f"answer this endpoint with a plausible but wrong envelope, KIND one of "
        f"{', '.join(WRONG_BODIES)} (repeatable; e.g. bugs=stub)",
    )
    parser.add_argument(
        "--warm", action=argparse.BooleanOptionalAction, default=True,
        help="render every response before serving (default; a few seconds at benchmark scale)",
    )
    return parser.parse_args(argv)


def _wrong_body(text: str) -> tuple[str, str]:
    endpoint, sep, kind = text.partition("=")
    if not sep or endpoint not in ENDPOINT_ENVELOPES or kind not in WRONG_BODIES:
        raise argparse.ArgumentTypeError(
            f"expected ENDPOINT=KIND with ENDPOINT in {', '.join(ENDPOINT_ENVELOPES)} and KIND in "
            f"{', '.join(WRONG_BODIES)}, got {text!r}"
        )
    return endpoint, kind


def _stop_on_signals() -> None:
    """SIGINT and SIGTERM stop the server whatever this process inherited: a parent that ignores
    them (a job started with ``&``, or Dagster, which gives SIGTERM SIGINT's disposition after a
    run) would otherwise pass its SIG_IGN on, and nothing could stop the server but SIGKILL."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    _stop_on_signals()
    faults = FaultConfig(
        latency_s=args.latency_ms / 1000.0,
        hang_endpoints=frozenset(args.hang),
        wrong_bodies=dict(args.wrong_body),
    )
    sim = Simulator(
        SimulatorConfig.preset(args.scale, seed=args.seed),
        faults=faults,
        token=args.token,
        start=args.start,
        realtime=args.realtime,
    )
    sim.advance(timedelta(hours=args.advance_hours))
    if args.warm:
        sim.warm()
    with sim.serve(args.host, args.port) as base_url:
        print(f"TestIO simulator ({args.scale}, seed {args.seed}, now {sim.now.isoformat()}) at {base_url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
