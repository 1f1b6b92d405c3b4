"""Fault injection: per-request decisions drawn from a seeded RNG, and the faulty responses.

Every request draws the same number of random values in arrival order, so a given seed and
request order always produce the same faults, whatever the probabilities.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate

from starlette.responses import Response

from testio_assets.simulator.config import ENDPOINT_ENVELOPES, FaultConfig

RATE_LIMIT = "rate_limit"
TRANSIENT = "transient"
TIMEOUT = "timeout"
MALFORMED = "malformed"
TRANSIENT_STATUSES = (500, 502, 503)
MALFORMED_BODIES = (
    ("<html><body><h1>Service temporarily unavailable</h1></body></html>", "text/html"),
    ("[]", "application/json"),
    ('{"data": null}', "application/json"),
    ('{"bugs": [', "application/json"),
)
STUB_ID = 999999


@dataclass(frozen=True)
class FaultDecision:
    """What happens to one request: ``delay_s`` before answering, then ``kind`` (None: normal)."""

    delay_s: float
    kind: str | None
    variant: int


class FaultInjector:
    def __init__(self, config: FaultConfig, seed: int) -> None:
        self.config = config
        self._rng = random.Random(f"{seed}:faults")
        self._lock = threading.Lock()

    def decide(self) -> FaultDecision:
        with self._lock:
            draw, variant_draw, jitter_draw = self._rng.random(), self._rng.random(), self._rng.random()
        c = self.config
        delay = c.latency_s + c.latency_jitter_s * jitter_draw
        kind = None
        threshold = 0.0
        for name, probability in (
            (RATE_LIMIT, c.rate_limit_probability),
            (TRANSIENT, c.transient_error_probability),
            (TIMEOUT, c.timeout_probability),
            (MALFORMED, c.malformed_probability),
        ):
            threshold += probability
            if draw < threshold:
                kind = name
                break
        if kind == TIMEOUT:
            delay += c.timeout_delay_s
        return FaultDecision(delay_s=delay, kind=kind, variant=int(variant_draw * 12))

    def failure_response(self, decision: FaultDecision) -> Response | None:
        """The faulty answer for the decision, or None when the request is served normally."""
        if decision.kind == RATE_LIMIT:
            seconds = self.config.retry_after_s
            retry_after = formatdate(time.time() + seconds, usegmt=True) if self.config.retry_after_http_date else str(seconds)
            return Response(
                '{"error":"Too many requests"}', status_code=429,
                headers={"Retry-After": retry_after}, media_type="application/json",
            )
        if decision.kind == TRANSIENT:
            status = TRANSIENT_STATUSES[decision.variant % len(TRANSIENT_STATUSES)]
            if status == 502:
                return Response("<html><body>502 Bad Gateway</body></html>", status_code=502, media_type="text/html")
            return Response('{"error":"Temporary failure, please retry"}', status_code=status, media_type="application/json")
        if decision.kind == MALFORMED:
            body, media_type = MALFORMED_BODIES[decision.variant % len(MALFORMED_BODIES)]
            return Response(body, status_code=200, media_type=media_type)
        return None

    def wrong_body_response(self, endpoint: str) -> Response | None:
        """The plausible-but-wrong answer configured for ``endpoint``, or None."""
        kind = self.config.wrong_bodies.get(endpoint)
        if kind is None:
            return None
        envelope, many = ENDPOINT_ENVELOPES[endpoint]
        stub = {"id": STUB_ID} if kind == "stub" else None
        if many:
            content = json.dumps({envelope: [stub] if stub else []})
        else:
            content = json.dumps({envelope: stub or {}})
        return Response(content, status_code=200, media_type="application/json")
