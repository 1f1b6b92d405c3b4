"""Servers a test starts: a free loopback port, and a process group stopped by its id afterwards.

>>> 1024 <= free_port() <= 65535
True
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def stopped_at_exit(process: subprocess.Popen, timeout_s: float = 20) -> Iterator[subprocess.Popen]:
    """Yield a process started with ``start_new_session=True``; afterwards stop its whole process
    group by the group's id (SIGTERM, then SIGKILL if it is still there after ``timeout_s``)."""
    try:
        yield process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout_s)
