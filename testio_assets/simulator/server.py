"""Serving the simulator: in-process through httpx, or as a real uvicorn server on loopback."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
STARTUP_TIMEOUT_S = 30.0


class TimeoutHonouringASGITransport(httpx.AsyncBaseTransport):
    """httpx's ASGI transport, plus the client's read timeout, as a network transport would apply.

    ``httpx.ASGITransport`` ignores timeouts; without this, an injected slow response could never
    make an in-process client time out.
    """

    def __init__(self, app) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        read_timeout = request.extensions.get("timeout", {}).get("read")
        if read_timeout is None:
            return await self._inner.handle_async_request(request)
        try:
            return await asyncio.wait_for(self._inner.handle_async_request(request), read_timeout)
        except asyncio.TimeoutError:
            raise httpx.ReadTimeout(f"no response within {read_timeout} s", request=request) from None

    async def aclose(self) -> None:
        await self._inner.aclose()


def require_loopback(host: str) -> None:
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"the simulator only binds to loopback ({', '.join(LOOPBACK_HOSTS)}), not {host!r}")


@contextmanager
def serve_in_thread(app, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> Iterator[str]:
    """Run uvicorn in a background thread; yield its base URL; stop it on exit."""
    require_loopback(host)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="testio-simulator", daemon=True)
    thread.start()
    try:
        if not _wait_started(server, thread):
            raise RuntimeError(f"the simulator server did not start on {host}:{port}")
        bound_port = server.servers[0].sockets[0].getsockname()[1]
        shown_host = f"[{host}]" if ":" in host else host
        yield f"http://{shown_host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_S)


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> bool:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.started:
            return True
        if not thread.is_alive():
            return False
        time.sleep(0.01)
    return False
