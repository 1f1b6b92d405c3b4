"""Which alerts go to the webhook on this tick (pure). Every alert is logged regardless.

An alert is not sent when:
- its transition does not reach ``TESTIO_ALERT_MIN_STATE`` (a chosen silence);
- it happened before the sensor was last started, after having been stopped (stopping the
  sensor is a silence: what happened meanwhile is not sent once it is started again);
- it changed more than :data:`ALERT_WINDOW_SECONDS` ago: an alert that could not be delivered
  for an hour, or read that late, describes a state that may well have changed since;
- more than :data:`MAX_PENDING` are waiting (the oldest are dropped), which bounds the cursor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from testio_assets.alerts.config import MIN_STATE_ENV
from testio_assets.alerts.message import headline, humanize_age
from testio_assets.alerts.transitions import Alert, reaches_min_state

ALERT_WINDOW_SECONDS = 3600.0
MAX_PENDING = 50


@dataclass(frozen=True)
class NotSent:
    alert: Alert
    reason: str
    level: int

    @property
    def message(self) -> str:
        return f"Not sent to the webhook: {headline(self.alert)}: {self.reason}"


def select_for_webhook(
    alerts: list[Alert],
    *,
    now: float,
    min_state: str,
    silenced_before: float | None,
) -> tuple[list[Alert], list[NotSent]]:
    """Split ``alerts`` (oldest first) into those to send now and those never to be sent."""
    candidates: list[Alert] = []
    not_sent: list[NotSent] = []
    for alert in alerts:
        if not reaches_min_state(alert.previous_state, alert.new_state, min_state):
            not_sent.append(NotSent(alert, f"below {MIN_STATE_ENV}={min_state}", logging.INFO))
        elif silenced_before is not None and alert.changed_at < silenced_before:
            not_sent.append(
                NotSent(alert, "it happened while the sensor was stopped", logging.INFO)
            )
        elif now - alert.changed_at > ALERT_WINDOW_SECONDS:
            age = humanize_age(now - alert.changed_at)
            window = humanize_age(ALERT_WINDOW_SECONDS)
            not_sent.append(
                NotSent(alert, f"it changed {age} ago, beyond the {window} alert window",
                        logging.ERROR)
            )
        else:
            candidates.append(alert)
    overflow = candidates[: max(0, len(candidates) - MAX_PENDING)]
    not_sent.extend(
        NotSent(alert, f"more than {MAX_PENDING} alerts are waiting; oldest dropped",
                logging.ERROR)
        for alert in overflow
    )
    return candidates[len(overflow) :], not_sent
