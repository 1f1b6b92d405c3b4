"""Synthetic freshness transitions in a test instance -> exactly one webhook POST each."""

from __future__ import annotations

import json
import time

import pytest

from alerts_harness import LOOKBACK_ALL, evaluate, materialize_all, report

from testio_assets.alerts import AlertSettings, DeliveryPolicy, build_freshness_alert_sensor
from testio_assets.alerts.cursor import AlertCursor

pytestmark = pytest.mark.slow  # a Dagster instance and an HTTP receiver per test

UI = "http://dagster.internal:3000"
FAST = DeliveryPolicy(attempts=3, first_backoff=0.01, timeout=2.0)


def make_sensor(url: str | None, clock=time.time, min_state: str = "WARN"):
    settings = AlertSettings(webhook_url=url, ui_base_url=UI, min_state=min_state)
    return build_freshness_alert_sensor(
        settings=settings, delivery_policy=FAST, first_tick_lookback=LOOKBACK_ALL, clock=clock
    )


def test_one_post_per_transition_with_age_policy_and_link(instance, receiver):
    materialized_at = materialize_all(instance)
    report(instance, "products", "UNKNOWN", "PASS")  # first evaluation: noise, not alerted
    report(instance, "bugs", "PASS", "WARN", at=materialized_at + 3000)
    report(instance, "bugs", "WARN", "FAIL", at=materialized_at + 3000)
    sensor = make_sensor(receiver.url, clock=lambda: materialized_at + 3000)

    tick = evaluate(sensor, instance)

    assert len(receiver.bodies) == 2
    warn, fail = receiver.bodies
    assert warn["text"].startswith("Freshness: bugs is Warning (was Passing).")
    assert fail["text"].startswith("Freshness: bugs is Failed (was Warning).")
    for body in (warn, fail):
        assert "Data age: 50 min (last materialised " in body["text"]
        assert "Policy: warn after 1h, fail after 2h." in body["text"]
        assert body["text"].endswith(f"{UI}/assets/bugs")
        assert [block["type"] for block in body["blocks"]] == ["section", "section"]
        fields = "\n".join(f["text"] for f in body["blocks"][1]["fields"])
        assert "*Data age*\n50 min" in fields
        assert "*Policy*\nwarn after 1h, fail after 2h" in fields
        assert f"<{UI}/assets/bugs|Open bugs in Dagster>" in fields
    assert fail["blocks"][0]["text"]["text"] == ":red_circle: *bugs* is *Failed* (was Warning)"
    assert "2 alerted" in tick.skip_message and "2 delivered" in tick.skip_message
    assert any("bugs WARN -> FAIL; data age 50 min" in m for m in tick.logs.messages())


def test_age_is_the_data_age_at_the_transition_not_after_a_catch_up(instance, receiver):
    materialized_at = materialize_all(instance)
    report(instance, "bugs", "PASS", "WARN", at=materialized_at + 3700)
    materialize_all(instance)  # the catch-up run lands before the sensor's tick
    evaluate(make_sensor(receiver.url, clock=lambda: materialized_at + 3800), instance)

    assert len(receiver.bodies) == 1
    assert "Data age: 1 h 1 min (last materialised " in receiver.bodies[0]["text"]


def test_second_tick_with_returned_cursor_sends_nothing(instance, receiver):
    materialize_all(instance)
    report(instance, "bugs", "PASS", "FAIL")
    sensor = make_sensor(receiver.url)

    first = evaluate(sensor, instance)
    second = evaluate(sensor, instance, cursor=first.cursor)

    assert len(receiver.bodies) == 1
    assert second.skip_message.startswith("No freshness transitions after event")
    assert AlertCursor.parse(second.cursor) == AlertCursor.parse(first.cursor)


def test_only_new_transitions_are_sent_on_later_ticks(instance, receiver):
    materialize_all(instance)
    report(instance, "bugs", "PASS", "FAIL")
    sensor = make_sensor(receiver.url)
    first = evaluate(sensor, instance)
    report(instance, "bugs", "FAIL", "PASS")

    evaluate(sensor, instance, cursor=first.cursor)

    assert [body["text"].split(".")[0] for body in receiver.bodies] == [
        "Freshness: bugs is Failed (was Passing)",
        "Freshness: bugs is Passing again (was Failed)",
    ]


