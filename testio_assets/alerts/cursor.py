"""The sensor cursor: how far the event log has been read, and alerts still to deliver.

The cursor is the sensor's only persisted state (Dagster keeps it across ticks, sensor
stop/start and code-location reloads), so it holds both halves of "never alert twice, never
lose an alert":

- ``after``: the storage id of the last FRESHNESS_STATE_CHANGE event handled. Events at or
  below it are never read again.
- ``pending``: alerts read but not yet accepted by the webhook. They are retried on every
  tick, oldest first, within the bounds of :mod:`.selection` (one hour after their
  transition, at most 50 at once); beyond them they are dropped with an error in the tick log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from testio_assets.alerts.transitions import Alert

CURSOR_VERSION = 1


class CursorError(ValueError):
    """A cursor this version cannot read (hand-edited, or written by another sensor)."""


@dataclass(frozen=True)
class AlertCursor:
    after: int
    pending: tuple[Alert, ...] = field(default=())

    def serialize(self) -> str:
        return json.dumps(
            {
                "v": CURSOR_VERSION,
                "after": self.after,
                "pending": [alert.to_json() for alert in self.pending],
            },
            separators=(",", ":"),
            sort_keys=True,
        )

    @classmethod
    def parse(cls, text: str) -> AlertCursor:
        try:
            data = json.loads(text)
            if data.get("v") != CURSOR_VERSION:
                raise CursorError(f"unsupported cursor version {data.get('v')!r}")
            pending = tuple(Alert.from_json(item) for item in data.get("pending", []))
            return cls(after=int(data["after"]), pending=pending)
        except CursorError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise CursorError(f"unreadable cursor ({type(error).__name__}: {error})") from error

