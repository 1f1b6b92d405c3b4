"""Compile-and-render time per query over the representative query set (>= 50 queries).

Each query is compiled cold (cache cleared) to DuckDB SQL: resolution, plan, sqlglot tree and
rendering. Baseline measured in the same run: sqlglot parsing + rendering the same SQL text
(what a layer that kept SQL templates as text and round-tripped them through sqlglot would pay).
Run: .venv/bin/python benchmarks/semantic_compile.py
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date
from pathlib import Path

import sqlglot

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "semantic")]

from semantic.surfaces.query import _prepare  # noqa: E402
from semantic.sql.compiler import clear_cache  # noqa: E402
from semantic.model.loader import load_model  # noqa: E402
from semantic_query_set import QUERIES  # noqa: E402

REPEAT = 30


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    model = load_model()
    today = date(2025, 3, 15)
    args = dict(sort_by=None, sort_order="desc", limit=None, fill_missing=False, dialect="duckdb",
                today=today, config=None, model=model)
    compile_ms, parse_ms = [], []
    for q in QUERIES:
        kw = {**args, **{k: v for k, v in q.items() if k in args}}
        call = (q["metrics"], q.get("dimensions", ()), q.get("filters"), q.get("start_date"), q.get("end_date"))
        for _ in range(3):  # warm-up (imports, first-use caches in sqlglot)
            clear_cache()
            _prepare(*call, kw["sort_by"], kw["sort_order"], kw["limit"], kw["fill_missing"], kw["dialect"],
                     kw["today"], kw["config"], kw["model"])
        samples, sql = [], None
        for _ in range(REPEAT):
            clear_cache()
            t = time.perf_counter()
            _, _, _, compiled = _prepare(*call, kw["sort_by"], kw["sort_order"], kw["limit"], kw["fill_missing"],
                                         kw["dialect"], kw["today"], kw["config"], kw["model"])
            samples.append((time.perf_counter() - t) * 1000)
            sql = compiled.sql
        compile_ms.append(statistics.median(samples))
        base = []
        for _ in range(REPEAT):
            t = time.perf_counter()
            sqlglot.parse_one(sql, read="duckdb").sql("duckdb")
            base.append((time.perf_counter() - t) * 1000)
        parse_ms.append(statistics.median(base))
    ratios = [c / p for c, p in zip(compile_ms, parse_ms)]
    print(f"queries: {len(QUERIES)} (median of {REPEAT} cold compiles each, cache cleared)")
    print(f"compile+render  p50 {pct(compile_ms, 50):.2f} ms  p95 {pct(compile_ms, 95):.2f} ms  max {max(compile_ms):.2f} ms")
    print(f"baseline sqlglot parse+render of the same SQL  p50 {pct(parse_ms, 50):.2f} ms  p95 {pct(parse_ms, 95):.2f} ms")
    print(f"ratio compile/baseline  p50 {pct(ratios, 50):.2f}  max {max(ratios):.2f}")
    for rep in range(2):  # first pass fills the cache, second is timed
      t = time.perf_counter()
      for q in QUERIES:
        _prepare(q["metrics"], q.get("dimensions", ()), q.get("filters"), q.get("start_date"), q.get("end_date"),
                 None, "desc", None, q.get("fill_missing", False), "duckdb", today, None, model)
    print(f"cached (repeat query, date resolution + cache lookup) p50 {(time.perf_counter() - t) * 1000 / len(QUERIES):.3f} ms per query")


if __name__ == "__main__":
    main()
