"""API payloads -> Arrow tables with exactly the warehouse contract's columns and types.

Pure functions: no I/O, no Dagster. Each keeps the first occurrence of a primary key (the
listing is newest first, so the first copy is the freshest) and never stores a
``test_environment`` credential: only the environment's id and title survive. A record lacking
a field every row of its kind needs fails with :class:`InvalidRecordError` (see ``required``).

>>> to_utc("2025-10-06T13:00:00+02:00")
datetime.datetime(2025, 10, 6, 11, 0)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from testio_assets.client.api import product_has_sections, product_sections
from testio_assets.client.concurrency import collector_paused
from testio_assets.ingestion.bug_bodies import BugBodyDecoder, first_occurrences
from testio_assets.ingestion.required import InvalidRecordError, check_required
from testio_assets.warehouse.arrow import arrow_table


def to_utc(value: str | None) -> datetime | None:
    """An ISO-8601 timestamp with offset (or ``Z``) as a naive UTC datetime; naive input is UTC."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed
    return parsed.astimezone(timezone.utc).replace(tzinfo=None)


def _id(obj: Mapping[str, Any] | None) -> Any:
    return obj.get("id") if isinstance(obj, Mapping) else None


def _columns(names: Iterable[str]) -> dict[str, list]:
    return {name: [] for name in names}


def _unique(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(v for v in values if v is not None))


def normalize_products(products: Iterable[Mapping[str, Any]]) -> pa.Table:
    products = list(products)
    check_required("product", products, endpoint="products")
    cols = _columns(
        ("product_id", "name", "description", "product_type", "default_section_id",
         "has_sections", "section_ids", "section_names")
    )
    seen: set[int] = set()
    for product in products:
        if product["id"] in seen:
            continue
        seen.add(product["id"])
        sections = product_sections(product)
        cols["product_id"].append(product["id"])
        cols["name"].append(product.get("name"))
        cols["description"].append(product.get("description"))
        cols["product_type"].append(product.get("type"))
        cols["default_section_id"].append(product.get("default_section_id"))
        cols["has_sections"].append(product_has_sections(product))
        cols["section_ids"].append([s["id"] for s in sections])
        cols["section_names"].append([s.get("name") for s in sections])
    return arrow_table("products", cols)


