"""Execution time of the compiled SQL on a warehouse of 1,000,000 bugs and 50,000 tests.

The warehouse is generated set-based with DuckDB's own generators (seeded, cached in
benchmarks/out/). Every query of the representative set runs its compiled SQL and the hand-written
SQL for the same answer (benchmarks/fixtures/semantic_hand.sql; answers compared: same columns,
same rows and values), measured alternately in the same run, giving per-query ratios.
Prints figures only; asserts nothing about time.
Run: .venv/bin/python benchmarks/semantic_execute.py
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from _harness import ROOT, generated_warehouse, pct

sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "semantic")]

from semantic import Guardrails, explain  # noqa: E402
from semantic_query_set import QUERIES  # noqa: E402

RUNS = 15
HAND_PATH = ROOT / "benchmarks" / "fixtures" / "semantic_hand.sql"


UNCAPPED = Guardrails(default_row_limit=100_000, max_row_limit=100_000)  # compare whole answers


def load_hand(path: Path = HAND_PATH) -> dict[int, str]:
    """The hand-written queries of the fixture, keyed by query index ("-- name: qNN" blocks)."""
    out, name, lines = {}, None, []
    for line in path.read_text().splitlines() + ["-- name: end"]:
        if line.startswith("-- name: "):
            if name is not None:
                out[int(name[1:])] = "\n".join(lines).strip().rstrip(";")
            name, lines = line[len("-- name: "):].strip(), []
        elif name is not None and not line.startswith("--"):
            lines.append(line)
    return out


def answer(con, sql):
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return cols, cur.fetchall()


def norm(rows):
    def cell(v):
        return round(float(v), 9) if isinstance(v, (float, Decimal)) else v
    return sorted((tuple(cell(v) for v in r) for r in rows), key=repr)


def interleaved(con, a, b):
    """Median ms of two queries measured alternately (the order flips every round)."""
    for sql in (a, b):  # warm-up
        con.execute(sql).fetchall()
    sa, sb = [], []
    for k in range(RUNS):
        for sql, out in ((a, sa), (b, sb)) if k % 2 == 0 else ((b, sb), (a, sa)):
            t = time.perf_counter()
            con.execute(sql).fetchall()
            out.append((time.perf_counter() - t) * 1000)
    return sa, sb


def main() -> None:
    con = duckdb.connect(str(generated_warehouse()), read_only=True)
    print("rows:", {n: con.execute(f"SELECT COUNT(*) FROM {n}").fetchone()[0] for n in ("tests", "bugs", "test_features", "test_platforms")})
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    print(f"DuckDB threads: {threads}; {RUNS} interleaved runs per query after warm-up; load {os.getloadavg()[0]:.2f}")
    hand = load_hand()
    missing = [i for i in range(len(QUERIES)) if i not in hand]
    if missing:
        print(f"no hand-written SQL for {', '.join(f'q{i:02d}' for i in missing)}")
    all_samples, medians, hand_medians, ratios, wrong = [], [], [], [], []
    for i, q in enumerate(QUERIES):
        sql = explain(**{'limit': q.get('limit', 100_000), **q}, today=date(2025, 3, 15), config=UNCAPPED).sql
        if i not in hand:
            continue
        cols, rows = answer(con, sql)
        hcols, hrows = answer(con, hand[i])
        same = cols == hcols and norm(rows) == norm(hrows)
        if not same:
            wrong.append(i)
        sa, sb = interleaved(con, sql, hand[i])
        med, hmed = statistics.median(sa), statistics.median(sb)
        medians.append(med)
        hand_medians.append(hmed)
        all_samples.extend(sa)
        ratios.append((i, med / hmed))
        flag = "" if same else "  DIFFERENT ANSWER"
        print(f"  q{i:02d} {','.join(q.get('dimensions', [])) or '-':32} compiled {med:6.1f} ms  hand {hmed:6.1f} ms  "
              f"ratio {med / hmed:4.2f}{flag}")
    print(f"compiled SQL over {len(medians)} queries: p50 {pct(medians, 50):.1f} ms  p95 {pct(medians, 95):.1f} ms  "
          f"(all runs: p50 {pct(all_samples, 50):.1f} ms, p95 {pct(all_samples, 95):.1f} ms)")
    print(f"hand-written SQL: p50 {pct(hand_medians, 50):.1f} ms  p95 {pct(hand_medians, 95):.1f} ms")
    rs = [r for _, r in ratios]
    worst = max(ratios, key=lambda x: x[1])
    print(f"ratio compiled/hand-written over {len(rs)} queries: median {statistics.median(rs):.2f}  "
          f"max {worst[1]:.2f} (q{worst[0]:02d})  above 1.25: "
          f"{', '.join(f'q{i:02d} {r:.2f}' for i, r in ratios if r > 1.25) or 'none'}")
    print(f"answers identical to hand-written: {len(ratios) - len(wrong)}/{len(ratios)}"
          + (f"; DIFFERENT: {', '.join(f'q{i:02d}' for i in wrong)}" if wrong else ""))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
