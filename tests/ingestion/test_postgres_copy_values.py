"""Hostile values through the PostgreSQL COPY path (Arrow -> CSV -> COPY -> contract types):
each comes back from the server exactly as it went in."""

from __future__ import annotations

import math
from datetime import date, datetime

import psycopg2
import pyarrow as pa
import pytest

from testio_assets.warehouse.resource import WarehouseResource
from testio_assets.warehouse.schema import Column, Table

pytestmark = pytest.mark.slow  # a real PostgreSQL server

HOSTILE = Table(
    name="hostile", description="Values the CSV of COPY must keep apart.", primary_key=("id",),
    columns=(
        Column("id", "BIGINT", "Row."), Column("text", "VARCHAR", "Text."), Column("texts", "VARCHAR[]", "Texts."),
        Column("ints", "BIGINT[]", "Integers."), Column("flag", "BOOLEAN", "Flag."), Column("number", "DOUBLE", "Double."),
        Column("at", "TIMESTAMP", "Naive UTC timestamp."), Column("day", "DATE", "Date."),
    ),
)

TEXTS = ["", None, "NULL", "\\N", 'say "hi"', "a,b", "line\nbreak\r\n", "back\\slash", "🐞 émoji", "'quote'", " padded "]
TEXT_LISTS = [[], None, [None], ["", None, "NULL"], ['"', "\\", ",", "{}", "a b"], ["🐞"], ["\\N", "\n"]]
INT_LISTS = [[], None, [None], [1, None, -9223372036854775808], [9223372036854775807]]
NUMBERS = [float("nan"), float("inf"), float("-inf"), -0.0, 0.1 + 0.2, 1.2345678901234567e-300, None]
FLAGS = [True, False, None]
TIMES = [datetime(2024, 2, 29, 23, 59, 59, 999999), datetime(1970, 1, 1), None]
DAYS = [date(2024, 2, 29), date(1, 1, 1), None]


def _rows(n: int) -> dict[str, list]:
    pick = lambda values: [values[i % len(values)] for i in range(n)]  # noqa: E731
    return {"id": list(range(n)), "text": pick(TEXTS), "texts": pick(TEXT_LISTS), "ints": pick(INT_LISTS),
            "flag": pick(FLAGS), "number": pick(NUMBERS), "at": pick(TIMES), "day": pick(DAYS)}


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return type(a) is type(b) and a == b


def test_hostile_values_round_trip_through_copy(postgres_server, postgres_database):
    url = postgres_server.url(postgres_database)
    sent = _rows(max(len(TEXTS), len(TEXT_LISTS), len(NUMBERS)) * 2)
    data = pa.table(sent, schema=pa.schema([
        ("id", pa.int64()), ("text", pa.string()), ("texts", pa.list_(pa.string())), ("ints", pa.list_(pa.int64())),
        ("flag", pa.bool_()), ("number", pa.float64()), ("at", pa.timestamp("us")), ("day", pa.date32())]))
    with WarehouseResource(url=url).writer("hostile") as writer:
        writer.replace(HOSTILE, data)
    con = psycopg2.connect(url)
    try:
        with con.cursor() as cur:
            cur.execute('SELECT * FROM hostile ORDER BY id')
            stored = cur.fetchall()
    finally:
        con.close()
    wrong = [(i, name, sent[name][i], value) for i, row in enumerate(stored)
             for name, value in zip(HOSTILE.column_names, row)
             if not (_same(sent[name][i], value) if not isinstance(value, list)
                     else len(value) == len(sent[name][i]) and all(map(_same, sent[name][i], value)))]
    assert len(stored) == len(sent["id"]) and wrong == []
