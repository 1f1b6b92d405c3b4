"""Helpers for the alert tests: a real webhook receiver on 127.0.0.1, assets under the
project's freshness policies, synthetic transitions reported the way the freshness daemon
writes them, and a sensor tick evaluated the way the daemon does (cursor in, cursor out)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
from dagster._core.definitions.freshness import FreshnessState, FreshnessStateChange

from testio_assets.freshness import freshness_policy, policy_windows

SECRET_PATH = "/services/T0TEST/B0TEST/s3cr3tT0kenXYZ"
SECRET = "s3cr3tT0kenXYZ"
LOOKBACK_ALL = timedelta(days=30)


@dataclass
class Receiver:
    """What the webhook server got, and what it answers next (a script of status codes)."""

    url: str = ""
    bodies: list[dict] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    delay: float = 0.0

    def next_status(self) -> int:
        return self.statuses.pop(0) if self.statuses else self.default_status


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.arrivals.append(time.perf_counter())
            receiver.paths.append(self.path)
            receiver.bodies.append(json.loads(body))
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.next_status()
            reply = b"ok" if status < 400 else b"server says no"
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped waiting (timeout tests)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve_receiver() -> Iterator[Receiver]:
    """A webhook endpoint on an ephemeral 127.0.0.1 port, with a secret-looking path."""
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_port}{SECRET_PATH}"
    # shutdown() waits for serve_forever's next poll: 0.5 s by default, at the end of every test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dg.asset(freshness_policy=freshness_policy(policy_windows({})["bugs"]))
def bugs() -> int:
    return 1


@dg.asset(freshness_policy=freshness_policy(policy_windows({})["products"]))
def products() -> int:
    return 1


DEFS = dg.Definitions(assets=[bugs, products])


def materialize_all(instance: dg.DagsterInstance) -> float:
    """Record a materialisation of each asset; return the timestamp of ``bugs``'s.

    Reported run-less (as an external pipeline would) rather than run: the alert sensor only
    reads the latest materialisation, and this keeps each test well under a second.
    """
    for asset in ("bugs", "products"):
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=asset))
    return instance.get_latest_materialization_event(dg.AssetKey("bugs")).timestamp


def report(
    instance: dg.DagsterInstance, asset: str, previous: str, new: str, at: float | None = None
) -> None:
    """Write a FreshnessStateChange the way the freshness daemon does (at ``at``, default now)."""
    instance.report_runless_asset_event(
        FreshnessStateChange(
            key=dg.AssetKey(asset),
            previous_state=FreshnessState(previous),
            new_state=FreshnessState(new),
            state_change_timestamp=time.time() if at is None else at,
        )
    )


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.DEBUG) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]

    def text(self, level: int = logging.DEBUG) -> str:
        return "\n".join(self.messages(level))


@dataclass
class Tick:
    result: dg.SensorResult
    logs: ListHandler

    @property
    def cursor(self) -> str:
        return self.result.cursor

    @property
    def skip_message(self) -> str:
        return self.result.skip_reason.skip_message if self.result.skip_reason else ""


def evaluate(
    sensor: dg.SensorDefinition,
    instance: dg.DagsterInstance,
    cursor: str | None = None,
    last_sensor_start_time: float | None = None,
) -> Tick:
    """One sensor tick, with the tick log captured from the sensor's own logger."""
    handler = ListHandler()
    with dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=DEFS,
        last_sensor_start_time=last_sensor_start_time,
    ) as context:
        context.log.addHandler(handler)
        result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return Tick(result=result, logs=handler)
