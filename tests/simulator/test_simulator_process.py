"""The simulator served as its own process stops on SIGTERM and SIGINT whatever it inherited.

A parent that ignores SIGINT (a job started with ``&``) or SIGTERM (Dagster gives SIGTERM
SIGINT's disposition after a run) passes SIG_IGN on through exec; the benchmarks once hung
forever waiting for a simulator that could not be terminated.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # the simulator as its own process


def _ignore_stop_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_simulator_started_with_stop_signals_ignored_still_stops_on_them(stop, tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "testio_assets.simulator", "--scale", "tiny", "--port", "0", "--no-warm"],
        stdout=subprocess.PIPE, text=True, cwd=tmp_path, preexec_fn=_ignore_stop_signals,
    )
    try:
        assert " at http://127.0.0.1:" in process.stdout.readline()
        process.send_signal(stop)
        assert process.wait(timeout=30) in (0, -stop, 128 + stop)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
