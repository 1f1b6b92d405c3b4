"""Guards against a load that would lose data: checked before a write, on the writer's connection.

A plausible but wrong answer (``{"products": []}``, a listing that suddenly ends, a bug batch
answering ``{"bugs": []}``) is well-formed, so nothing upstream rejects it; written, it would
replace good tables with an empty or shrunken version while the run stays green. Here the
incoming data is compared with what is stored: a full refresh that drops a product, or that
shrinks a table (or the slice of it being replaced) by more than ``max_shrink_share``, raises
:class:`DataLossError` before anything is written. The message says what shrank, by how much,
and the run config that accepts the loss on purpose.

>>> guard = ShrinkGuard(op="bugs", max_shrink_share=0.1)
>>> guard.check_counts("bugs", stored=1000, incoming=950)
>>> guard.check_counts("bugs", stored=1000, incoming=1)
Traceback (most recent call last):
...
testio_assets.warehouse.guards.DataLossError: refusing to write bugs: it would shrink from 1,000 to 1 rows (-99.9%, more than max_shrink_share 10%). Nothing was written; readers keep the previous version. If the API really lost these rows, accept it on purpose with the run config ops: {bugs: {config: {allow_shrink: true}}} (or raise max_shrink_share)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import psycopg2.errors
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from testio_assets.warehouse.errors import WarehouseWriteError
from testio_assets.warehouse.sql import count_star, render, table_exists
from testio_assets.warehouse.sql import column as column_ref
from testio_assets.warehouse.sql import table as sql_table

DEFAULT_MAX_SHRINK_SHARE = 0.10
SAMPLE = 5
_GUARD_KEYS = "_guard_keys"


class DataLossError(WarehouseWriteError):
    """A load would drop stored data beyond what the run config accepts; nothing was written."""


def stored_ids(con: duckdb.DuckDBPyConnection, table: str, column: str) -> list[int]:
    """The values of ``column`` stored in ``table`` (none when the table does not exist yet)."""
    if not table_exists(con, table):
        return []
    distinct = exp.select(column_ref(column)).distinct().from_(sql_table(table))
    return [row[0] for row in con.execute(render(distinct)).fetchall()]


@dataclass(frozen=True)
class ShrinkGuard:
    """The guard of one op's writes (``op`` names it in the run config the message shows)."""

    op: str
    max_shrink_share: float = DEFAULT_MAX_SHRINK_SHARE
    allow_shrink: bool = False

    def _accept(self) -> str:
        return (
            "Nothing was written; readers keep the previous version. If the API really lost "
            "these rows, accept it on purpose with the run config "
            f"ops: {{{self.op}: {{config: {{allow_shrink: true}}}}}} (or raise max_shrink_share)"
        )

    def check_counts(self, what: str, *, stored: int, incoming: int) -> None:
        """Fail when ``incoming`` rows would replace ``stored`` ones with too few."""
        if self.allow_shrink or stored == 0 or incoming >= stored:
            return
        share = (stored - incoming) / stored
        if share > self.max_shrink_share:
            raise DataLossError(
                f"refusing to write {what}: it would shrink from {stored:,} to {incoming:,} rows "
                f"(-{share:.1%}, more than max_shrink_share {self.max_shrink_share:.0%}). "
                + self._accept()
            )

    def check_replace(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        data: pa.Table,
        stored_where: exp.Condition | None = None,
    ) -> None:
        """Before a full refresh of ``table`` with ``data``; ``stored_where`` limits the stored
        rows compared to those ``data`` replaces (e.g. the catalogue's, not inferred ones)."""
        if not table_exists(con, table):
            return
        count = exp.select(count_star()).from_(sql_table(table))
        try:
            stored = con.execute(render(count.where(stored_where) if stored_where else count)).fetchall()[0][0]
        except (duckdb.BinderException, psycopg2.errors.UndefinedColumn):  # written before the column existed
            stored = con.execute(render(count)).fetchall()[0][0]
        self.check_counts(table, stored=stored, incoming=data.num_rows)

    def check_replace_where(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        data: pa.Table,
        *,
        column: str,
        keys: Sequence[Any],
    ) -> None:
        """Before replacing the rows of ``table`` whose ``column`` is in ``keys`` with ``data``."""
        if not keys or not table_exists(con, table):
            return
        key_array = pa.array(list(keys), pa.int64())
        in_keys = column_ref(column).isin(query=exp.select("key").from_(sql_table(_GUARD_KEYS)))
        con.register(_GUARD_KEYS, pa.table({"key": key_array}))
        try:
            stored = con.execute(
                render(exp.select(count_star()).from_(sql_table(table)).where(in_keys))
            ).fetchall()[0][0]
        finally:
            con.unregister(_GUARD_KEYS)
        incoming = data.filter(pc.is_in(data[column], key_array)).num_rows
        parents = column.removesuffix("_id") + "s"
        self.check_counts(
            f"{table} of {len(keys):,} re-fetched {parents}", stored=stored, incoming=incoming
        )

    def check_kept(self, what: str, stored_ids: Sequence[int], incoming_ids: Sequence[int]) -> None:
        """Fail when stored ids (products, a product's tests) are absent from the answer."""
        if self.allow_shrink:
            return
        lost = sorted(set(stored_ids) - set(incoming_ids))
        if lost:
            sample = ", ".join(map(str, lost[:SAMPLE])) + (", ..." if len(lost) > SAMPLE else "")
            raise DataLossError(
                f"refusing to write {what}: the API's answer lacks {len(lost):,} of the "
                f"{len(set(stored_ids)):,} stored ({sample}). " + self._accept()
            )
