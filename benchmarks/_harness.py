"""What the ingestion benchmarks share: the simulator as a separate process over loopback HTTP.

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
from datetime import timedelta
from pathlib import Path

TOKEN = "benchmark-token"


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
