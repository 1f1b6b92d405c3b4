"""`make notebook` as its user runs it: JupyterLab from the project's environment, listening on
127.0.0.1 only, serving the project folder, with a kernel of that same environment."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "semantic/examples/metrics_tour.ipynb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_url(log: Path, process: subprocess.Popen, within_s: float = 90.0) -> tuple[str, str]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        found = re.search(r"(http://127\.0\.0\.1:\d+)/lab\S*\?token=(\w+)", log.read_text())
        if found:
            return found.group(1), found.group(2)
        assert process.poll() is None, log.read_text()[-3000:]
        time.sleep(0.2)
    raise AssertionError(f"JupyterLab did not start within {within_s} s:\n{log.read_text()[-3000:]}")


def _listening(pid: int, port: int) -> list[str]:
    tree = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return sorted({c.laddr.ip for p in tree for c in p.net_connections(kind="inet")
                   if c.status == psutil.CONN_LISTEN and c.laddr.port == port})


def _kernel_python(pid: int, within_s: float = 60.0) -> str:
    """The interpreter of the kernel the server started (its command line's first word)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        for child in psutil.Process(pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "ipykernel_launcher" in " ".join(child.cmdline()):
                    return child.cmdline()[0]
        time.sleep(0.2)
    raise AssertionError("no kernel process started")


@pytest.mark.slow  # a JupyterLab server
def test_make_notebook_serves_jupyterlab_on_loopback_with_the_projects_kernel(tmp_path):
    port = _free_port()
    log = tmp_path / "jupyter.log"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_DATA_DIR": str(tmp_path / "data"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws")}
    with log.open("w") as out:
        process = subprocess.Popen(["make", "-C", str(ROOT), "notebook", f"NOTEBOOK_PORT={port}", "NO_BROWSER=1"],
                                   stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        base, token = _server_url(log, process)
        assert base == f"http://127.0.0.1:{port}"
        assert _listening(process.pid, port) == ["127.0.0.1"]
        headers = {"Authorization": f"token {token}"}
        kernel = httpx.post(f"{base}/api/kernels", headers=headers, json={}, timeout=60).json()
        assert _kernel_python(process.pid) == str(ROOT / ".venv" / "bin" / "python")
        httpx.delete(f"{base}/api/kernels/{kernel['id']}", headers=headers, timeout=60)
        opened = httpx.get(f"{base}/api/contents/{NOTEBOOK}", headers=headers, timeout=30)
        assert opened.status_code == 200 and opened.json()["type"] == "notebook"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