def test_back_to_passing_alert(instance, receiver):
    materialized_at = materialize_all(instance)
    report(instance, "bugs", "FAIL", "PASS", at=materialized_at + 30)
    sensor = make_sensor(receiver.url, clock=lambda: materialized_at + 60)

    evaluate(sensor, instance)

    (body,) = receiver.bodies
    assert body["blocks"][0]["text"]["text"] == (
        ":large_green_circle: *bugs* is *Passing* again (was Failed)"
    )
    assert "Data age: 30 s" in body["text"]


def test_noise_transitions_are_not_alerted(instance, receiver):
    materialize_all(instance)
    report(instance, "bugs", "UNKNOWN", "PASS")
    report(instance, "bugs", "PASS", "UNKNOWN")
    report(instance, "products", "PASS", "NOT_APPLICABLE")

    tick = evaluate(make_sensor(receiver.url), instance)

    assert receiver.bodies == []
    assert "Read 3 freshness state change(s)" in tick.skip_message
    assert "0 alerted" in tick.skip_message


def test_min_state_fail_sends_only_failures_and_their_recoveries(instance, receiver):
    materialize_all(instance)
    for previous, new in [("PASS", "WARN"), ("WARN", "PASS"), ("PASS", "FAIL"), ("FAIL", "PASS")]:
        report(instance, "bugs", previous, new)

    tick = evaluate(make_sensor(receiver.url, min_state="FAIL"), instance)

    sent = [body["text"].split(".")[0] for body in receiver.bodies]
    assert sent == [
        "Freshness: bugs is Failed (was Passing)",
        "Freshness: bugs is Passing again (was Failed)",
    ]
    # every transition is still logged
    assert len([m for m in tick.logs.messages() if m.startswith("Freshness ")]) == 4


def test_without_webhook_alerts_are_logged_only(instance):
    materialize_all(instance)
    report(instance, "bugs", "PASS", "FAIL")

    tick = evaluate(make_sensor(None), instance)

    assert any(m.startswith("Freshness stale: bugs PASS -> FAIL") for m in tick.logs.messages())
    assert "Webhook not configured" in tick.skip_message
    assert json.loads(tick.cursor)["pending"] == []


def test_first_tick_skips_history_older_than_the_lookback(instance, receiver):
    materialize_all(instance)
    report(instance, "bugs", "PASS", "FAIL")
    an_hour_later = time.time() + 3600
    sensor = build_freshness_alert_sensor(
        settings=AlertSettings(webhook_url=receiver.url), delivery_policy=FAST,
        clock=lambda: an_hour_later,
    )  # default lookback: 15 minutes

    first = evaluate(sensor, instance)
    report(instance, "bugs", "FAIL", "PASS")
    evaluate(sensor, instance, cursor=first.cursor)

    assert first.skip_message.startswith("No freshness transitions after event")
    assert [body["text"].split(".")[0] for body in receiver.bodies] == [
        "Freshness: bugs is Passing again (was Failed)"
    ]


def test_first_tick_alerts_on_a_transition_just_before_it(instance, receiver):
    materialize_all(instance)
    report(instance, "bugs", "PASS", "WARN")
    sensor = build_freshness_alert_sensor(
        settings=AlertSettings(webhook_url=receiver.url), delivery_policy=FAST
    )

    evaluate(sensor, instance)

    assert len(receiver.bodies) == 1


def test_transitions_while_the_sensor_was_stopped_are_logged_not_sent(instance, receiver):
    materialize_all(instance)
    sensor = make_sensor(receiver.url)
    before_stop = evaluate(sensor, instance)
    report(instance, "bugs", "PASS", "FAIL")  # the sensor is stopped meanwhile
    restarted_at = time.time()
    report(instance, "bugs", "FAIL", "PASS")

    tick = evaluate(sensor, instance, before_stop.cursor, last_sensor_start_time=restarted_at)

    assert [body["text"].split(".")[0] for body in receiver.bodies] == [
        "Freshness: bugs is Passing again (was Failed)"
    ]
    assert "it happened while the sensor was stopped" in tick.logs.text()
    assert "bugs PASS -> FAIL" in tick.logs.text()
