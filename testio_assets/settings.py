"""Environment variables the project reads, with their defaults, in one place."""

from __future__ import annotations

import os
from pathlib import Path

from semantic.answer.warehouse import warehouse_path as semantic_warehouse_path

TOKEN_ENV = "TESTIO_CUSTOMER_API_TOKEN"
BASE_URL_ENV = "TESTIO_CUSTOMER_API_BASE_URL"
ALERT_WEBHOOK_ENV = "TESTIO_ALERT_WEBHOOK_URL"
UI_BASE_URL_ENV = "TESTIO_DAGSTER_UI_URL"

PRODUCTION_BASE_URL = "https://api.test.io/customer/v2"
DEFAULT_UI_BASE_URL = "http://127.0.0.1:3000"


def warehouse_path() -> Path:
    """The DuckDB file the assets write: ``TESTIO_WAREHOUSE_PATH``, else the project folder's
    data/testio.duckdb; the file the semantic layer reads, by its one rule
    (:mod:`semantic.project`; semantic cannot import this module)."""
    return semantic_warehouse_path()


def api_token_is_set() -> bool:
    """True when a real TestIO token is configured; otherwise the built-in simulator is used."""
    return bool(os.environ.get(TOKEN_ENV, "").strip())


def api_base_url() -> str:
    return os.environ.get(BASE_URL_ENV) or PRODUCTION_BASE_URL
