"""What the benchmarks share: the simulator as a separate process over loopback HTTP, the
generated semantic warehouse cached in benchmarks/out/, percentiles, load and peak memory.

The simulator runs as ``python -m testio_assets.simulator`` so its CPU work does not share the
client's GIL; every response carries ``--latency-ms`` of latency.

Every benchmark stops what it starts, however it was launched: :func:`stop_on_signals` gives
SIGINT and SIGTERM explicit dispositions (a script started with ``&`` inherits an ignored
SIGINT, and Dagster copies SIGINT's disposition onto SIGTERM after ``dg.materialize``), the
simulator sets its own at start, and :func:`stop_process` falls back to SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import psutil

TOKEN = "benchmark-token"
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
SEMANTIC_TESTS, SEMANTIC_BUGS = 50_000, 1_000_000


def start_simulator(
    scale: str, latency_ms: float, advance: timedelta = timedelta(0)
) -> tuple[subprocess.Popen, str]:
    """Start the simulator server with its clock ``advance`` past its default start (the same
    customer, later); return the process and its base URL."""
    command = [sys.executable, "-m", "testio_assets.simulator", "--scale", scale, "--port", "0",
               "--latency-ms", str(latency_ms), "--token", TOKEN,
               "--advance-hours", str(advance.total_seconds() / 3600)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if " at http" not in line:
        process.kill()
        raise SystemExit(f"simulator did not start: {line!r}")
    return process, line.rsplit(" at ", 1)[1].strip()


def stop_on_signals() -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt in this process, so ``finally`` blocks stop
    the simulators and child processes even when the script was started with SIGINT ignored."""

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def stop_process(process: subprocess.Popen, grace_s: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if the process is still there after ``grace_s``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def process_tree_peak_mb(pid: int) -> float:
    """The largest peak resident size among ``pid`` and its children still running (a server's
    processes); NaN when it is gone."""
    try:
        processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return float("nan")
    return max(peak_rss_mb(p.pid) for p in processes)


def pct(values, p):
    """The ``p``-th percentile of ``values`` (nearest rank)."""
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def generated_warehouse(n_tests: int = SEMANTIC_TESTS, n_bugs: int = SEMANTIC_BUGS) -> Path:
    """The seeded generated warehouse (tests/semantic/generated_warehouse.py) of this size as a
    DuckDB file in benchmarks/out/, built on first use (set-based; about 10 s at full size)."""
    sys.path.insert(0, str(ROOT / "tests" / "semantic"))
    from generated_warehouse import build_generated

    size = "v1" if (n_tests, n_bugs) == (SEMANTIC_TESTS, SEMANTIC_BUGS) else f"{n_tests}t_{n_bugs}b"
    path = OUT / f"semantic_bench_{size}.duckdb"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        building = path.with_suffix(".building")
        building.unlink(missing_ok=True)
        with duckdb.connect(str(building)) as con:
            build_generated(con, n_tests, n_bugs)
            con.execute("CHECKPOINT")
        building.rename(path)  # a build cut short never passes for the warehouse
        print(f"built {path.relative_to(ROOT)} in {time.perf_counter() - started:.1f} s", flush=True)
    return path
