r"""Arrow tables as the CSV that PostgreSQL's ``COPY ... FROM STDIN (FORMAT CSV)`` reads.

DuckDB (in process, in memory) turns every column into Postgres's text form in one set-based
query: lists become array literals (``{1,2}``, ``{"a","b \"c\""}``, ``NULL`` elements unquoted),
timestamps ISO text in UTC, booleans ``true``/``false``; pyarrow's CSV writer then quotes every
string, so an empty string (a quoted empty field) stays distinct from NULL (an empty unquoted
field). The batches are encoded one at a time, so memory holds one batch's CSV, never the whole
table's.

>>> import csv, io, pyarrow as pa
>>> table = pa.table({"id": [1, 2], "tags": [["a", 'say "hi"'], []], "note": ["", None]})
>>> text = b"".join(csv_batches(table)).decode()
>>> text.splitlines()[1]
'2,"{}",'
>>> list(csv.reader(io.StringIO(text)))[0]
['1', '{"a","say \\"hi\\""}', '']
>>> print(postgres_type(pa.list_(pa.int64())).sql("postgres"))
BIGINT[]
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlglot import exp

from testio_assets.warehouse.sql import column, identifier, render
from testio_assets.warehouse.sql import table as sql_table

BATCH_ROWS = 50_000
_SOURCE = "_copy_source"
_ELEMENT = "_element"


def postgres_type(arrow_type: pa.DataType) -> exp.DataType:
    """The Postgres column type holding an Arrow type's values (text for anything unusual)."""
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[postgres_type(arrow_type.value_type)], nested=True)
    if pa.types.is_boolean(arrow_type):
        return exp.DataType.build("BOOLEAN")
    if pa.types.is_integer(arrow_type):
        return exp.DataType.build("BIGINT")
    if pa.types.is_floating(arrow_type):
        return exp.DataType.build("DOUBLE")
    if pa.types.is_decimal(arrow_type):
        return exp.DataType.build("DECIMAL")
    if pa.types.is_timestamp(arrow_type):
        return exp.DataType.build("TIMESTAMPTZ" if arrow_type.tz else "TIMESTAMP")
    if pa.types.is_date(arrow_type):
        return exp.DataType.build("DATE")
    return exp.DataType.build("TEXT")


def _quoted_element(element: exp.Expression) -> exp.Expression:
    """An array element as Postgres's array syntax writes it: quoted, ``\\`` and ``"`` escaped."""
    escaped = exp.func(
        "replace", exp.func("replace", element, exp.Literal.string("\\"), exp.Literal.string("\\\\")),
        exp.Literal.string('"'), exp.Literal.string('\\"'),
    )
    return exp.DPipe(this=exp.DPipe(this=exp.Literal.string('"'), expression=escaped), expression=exp.Literal.string('"'))


def _array_literal(name: str, value_type: pa.DataType) -> exp.Expression:
    element = exp.column(_ELEMENT)
    as_text = exp.cast(element.copy(), "VARCHAR")
    if pa.types.is_string(value_type) or pa.types.is_large_string(value_type):
        as_text = _quoted_element(element.copy())
    shown = exp.Coalesce(this=as_text, expressions=[exp.Literal.string("NULL")])
    elements = exp.func("list_transform", column(name), exp.Lambda(this=shown, expressions=[exp.to_identifier(_ELEMENT)]))
    joined = exp.func("array_to_string", elements, exp.Literal.string(","))
    return exp.DPipe(this=exp.DPipe(this=exp.Literal.string("{"), expression=joined), expression=exp.Literal.string("}"))


def _text_select(schema: pa.Schema) -> exp.Select:
    columns = []
    for field in schema:
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            value = _array_literal(field.name, field.type.value_type)
        elif pa.types.is_timestamp(field.type) or pa.types.is_date(field.type):
            value = exp.cast(column(field.name), "VARCHAR")
        else:
            value = column(field.name)
        columns.append(value.as_(identifier(field.name)))
    return exp.select(*columns).from_(sql_table(_SOURCE))


def csv_batches(data: pa.Table, batch_rows: int = BATCH_ROWS) -> Iterator[bytes]:
    """``data`` as CSV without a header, in chunks of at most ``batch_rows`` rows."""
    con = duckdb.connect(":memory:", config={"threads": 1})
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register(_SOURCE, data)
        reader = con.sql(render(_text_select(data.schema))).to_arrow_reader(batch_rows)
        options = pa_csv.WriteOptions(include_header=False)
        for batch in reader:
            if batch.num_rows:
                buffer = io.BytesIO()
                pa_csv.write_csv(batch, buffer, options)
                yield buffer.getvalue()
    finally:
        con.close()