def normalize_features(features: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Catalogue features (as the client returns them, with ``product_id`` and ``section_ids``),
    de-duplicated by id; a feature listed twice keeps the union of its sections."""
    features = list(features)
    check_required("feature", features, endpoint="products/{id}/features")
    by_id: dict[int, dict[str, Any]] = {}
    for feature in features:
        sections = list(feature.get("section_ids") or [])
        kept = by_id.get(feature["id"])
        if kept is not None:
            kept["section_ids"] = _unique([*kept["section_ids"], *sections])
            continue
        by_id[feature["id"]] = {
            "feature_id": feature["id"],
            "product_id": feature.get("product_id"),
            "title": feature.get("title"),
            "description": feature.get("description"),
            "howtofind": feature.get("howtofind"),
            "user_stories": list(feature.get("user_stories") or []),
            "section_ids": _unique(sections),
            "inferred": False,
        }
    cols = _columns(("feature_id", "product_id", "title", "description", "howtofind",
                     "user_stories", "section_ids", "inferred"))
    for row in by_id.values():
        for name in cols:
            cols[name].append(row[name])
    return arrow_table("features", cols)


def _unique_tests(listings: Mapping[int, Iterable[Mapping[str, Any]]]):
    seen: set[int] = set()
    for product_id, tests in listings.items():
        for test in tests:
            if test["id"] not in seen:
                seen.add(test["id"])
                yield product_id, test


def _check_tests(listings: Mapping[int, Iterable[Mapping[str, Any]]]) -> None:
    """Every listed test (and each test feature it embeds) has its required fields, and says
    it belongs to the product whose listing returned it."""
    for product_id, tests in listings.items():
        endpoint = f"products/{product_id}/exploratory_tests"
        where = f" (listed under product {product_id})"
        check_required("test", tests, endpoint=endpoint, where=where)
        check_required(
            "test feature",
            (feature for test in tests for feature in test.get("features") or []),
            endpoint=endpoint, where=where,
        )
        strangers = [t for t in tests if t["product"]["id"] != product_id]
        if strangers:
            raise InvalidRecordError(
                "test",
                [f"id {t['id']} says product {t['product']['id']}{where}" for t in strangers],
                len(strangers), endpoint=endpoint,
            )


@collector_paused()
def normalize_tests(
    listings: Mapping[int, Iterable[Mapping[str, Any]]], sectioned_product_ids: set[int]
) -> pa.Table:
    """Tests from ``{product_id: listed tests}``; ``section_id`` is null for plain products."""
    _check_tests(listings)
    cols = _columns(
        ("test_id", "product_id", "section_id", "title", "status", "review_status",
         "testing_type", "goal_text", "instructions_text", "out_of_scope_text", "start_at",
         "end_at", "enable_low", "enable_high", "enable_critical", "created_by",
         "submitted_by", "test_environment_id", "test_environment_title")
    )
    for product_id, test in _unique_tests(listings):
        environment = test.get("test_environment") or {}
        cols["test_id"].append(test["id"])
        cols["product_id"].append(product_id)
        cols["section_id"].append(
            _id(test.get("section")) if product_id in sectioned_product_ids else None
        )
        cols["title"].append(test.get("title") or test.get("test_title"))
        for field in ("status", "review_status", "testing_type", "goal_text",
                      "instructions_text", "out_of_scope_text", "enable_low", "enable_high",
                      "enable_critical", "created_by", "submitted_by"):
            cols[field].append(test.get(field))
        cols["start_at"].append(to_utc(test.get("start_at")))
        cols["end_at"].append(to_utc(test.get("end_at")))
        cols["test_environment_id"].append(environment.get("id"))
        cols["test_environment_title"].append(environment.get("title"))
    return arrow_table("tests", cols)


@collector_paused()
def normalize_test_features(listings: Mapping[int, Iterable[Mapping[str, Any]]]) -> pa.Table:
    cols = _columns(
        ("test_feature_id", "test_id", "feature_id", "title", "description", "howtofind",
         "location", "enable_default", "enable_content", "enable_visual", "user_stories")
    )
    seen: set[int] = set()
    for _, test in _unique_tests(listings):
        for feature in test.get("features") or []:
            if feature["id"] in seen:
                continue
            seen.add(feature["id"])
            cols["test_feature_id"].append(feature["id"])
            cols["test_id"].append(test["id"])
            cols["feature_id"].append(feature.get("feature_id"))
            for field in ("title", "description", "howtofind", "location", "enable_default",
                          "enable_content", "enable_visual"):
                cols[field].append(feature.get(field))
            cols["user_stories"].append(list(feature.get("user_stories") or []))
    return arrow_table("test_features", cols)


@collector_paused()
def normalize_test_platforms(listings: Mapping[int, Iterable[Mapping[str, Any]]]) -> pa.Table:
    """One row per test and operating system; requirements naming the same system twice merge
    their browsers."""
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    for _, test in _unique_tests(listings):
        for requirement in test.get("requirements") or []:
            system = requirement.get("operating_system") or {}
            if system.get("id") is None:
                continue
            browsers = [b.get("name") for b in requirement.get("browsers") or []]
            key = (test["id"], system["id"])
            if key in rows:
                rows[key]["browsers"] = _unique([*rows[key]["browsers"], *browsers])
                continue
            category = requirement.get("category") or {}
            rows[key] = {
                "test_id": test["id"],
                "operating_system_id": system["id"],
                "operating_system_key": system.get("key"),
                "operating_system_name": system.get("name"),
                "category_id": category.get("id"),
                "category_key": category.get("key"),
                "category_name": category.get("name"),
                "browsers": _unique(browsers),
            }
    cols = _columns(("test_id", "operating_system_id", "operating_system_key",
                     "operating_system_name", "category_id", "category_key", "category_name",
                     "browsers"))
    for row in rows.values():
        for name in cols:
            cols[name].append(row[name])
    return arrow_table("test_platforms", cols)


def normalize_bugs(
    bugs: Iterable[Mapping[str, Any]], feature_by_test_feature: Mapping[int, int | None]
) -> pa.Table:
    """Already decoded bugs as the ``bugs`` table, by the rules of :mod:`bug_bodies` (bulk
    ingestion decodes raw response bodies there directly)."""
    with BugBodyDecoder(feature_by_test_feature) as decoder:
        return first_occurrences(decoder.table([json.dumps({"bugs": list(bugs)})]))
