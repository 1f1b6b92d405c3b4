"""Normalisation of the contract's example payloads (shared/testio-api.md) into table rows."""

from __future__ import annotations

from datetime import datetime

import pytest

from testio_assets.client import TestIOResponseError
from testio_assets.ingestion.bug_bodies import BugBodyDecoder
from testio_assets.ingestion.normalize import (
    normalize_bugs,
    normalize_features,
    normalize_products,
    normalize_test_features,
    normalize_test_platforms,
    normalize_tests,
    to_utc,
)
from testio_assets.warehouse.arrow import arrow_schema
from testio_assets.warehouse.schema import TABLES

TEST = {
    "id": 141290, "title": "Sprint 45 Regression", "test_title": "Sprint 45 Regression",
    "status": "locked", "review_status": "review_successful", "testing_type": "coverage",
    "goal_text": "Find bugs", "instructions_text": "Use staging", "out_of_scope_text": "Payments",
    "start_at": "2025-10-06T13:00:00+02:00", "end_at": "2025-10-07T17:00:00-05:00",
    "enable_low": True, "enable_high": True, "enable_critical": True,
    "created_by": "jane.customer", "submitted_by": None,
    "test_environment": {"id": 2, "title": "Staging Web", "url": "https://s.example.com/",
                         "username": "qa-user", "password": "hunter2", "access_type": "url"},
    "features": [{"id": 1042409, "feature_id": 196992, "title": "Recording", "description": None,
                  "howtofind": "Present", "location": "menu", "enable_default": True,
                  "enable_content": None, "enable_visual": True, "user_stories": ["a"]}],
    "requirements": [
        {"category": {"id": 1, "key": "computer", "name": "Computers"},
         "operating_system": {"id": 6, "key": "windows", "name": "Windows"},
         "browsers": [{"id": 2, "name": "Chrome", "key": "chrome"}]},
        {"category": {"id": 1, "key": "computer", "name": "Computers"},
         "operating_system": {"id": 6, "key": "windows", "name": "Windows"},
         "browsers": [{"id": 4, "name": "Edge", "key": "edge"}]},
    ],
    "section": {"id": 25544, "name": "Presentations"},
    "product": {"id": 18559, "name": "Canva"},
}


def test_timestamps_are_naive_utc():
    assert to_utc("2025-10-06T13:00:00+02:00") == datetime(2025, 10, 6, 11, 0)
    assert to_utc("2025-10-06T14:22:10Z") == datetime(2025, 10, 6, 14, 22, 10)
    assert to_utc(None) is None


def test_sections_rule_of_the_contract():
    plain = {"id": 1, "name": "Plain", "sections": [], "sections_with_default": [{"id": 9, "name": "default-section"}]}
    by_default = {"id": 2, "name": "By default", "sections": [], "sections_with_default": [{"id": 3, "name": "A"}, {"id": 4, "name": "B"}]}
    sectioned = {"id": 5, "name": "Sectioned", "sections": [{"id": 6, "name": "Editor"}], "sections_with_default": [{"id": 6, "name": "Editor"}]}
    rows = normalize_products([plain, by_default, sectioned]).to_pylist()
    assert [(r["has_sections"], r["section_ids"]) for r in rows] == [(False, []), (True, [3, 4]), (True, [6])]


def test_features_deduplicate_and_keep_every_section():
    rows = normalize_features([
        {"id": 7, "title": "A", "product_id": 1, "section_ids": [10]},
        {"id": 7, "title": "A", "product_id": 1, "section_ids": [11]},
    ]).to_pylist()
    assert len(rows) == 1 and rows[0]["section_ids"] == [10, 11]


def test_tests_drop_credentials_and_convert_times():
    row = normalize_tests({18559: [TEST]}, {18559}).to_pylist()[0]
    assert row["test_environment_id"] == 2 and row["test_environment_title"] == "Staging Web"
    assert "hunter2" not in str(row) and "qa-user" not in str(row)
    assert row["start_at"] == datetime(2025, 10, 6, 11) and row["end_at"] == datetime(2025, 10, 7, 22)
    assert row["section_id"] == 25544
    assert normalize_tests({18559: [TEST]}, set()).to_pylist()[0]["section_id"] is None


def test_test_features_and_platforms():
    assert normalize_test_features({18559: [TEST, TEST]}).to_pylist()[0]["feature_id"] == 196992
    platforms = normalize_test_platforms({18559: [TEST]}).to_pylist()
    assert len(platforms) == 1 and platforms[0]["browsers"] == ["Chrome", "Edge"]


def test_bugs_enrichment():
    base = {"title": "t", "severity": "high", "test": {"id": 1}, "author": {"name": "tester_a"},
            "reported_at": "2025-10-06T14:22:10+02:00",
            "devices": [{"operating_system": {"id": 6, "name": "Windows"}}]}
    bugs = [
        {**base, "id": 1, "status": "accepted", "auto_accepted": True,
         "test_feature": {"id": 10, "feature_id": 100}},
        {**base, "id": 2, "status": "rejected", "auto_accepted": False, "test_feature": None,
         "comments": [{"body": "This is a legit bug but already known."}]},
        {**base, "id": 3, "status": "accepted", "auto_accepted": False, "test_feature": {"id": 11}},
        {**base, "id": 4, "status": "forwarded"},
    ]
    rows = {r["bug_id"]: r for r in normalize_bugs(bugs, {11: 110}).to_pylist()}
    assert rows[1]["status"] == "auto_accepted" and rows[1]["api_status"] == "accepted"
    assert rows[1]["feature_id"] == 100 and rows[1]["device_os_names"] == ["Windows"]
    assert rows[1]["reported_at"] == datetime(2025, 10, 6, 12, 22, 10)
    assert rows[2]["rejection_reason"] == "known_bug" and rows[2]["test_feature_id"] is None
    assert rows[3]["feature_id"] == 110  # resolved through test_features
    assert rows[4]["test_feature_id"] is None and rows[4]["feature_id"] is None


def test_rejection_comments_as_plain_strings_or_with_a_text_key_are_read_too():
    # The contract sends comment objects with a body; these shapes are read as well, and a
    # missing or null comments list names no reason.
    def reason(comments):
        bug = {"id": 1, "status": "rejected", "auto_accepted": False, "comments": comments}
        return normalize_bugs([bug], {}).to_pylist()[0]["rejection_reason"]

    assert reason(["The test instructions were not followed."]) == "ignored_instructions"
    assert reason([{"body": "", "text": "This bug is not relevant and will not be fixed."}]) == "irrelevant"
    assert reason(None) is None


def test_bugs_listed_twice_keep_their_first_copy_and_devices_their_first_names():
    first = {"id": 7, "title": "first", "devices": [
        {"operating_system": {"name": "iOS"}}, {"operating_system": {"name": "Android"}},
        {"operating_system": {"name": "iOS"}}, {"operating_system": None}]}
    rows = normalize_bugs([first, {"id": 7, "title": "second"}], {}).to_pylist()
    assert [(r["title"], r["device_os_names"], r["steps"]) for r in rows] == [
        ("first", ["iOS", "Android"], [])
    ]


def test_a_bug_list_item_without_an_id_fails_clearly():
    with BugBodyDecoder({}) as decoder, pytest.raises(TestIOResponseError, match="2 item.*without an id"):
        decoder.table(['{"bugs": [{"id": 1}, {"title": "no id"}]}', '{"bugs": [3]}'])


@pytest.mark.parametrize("name", TABLES)
def test_arrow_schemas_follow_the_contract(name):
    assert arrow_schema(TABLES[name]).names == list(TABLES[name].column_names)
