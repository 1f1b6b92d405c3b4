"""What the ingestion benchmarks share: the simulator as a separate process over loopback HTTP.

The simulator runs as ``python -m testio_assets.simulator`` so its CPU work does not share the
client's GIL; every response carries ``--latency-ms`` of latency.
"""

from __future__ import annotations

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


def stop_simulator(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
