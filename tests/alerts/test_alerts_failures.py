"""A failing webhook is retried, logged, never crashes the sensor, and never leaks its secret."""

from __future__ import annotations

import json
import logging
import time

import pytest

from alerts_harness import SECRET, evaluate, materialize_all, report

from testio_assets.alerts import AlertSettings, DeliveryPolicy, build_freshness_alert_sensor
from testio_assets.alerts.cursor import AlertCursor

pytestmark = pytest.mark.slow  # a Dagster instance and timed webhook failures per test

FAST = DeliveryPolicy(attempts=3, first_backoff=0.01, timeout=2.0)


def make_sensor(url: str, clock=time.time, policy: DeliveryPolicy = FAST):
    return build_freshness_alert_sensor(
        settings=AlertSettings(webhook_url=url), delivery_policy=policy, clock=clock
    )


def pending_of(cursor: str) -> list[str]:
    return [alert.asset_name for alert in AlertCursor.parse(cursor).pending]


def test_500_is_retried_logged_and_redelivered_once_on_the_next_tick(instance, receiver):
    materialize_all(instance)
    report(instance, "bugs", "PASS", "FAIL")
    receiver.default_status = 500
    sensor = make_sensor(receiver.url)

    failed = evaluate(sensor, instance)

    assert len(receiver.bodies) == 3  # all attempts of one tick
    errors = failed.logs.text(logging.ERROR)
    assert "not delivered to webhook http://127.0.0.1:" in errors
    assert "after 3 attempt(s): HTTP 500: server says no" in errors
    assert "will be retried on the next tick" in errors
    assert pending_of(failed.cursor) == ["bugs"]
    assert "0 delivered, 1 waiting for redelivery" in failed.skip_message

    receiver.default_status = 200
    recovered = evaluate(sensor, instance, cursor=failed.cursor)
    quiet = evaluate(sensor, instance, cursor=recovered.cursor)

    assert len(receiver.bodies) == 4
    assert receiver.bodies[3] == receiver.bodies[0]  # the same alert, not a new one
    assert pending_of(recovered.cursor) == []
    assert quiet.skip_message.startswith("No freshness transitions after event")


def test_transient_500_is_retried_within_the_tick(instance, receiver):
    materialize_all(instance)
    report(instance, "bugs", "PASS", "WARN")
    receiver.statuses = [500, 503]

    tick = evaluate(make_sensor(receiver.url), instance)

    assert len(receiver.bodies) == 3
    assert pending_of(tick.cursor) == []
    assert "1 delivered" in tick.skip_message


def test_a_failure_stops_delivery_for_the_tick_and_keeps_order(instance, receiver):
    materialize_all(instance)
    report(instance, "bugs", "PASS", "WARN")
    report(instance, "products", "PASS", "FAIL")
    receiver.default_status = 502
    sensor = make_sensor(receiver.url)

    failed = evaluate(sensor, instance)
    receiver.default_status = 200
    evaluate(sensor, instance, cursor=failed.cursor)

    assert pending_of(failed.cursor) == ["bugs", "products"]
    delivered = [body["text"].split(".")[0] for body in receiver.bodies[3:]]
    assert delivered == [
        "Freshness: bugs is Warning (was Passing)",
        "Freshness: products is Failed (was Passing)",
    ]


def test_connection_refused_is_logged_and_the_sensor_returns(instance, refused_url):
    materialize_all(instance)
    report(instance, "bugs", "PASS", "FAIL")

    tick = evaluate(make_sensor(refused_url), instance)

    assert "connection failed (ConnectError)" in tick.logs.text(logging.ERROR)
    assert pending_of(tick.cursor) == ["bugs"]


def test_timeout_is_retried_and_logged(instance, receiver):
    materialize_all(instance)
    report(instance, "bugs", "PASS", "FAIL")
    receiver.delay = 1.0
    policy = DeliveryPolicy(attempts=2, first_backoff=0.01, timeout=0.2)

    tick = evaluate(make_sensor(receiver.url, policy=policy), instance)

    assert len(receiver.bodies) == 2
    assert "after 2 attempt(s): timed out after 0.2 s" in tick.logs.text(logging.ERROR)
    assert pending_of(tick.cursor) == ["bugs"]


def test_4xx_is_not_retried_and_not_kept(instance, receiver):
    materialize_all(instance)
    report(instance, "bugs", "PASS", "FAIL")
    receiver.default_status = 404

    tick = evaluate(make_sensor(receiver.url), instance)

    assert len(receiver.bodies) == 1
    assert "rejected by webhook" in tick.logs.text(logging.ERROR)
    assert pending_of(tick.cursor) == []


def test_undelivered_alerts_expire_after_the_alert_window(instance, receiver):
    materialize_all(instance)
    report(instance, "bugs", "PASS", "FAIL")
    receiver.default_status = 500
    now = time.time()
    failed = evaluate(make_sensor(receiver.url, clock=lambda: now), instance)
    receiver.default_status = 200

    later = evaluate(make_sensor(receiver.url, clock=lambda: now + 7200), instance, failed.cursor)

    assert len(receiver.bodies) == 3  # only the failed attempts of the first tick
    assert "beyond the 1 h alert window" in later.logs.text(logging.ERROR)
    assert pending_of(later.cursor) == []


def test_webhook_secret_never_appears_in_logs_cursor_or_output(
    instance, receiver, refused_url, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    materialize_all(instance)
    report(instance, "bugs", "PASS", "FAIL")
    receiver.statuses = [500]
    ok = evaluate(make_sensor(receiver.url), instance)
    report(instance, "bugs", "FAIL", "PASS")
    refused = evaluate(make_sensor(refused_url), instance, cursor=ok.cursor)

    assert receiver.paths[-1].endswith(SECRET)  # the receiver did get the full URL
    out, err = capfd.readouterr()
    for text in (ok.logs.text(), refused.logs.text(), caplog.text, out, err):
        assert SECRET not in text
    for tick in (ok, refused):
        assert SECRET not in tick.cursor and SECRET not in tick.skip_message
    assert "http://127.0.0.1:" in ok.logs.text()  # the redacted form is there instead
    assert any("HTTP Request: POST" in r.getMessage() for r in caplog.records)
    assert json.loads(refused.cursor)["pending"]
