"""The pure pieces: transition rules, message snapshot, cursor format, selection, redaction."""

from __future__ import annotations

import logging

import dagster as dg
import pytest

from testio_assets.alerts.config import AlertConfigError, AlertSettings, redact_url
from testio_assets.alerts.cursor import AlertCursor, CursorError
from testio_assets.alerts.events import asset_url, describe_policy
from testio_assets.alerts.message import humanize_age, log_line, webhook_payload
from testio_assets.alerts.selection import MAX_PENDING, select_for_webhook
from testio_assets.alerts.transitions import Alert, AlertKind, classify, reaches_min_state

CHANGED_AT = 1767225600.0  # 2026-01-01 00:00 UTC


def make_alert(
    previous: str = "WARN", new: str = "FAIL", changed_at: float = CHANGED_AT, storage_id: int = 42
) -> Alert:
    return Alert(
        storage_id=storage_id,
        asset_path=("warehouse", "bugs & co"),
        kind=classify(previous, new) or AlertKind.STALE,
        previous_state=previous,
        new_state=new,
        changed_at=changed_at,
        last_materialized_at=CHANGED_AT - 7380,
        age_seconds=7400.0,
        policy="warn after 1h, fail after 2h",
        asset_url=asset_url("http://127.0.0.1:3000/", ("warehouse", "bugs & co")),
    )


@pytest.mark.parametrize(
    ("previous", "new", "expected"),
    [
        ("PASS", "WARN", AlertKind.STALE),
        ("PASS", "FAIL", AlertKind.STALE),
        ("WARN", "FAIL", AlertKind.STALE),
        ("FAIL", "WARN", AlertKind.STALE),
        ("UNKNOWN", "FAIL", AlertKind.STALE),
        ("WARN", "PASS", AlertKind.RECOVERED),
        ("FAIL", "PASS", AlertKind.RECOVERED),
        ("UNKNOWN", "PASS", None),
        ("FAIL", "UNKNOWN", None),
        ("PASS", "NOT_APPLICABLE", None),
        ("PASS", "PASS", None),
    ],
)
def test_classify(previous, new, expected):
    assert classify(previous, new) is expected


@pytest.mark.parametrize(
    ("previous", "new", "sent_with_fail"),
    [("PASS", "WARN", False), ("WARN", "PASS", False), ("WARN", "FAIL", True),
     ("FAIL", "PASS", True), ("FAIL", "WARN", True), ("UNKNOWN", "FAIL", True)],
)
def test_min_state(previous, new, sent_with_fail):
    assert reaches_min_state(previous, new, "WARN")
    assert reaches_min_state(previous, new, "FAIL") is sent_with_fail


def test_payload_snapshot():
    assert webhook_payload(make_alert()) == {
        "text": (
            "Freshness: warehouse/bugs & co is Failed (was Warning). "
            "Data age: 2 h 3 min (last materialised 2025-12-31 21:57 UTC). "
            "Policy: warn after 1h, fail after 2h. "
            "http://127.0.0.1:3000/assets/warehouse/bugs%20%26%20co"
        ),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": ":red_circle: *warehouse/bugs &amp; co* is *Failed* (was Warning)",
                },
            },
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn",
                     "text": "*Data age*\n2 h 3 min (last materialised 2025-12-31 21:57 UTC)"},
                    {"type": "mrkdwn", "text": "*Policy*\nwarn after 1h, fail after 2h"},
                    {"type": "mrkdwn", "text": "*Changed at*\n2026-01-01 00:00 UTC"},
                    {"type": "mrkdwn", "text": (
                        "*Asset*\n<http://127.0.0.1:3000/assets/warehouse/bugs%20%26%20co"
                        "|Open warehouse/bugs &amp; co in Dagster>"
                    )},
                ],
            },
        ],
    }


def test_log_line_snapshot():
    assert log_line(make_alert("FAIL", "PASS")) == (
        "Freshness recovered: warehouse/bugs & co FAIL -> PASS; data age 2 h 3 min; "
        "policy: warn after 1h, fail after 2h; "
        "http://127.0.0.1:3000/assets/warehouse/bugs%20%26%20co"
    )


def test_never_materialised_age():
    assert humanize_age(None) == "never materialised"


def test_cursor_round_trip_and_rejects_garbage():
    cursor = AlertCursor(after=7, pending=(make_alert(),))
    assert AlertCursor.parse(cursor.serialize()) == cursor
    for bad in ("not json", '{"v": 99, "after": 1}', '{"v": 1}', "[]"):
        with pytest.raises(CursorError):
            AlertCursor.parse(bad)


def test_selection_bounds_age_and_count():
    now = CHANGED_AT + 60
    old = make_alert(changed_at=CHANGED_AT - 7200)
    many = [make_alert(storage_id=i) for i in range(MAX_PENDING + 2)]

    send, not_sent = select_for_webhook(
        [old, *many], now=now, min_state="WARN", silenced_before=None
    )

    assert send == many[2:]
    assert [n.alert for n in not_sent] == [old, many[0], many[1]]
    assert all(n.level == logging.ERROR for n in not_sent)
    assert "beyond the 1 h alert window" in not_sent[0].message


def test_settings_from_env_and_redaction():
    env = {
        "TESTIO_ALERT_WEBHOOK_URL": "https://hooks.slack.com/services/T1/B2/secret",
        "TESTIO_DAGSTER_UI_URL": "https://dagster.example.com/",
        "TESTIO_ALERT_MIN_STATE": "fail",
    }
    settings = AlertSettings.from_env(env)
    assert settings.ui_base_url == "https://dagster.example.com"
    assert settings.min_state == "FAIL"
    assert settings.webhook_url.endswith("/secret")
    assert redact_url(settings.webhook_url) == "https://hooks.slack.com/…"
    assert AlertSettings.from_env({}) == AlertSettings()
    assert redact_url("http://user:pw@10.0.0.1:8080/x?token=1") == "http://10.0.0.1:8080/…"
    with pytest.raises(AlertConfigError):
        AlertSettings.from_env({"TESTIO_ALERT_MIN_STATE": "PASS"})
    with pytest.raises(AlertConfigError, match="hooks.slack.com/…") as error:
        AlertSettings.from_env({"TESTIO_ALERT_WEBHOOK_URL": "ftp://hooks.slack.com/secret"})
    assert "secret" not in str(error.value)


def test_policy_falls_back_to_the_project_table_without_definitions():
    assert describe_policy(dg.AssetKey("features"), None) == "warn after 12h, fail after 1d"
    assert describe_policy(dg.AssetKey("elsewhere"), None) == "no freshness policy found"
