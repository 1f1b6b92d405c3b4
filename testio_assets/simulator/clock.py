"""The simulated clock and the API's way of writing timestamps."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

from testio_assets.simulator.vocabulary import TIME_ZONES

DEFAULT_START = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def current_month_start() -> datetime:
    """00:00 UTC on the first day of the current month."""
    return datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class SimClock:
    """Simulated "now": a fixed start moved by ``advance()``, and by wall-clock time when realtime.

    Realtime without an explicit start is the mode served to the Dagster UI: the customer's
    history is anchored at the start of the current month and "now" is the wall clock, so every
    process (each Dagster run is one) sees the same customer at the same moment, and new tests
    keep arriving. When the month turns, the history is re-anchored: a full refresh resyncs it.
    """

    def __init__(self, start: datetime | None = None, realtime: bool = False) -> None:
        follows_wall_clock = realtime and start is None
        start = start or (current_month_start() if follows_wall_clock else DEFAULT_START)
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        self.start = start.astimezone(timezone.utc)
        self.realtime = realtime
        self._offset_s = 0.0
        # Realtime time runs from this wall-clock instant (the anchor itself for the UI mode).
        self._wall_origin = self.start.timestamp() if follows_wall_clock else time.time()
        self._lock = threading.Lock()

    def timestamp(self) -> float:
        """Simulated now as POSIX seconds."""
        elapsed = time.time() - self._wall_origin if self.realtime else 0.0
        return self.start.timestamp() + self._offset_s + elapsed

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), timezone.utc)

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("the simulated clock only moves forward")
        with self._lock:
            self._offset_s += delta.total_seconds()


def format_timestamp(ts: float, zone_index: int) -> str:
    """ISO 8601 with whole seconds in one of the API's offsets (``Z`` for UTC)."""
    text = datetime.fromtimestamp(int(ts), TIME_ZONES[zone_index % len(TIME_ZONES)]).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
