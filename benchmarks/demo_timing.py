"""`make demo` after installation: wall-clock of the first demo into an empty warehouse.

Each round runs ``python -m testio_assets.demo`` as its own process (as ``make demo`` does), with
no token (the built-in simulator's demo customer), into a fresh Dagster instance folder and
warehouse file, so every round is a first run. Imports are part of the figure: a user pays them.

Run: ``python benchmarks/demo_timing.py [--rounds 5]``. Prints each round, the median and the
load average the rounds ran at.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from _harness import load_average, stop_on_signals, stop_process

from testio_assets.instance import _absolute_base_dirs

ROOT = Path(__file__).resolve().parent.parent


def one_demo(home: Path) -> tuple[float, bool]:
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    (home / "dagster.yaml").write_text(yaml.safe_dump(_absolute_base_dirs(config, home)))
    env = {**os.environ, "DAGSTER_HOME": str(home), "TESTIO_WAREHOUSE_PATH": str(home / "testio.duckdb")}
    env.pop("TESTIO_CUSTOMER_API_TOKEN", None)
    started = time.perf_counter()
    demo = subprocess.Popen([sys.executable, "-m", "testio_assets.demo"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        succeeded = demo.wait(timeout=600) == 0
    finally:
        stop_process(demo)
    return time.perf_counter() - started, succeeded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    stop_on_signals()
    print(f"before: {load_average()}", flush=True)
    walls = []
    for round_no in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="demo-") as tmp:
            wall, succeeded = one_demo(Path(tmp))
        if not succeeded:
            raise SystemExit(f"round {round_no}: the demo failed")
        walls.append(wall)
        print(f"round {round_no}: {wall:.2f} s; {load_average()}", flush=True)
    print(f"\n`make demo` after installation (demo customer, first run): median {statistics.median(walls):.2f} s "
          f"over {len(walls)} rounds (min {min(walls):.2f}, max {max(walls):.2f}); after: {load_average()}")


if __name__ == "__main__":
    main()
