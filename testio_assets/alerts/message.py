"""Alert messages: the log line and the webhook payload (pure functions of an Alert).

The payload is what a Slack incoming webhook accepts: a plain-text fallback in ``text`` (used
for notifications, and all that Teams connectors and generic endpoints need) and Block Kit
``section`` blocks for the rich view.
"""

from __future__ import annotations

from datetime import UTC, datetime

from semantic.answer.freshness import format_age
from testio_assets.alerts.transitions import Alert, AlertKind, state_label

_ICONS = {"FAIL": ":red_circle:", "WARN": ":large_yellow_circle:", "PASS": ":large_green_circle:"}


def humanize_age(seconds: float | None) -> str:
    """A data age as the semantic layer's warnings write it; None -> ``"never materialised"``.

    >>> humanize_age(7380), humanize_age(45), humanize_age(90061), humanize_age(None)
    ('2 h 3 min', '45 s', '1 d 1 h', 'never materialised')
    """
    return "never materialised" if seconds is None else format_age(seconds)


def format_timestamp(timestamp: float) -> str:
    """``1700000000.0`` -> ``"2023-11-14 22:13 UTC"``."""
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def headline(alert: Alert) -> str:
    """``"bugs is Failed (was Warning)"`` or ``"bugs is Passing again (was Failed)"``."""
    again = " again" if alert.kind is AlertKind.RECOVERED else ""
    return (
        f"{alert.asset_name} is {state_label(alert.new_state)}{again} "
        f"(was {state_label(alert.previous_state)})"
    )


def _age_text(alert: Alert) -> str:
    if alert.last_materialized_at is None:
        return humanize_age(None)
    return (
        f"{humanize_age(alert.age_seconds)} "
        f"(last materialised {format_timestamp(alert.last_materialized_at)})"
    )


def log_line(alert: Alert) -> str:
    """One line for the sensor's tick log."""
    return (
        f"Freshness {alert.kind.value}: {alert.asset_name} "
        f"{alert.previous_state} -> {alert.new_state}; data age {humanize_age(alert.age_seconds)}; "
        f"policy: {alert.policy}; {alert.asset_url}"
    )


def fallback_text(alert: Alert) -> str:
    """Plain text for notifications and for endpoints that ignore ``blocks``."""
    return (
        f"Freshness: {headline(alert)}. Data age: {_age_text(alert)}. "
        f"Policy: {alert.policy}. {alert.asset_url}"
    )


def _escape(text: str) -> str:
    """Slack mrkdwn control characters, as Slack documents them."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_payload(alert: Alert) -> dict:
    """The JSON body POSTed to the webhook."""
    icon = _ICONS.get(alert.new_state, "")
    name = _escape(alert.asset_name)
    title = f"{icon} *{name}* is *{state_label(alert.new_state)}*"
    if alert.kind is AlertKind.RECOVERED:
        title += " again"
    title += f" (was {state_label(alert.previous_state)})"
    return {
        "text": fallback_text(alert),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": title.strip()}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*Data age*\n{_escape(_age_text(alert))}"},
                    {"type": "mrkdwn", "text": f"*Policy*\n{_escape(alert.policy)}"},
                    {"type": "mrkdwn", "text": f"*Changed at*\n{format_timestamp(alert.changed_at)}"},
                    {"type": "mrkdwn", "text": f"*Asset*\n<{alert.asset_url}|Open {name} in Dagster>"},
                ],
            },
        ],
    }
