"""The ``freshness_alerts`` sensor: freshness transitions in, log lines and webhook POSTs out.

One tick:
1. read the cursor (first tick: start just before the changes of the last
   ``first_tick_lookback``, so older history is not replayed but a transition just before
   the sensor started is not missed);
2. read the next FRESHNESS_STATE_CHANGE events and log an alert line for each alerted
   transition (see :mod:`.transitions`);
3. deliver the alerts still pending from earlier ticks, then the new ones, oldest first, to
   the webhook if one is configured; stop delivering for this tick at the first transient
   failure, keeping the rest pending in the cursor (see :mod:`.cursor`);
4. return the new cursor with a summary as the skip reason (the sensor never launches runs).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import dagster as dg

from testio_assets.alerts.config import AlertSettings
from testio_assets.alerts.cursor import AlertCursor, CursorError
from testio_assets.alerts.events import build_alert, read_state_changes, starting_storage_id
from testio_assets.alerts.message import log_line, webhook_payload
from testio_assets.alerts.selection import select_for_webhook
from testio_assets.alerts.transitions import Alert, StateChange, classify
from testio_assets.freshness import format_duration
from testio_assets.alerts.webhook import DeliveryPolicy, WebhookSender

SENSOR_NAME = "freshness_alerts"
DEFAULT_FIRST_TICK_LOOKBACK = timedelta(minutes=15)
EVENTS_PER_TICK = 200
# Dagster stops waiting for a sensor tick after 60 s; leave room for reading events.
TICK_DELIVERY_BUDGET_SECONDS = 30.0


def build_freshness_alert_sensor(
    *,
    name: str = SENSOR_NAME,
    settings: AlertSettings | None = None,
    delivery_policy: DeliveryPolicy = DeliveryPolicy(),
    first_tick_lookback: timedelta = DEFAULT_FIRST_TICK_LOOKBACK,
    minimum_interval_seconds: int = 30,
    clock: Callable[[], float] = time.time,
) -> dg.SensorDefinition:
    """A sensor that alerts on freshness transitions.

    ``settings`` defaults to :meth:`AlertSettings.from_env`, read on every tick.
    """

    @dg.sensor(
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Alerts on freshness transitions (to Warning, to Failed, back to Passing): a line in "
            "this tick log, and a POST to TESTIO_ALERT_WEBHOOK_URL when set. Stop this sensor to "
            "silence alerts; see testio_assets/alerts/README.md."
        ),
    )
    def freshness_alerts(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        tick = _Tick(context, settings or AlertSettings.from_env(), clock())
        return tick.run(delivery_policy, first_tick_lookback)

    return freshness_alerts


class _Tick:
    """The state of one sensor evaluation, so each step stays a short method."""

    def __init__(
        self, context: dg.SensorEvaluationContext, settings: AlertSettings, now: float
    ) -> None:
        self.context = context
        self.log = context.log
        self.settings = settings
        self.now = now

    def run(self, policy: DeliveryPolicy, first_tick_lookback: timedelta) -> dg.SensorResult:
        cursor, restarted = self._load_cursor(first_tick_lookback)
        changes = read_state_changes(self.context.instance, cursor.after, EVENTS_PER_TICK)
        alerts = self._log_alerts(changes)
        after = changes[-1].storage_id if changes else cursor.after
        if not changes and not cursor.pending:
            return dg.SensorResult(
                skip_reason=f"No freshness transitions after event {cursor.after}.",
                cursor=AlertCursor(after).serialize(),
            )
        pending, sent = [], 0
        if self.settings.webhook_url:
            to_send = self._select([*cursor.pending, *alerts], restarted)
            pending, sent = self._deliver(to_send, policy)
        elif cursor.pending:
            self.log.warning(
                f"Dropped {len(cursor.pending)} undelivered alert(s): the webhook is no longer set"
            )
        summary = (
            f"Read {len(changes)} freshness state change(s) up to event {after}; "
            f"{len(alerts)} alerted. "
        )
        if self.settings.webhook_url:
            summary += f"Webhook: {sent} delivered, {len(pending)} waiting for redelivery."
        else:
            summary += "Webhook not configured (TESTIO_ALERT_WEBHOOK_URL): log lines only."
        return dg.SensorResult(
            skip_reason=summary, cursor=AlertCursor(after, tuple(pending)).serialize()
        )

    def _load_cursor(self, first_tick_lookback: timedelta) -> tuple[AlertCursor, bool]:
        """The cursor to read from, and whether it carries on from an earlier tick."""
        if self.context.cursor:
            try:
                return AlertCursor.parse(self.context.cursor), True
            except CursorError as error:
                self.log.warning(f"Starting over from a fresh cursor: {error}")
        not_before = self.now - first_tick_lookback.total_seconds()
        start = starting_storage_id(self.context.instance, not_before)
        self.log.info(
            f"First evaluation: alerting on freshness transitions of the last "
            f"{format_duration(first_tick_lookback)} (after event {start}); older ones are not replayed."
        )
        return AlertCursor(after=start), False

    def _log_alerts(self, changes: list[StateChange]) -> list[Alert]:
        """Log a line for every alerted transition and return their alerts."""
        alerts = []
        for change in changes:
            kind = classify(change.previous_state, change.new_state)
            name = "/".join(change.asset_path)
            if kind is None:
                self.log.debug(
                    f"Not alerted: {name} {change.previous_state} -> {change.new_state}"
                )
                continue
            alert = build_alert(
                change,
                kind,
                instance=self.context.instance,
                repository_def=self.context.repository_def,
                ui_base_url=self.settings.ui_base_url,
            )
            line = log_line(alert)
            if alert.new_state == "FAIL":
                self.log.error(line)
            elif alert.new_state == "WARN":
                self.log.warning(line)
            else:
                self.log.info(line)
            alerts.append(alert)
        return alerts

    def _select(self, alerts: list[Alert], restarted: bool) -> list[Alert]:
        """Log the alerts that will not be sent; return the others."""
        # Only a sensor that ran before can have been stopped: a first tick uses its lookback.
        silenced_before = self.context.last_sensor_start_time if restarted else None
        to_send, not_sent = select_for_webhook(
            alerts,
            now=self.now,
            min_state=self.settings.min_state,
            silenced_before=silenced_before,
        )
        for skipped in not_sent:
            self.log.log(skipped.level, skipped.message)
        return to_send

    def _deliver(self, alerts: list[Alert], policy: DeliveryPolicy) -> tuple[list[Alert], int]:
        """Send what can be sent this tick; return (still pending, delivered count)."""
        if not alerts:
            return [], 0
        deadline = time.monotonic() + TICK_DELIVERY_BUDGET_SECONDS
        sent = 0
        with WebhookSender(self.settings.webhook_url, policy) as sender:
            for index, alert in enumerate(alerts):
                result = sender.send(webhook_payload(alert), deadline)
                where = f"webhook {sender.display_url}"
                if result.delivered:
                    sent += 1
                    self.log.info(f"Alert for {alert.asset_name} sent to {where} ({result.detail})")
                elif result.retryable:
                    self.log.error(
                        f"Alert for {alert.asset_name} not delivered to {where} after "
                        f"{result.attempts} attempt(s): {result.detail}. It and "
                        f"{len(alerts) - index - 1} later alert(s) will be retried on the next tick."
                    )
                    return alerts[index:], sent
                else:
                    self.log.error(
                        f"Alert for {alert.asset_name} rejected by {where}: {result.detail}. "
                        f"Not retried: check TESTIO_ALERT_WEBHOOK_URL and the payload."
                    )
        return [], sent


freshness_alert_sensor = build_freshness_alert_sensor()
