"""Execution time of the compiled SQL on a warehouse of 1,000,000 bugs and 50,000 tests.

The warehouse is generated set-based with DuckDB's own generators (seeded, cached in
benchmarks/out/). Every query of the representative set runs its compiled SQL; a subset also
runs hand-written SQL for the same answer (results compared), giving per-query ratios.
Prints figures only; asserts nothing about time.
Run: .venv/bin/python benchmarks/semantic_execute.py
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "semantic")]

from semantic import Guardrails, explain  # noqa: E402
from semantic_query_set import QUERIES  # noqa: E402
from testio_assets.warehouse.schema import TABLES, create_table_sql  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
PATH = OUT / "semantic_bench_v1.duckdb"
N_TESTS, N_BUGS, RUNS = 50_000, 1_000_000, 15
EXEC = "('running', 'locked', 'customer_finalized', 'archived')"


def build(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("SELECT setseed(0.42)")
    for t in TABLES.values():
        con.execute(create_table_sql(t))
    con.execute("INSERT INTO products (product_id, name) SELECT i, 'Product ' || i FROM range(1, 21) r(i)")
    con.execute("INSERT INTO features (feature_id, product_id, title) SELECT i, 1 + i % 20, 'Feature ' || i FROM range(1, 501) r(i)")
    con.execute(f"""INSERT INTO tests (test_id, product_id, status, testing_type, end_at, created_by, submitted_by,
        test_environment_id, test_environment_title)
        SELECT i, 1 + i % 20,
          ['running','locked','customer_finalized','archived','archived','archived','cancelled','initialized'][1 + (hash(i) % 8)::INT],
          ['coverage','focused','rapid','usability'][1 + (hash(i * 3) % 4)::INT],
          CASE WHEN i % 97 = 0 THEN NULL ELSE TIMESTAMP '2023-01-01' + (hash(i * 7) % (3 * 365 * 24 * 60))::INT * INTERVAL 1 MINUTE END,
          CASE WHEN i % 13 = 0 THEN NULL ELSE 'customer ' || (i % 200) END,
          CASE WHEN i % 5 = 0 THEN NULL ELSE 'customer ' || (i % 150) END,
          i % 10, 'Environment ' || (i % 10)
        FROM range(1, {N_TESTS + 1}) r(i)""")
    con.execute(f"""INSERT INTO test_features (test_feature_id, test_id, feature_id, title)
        SELECT t * 4 + k, t, 1 + (hash(t * 11 + k) % 520)::INT, 'Snapshot ' || (1 + (hash(t * 11 + k) % 520)::INT)
        FROM range(1, {N_TESTS + 1}) a(t), range(0, 3) b(k) WHERE k = 0 OR hash(t + k) % 3 > 0""")
    con.execute(f"""INSERT INTO test_platforms (test_id, operating_system_id, operating_system_name)
        SELECT t, k, ['Windows','macOS','Android','iOS'][k] FROM range(1, {N_TESTS + 1}) a(t), range(1, 5) b(k)
        WHERE hash(t * 5 + k) % 2 = 0""")
    con.execute(f"""INSERT INTO bugs (bug_id, test_id, test_feature_id, feature_id, severity, status, rejection_reason,
        known, author_name)
        SELECT b.i, b.t, tf.test_feature_id, tf.feature_id,
          ['critical','high','low','low','low','visual','content','custom'][1 + (hash(b.i * 3) % 8)::INT],
          b.status,
          CASE WHEN b.status = 'rejected' AND b.i % 4 > 0 THEN ['not_reproducible','intended_behavior','known_bug','irrelevant'][1 + (b.i % 4)::INT] END,
          b.i % 17 = 0, CASE WHEN b.i % 101 = 0 THEN NULL ELSE 'tester ' || (b.i % 3000) END
        FROM (SELECT i, 1 + (hash(i) % {N_TESTS})::INT AS t,
                     ['accepted','accepted','auto_accepted','rejected','forwarded'][1 + (hash(i * 5) % 5)::INT] AS status,
                     i % 20 = 0 AS unattributed
              FROM range(1, {N_BUGS + 1}) r(i)) b
        LEFT JOIN (SELECT test_id, MIN(test_feature_id) AS test_feature_id, MIN(feature_id) AS feature_id
                   FROM test_features GROUP BY test_id) tf ON tf.test_id = b.t AND NOT b.unattributed""")
    con.execute("CHECKPOINT")
    con.close()


# Hand-written SQL for the same answers (what an analyst would write), keyed by query index.
HAND = {
    1: f"SELECT COUNT(*) AS bug_count FROM bugs b JOIN tests t USING (test_id) WHERE t.status IN {EXEC}",
    2: f"""SELECT (SELECT COUNT(*) FROM bugs b JOIN tests t USING (test_id) WHERE t.status IN {EXEC}) * 1.0
           / NULLIF((SELECT COUNT(*) FROM tests WHERE status IN {EXEC}), 0) AS bugs_per_test""",
    6: f"SELECT b.severity, COUNT(*) AS bug_count FROM bugs b JOIN tests t USING (test_id) WHERE t.status IN {EXEC} GROUP BY 1",
    7: f"""SELECT b.status AS bug_status, COUNT(*) AS bug_count,
           COUNT(*) FILTER (WHERE b.status = 'rejected') * 1.0 / COUNT(*) AS rejection_rate
           FROM bugs b JOIN tests t USING (test_id) WHERE t.status IN {EXEC} GROUP BY 1""",
    11: f"""WITH tc AS (SELECT tf.feature_id, COUNT(DISTINCT t.test_id) AS n FROM tests t
              LEFT JOIN test_features tf ON tf.test_id = t.test_id AND tf.feature_id IS NOT NULL
              WHERE t.status IN {EXEC} GROUP BY 1),
            bc AS (SELECT b.feature_id, COUNT(*) AS n FROM bugs b JOIN tests t USING (test_id)
              WHERE t.status IN {EXEC} GROUP BY 1),
            k AS (SELECT feature_id FROM tc UNION SELECT feature_id FROM bc)
           SELECT COALESCE(f.title, s.title) AS feature, k.feature_id, COALESCE(bc.n, 0) AS bug_count,
                  COALESCE(bc.n, 0) * 1.0 / NULLIF(COALESCE(tc.n, 0), 0) AS bugs_per_test
           FROM k LEFT JOIN tc ON tc.feature_id IS NOT DISTINCT FROM k.feature_id
           LEFT JOIN bc ON bc.feature_id IS NOT DISTINCT FROM k.feature_id
           LEFT JOIN features f ON f.feature_id = k.feature_id
           LEFT JOIN (SELECT feature_id, MIN(title) AS title FROM test_features GROUP BY 1) s ON s.feature_id = k.feature_id""",
    14: f"""WITH tc AS (SELECT product_id, COUNT(*) AS n FROM tests WHERE status IN {EXEC} GROUP BY 1),
            bc AS (SELECT t.product_id, COUNT(*) AS n FROM bugs b JOIN tests t USING (test_id) WHERE t.status IN {EXEC} GROUP BY 1)
           SELECT p.name AS product, tc.product_id, COALESCE(bc.n, 0) AS bug_count, COALESCE(bc.n, 0) * 1.0 / tc.n AS bugs_per_test
           FROM tc LEFT JOIN bc ON bc.product_id IS NOT DISTINCT FROM tc.product_id LEFT JOIN products p ON p.product_id = tc.product_id""",
    19: f"""WITH tc AS (SELECT p.operating_system_id AS id, MIN(p.operating_system_name) AS name, COUNT(DISTINCT t.test_id) AS n
              FROM tests t LEFT JOIN test_platforms p ON p.test_id = t.test_id WHERE t.status IN {EXEC} GROUP BY 1),
            bc AS (SELECT p.operating_system_id AS id, COUNT(*) AS n FROM bugs b JOIN tests t USING (test_id)
              LEFT JOIN test_platforms p ON p.test_id = t.test_id WHERE t.status IN {EXEC} GROUP BY 1)
           SELECT tc.name AS platform, tc.id AS platform_id, tc.n AS test_count, COALESCE(bc.n, 0) AS bug_count
           FROM tc LEFT JOIN bc ON bc.id IS NOT DISTINCT FROM tc.id""",
    20: f"""WITH tc AS (SELECT date_trunc('month', end_at) AS m, COUNT(*) AS n FROM tests WHERE status IN {EXEC} GROUP BY 1),
            bc AS (SELECT date_trunc('month', t.end_at) AS m, COUNT(*) AS n FROM bugs b JOIN tests t USING (test_id)
              WHERE t.status IN {EXEC} GROUP BY 1)
           SELECT strftime(tc.m, '%Y-%m') AS month, COALESCE(bc.n, 0) * 1.0 / tc.n AS bugs_per_test
           FROM tc LEFT JOIN bc ON bc.m IS NOT DISTINCT FROM tc.m""",
    22: f"""SELECT CAST(year(t.end_at) AS VARCHAR) || '-Q' || CAST(quarter(t.end_at) AS VARCHAR) AS quarter, COUNT(*) AS bug_count
           FROM bugs b JOIN tests t USING (test_id) WHERE t.status IN {EXEC} GROUP BY 1""",
    25: f"""SELECT COALESCE(f.title, s.title) AS feature, x.feature_id, x.severity, x.n AS bug_count FROM
           (SELECT b.feature_id, b.severity, COUNT(*) AS n FROM bugs b JOIN tests t USING (test_id) WHERE t.status IN {EXEC} GROUP BY 1, 2) x
           LEFT JOIN features f ON f.feature_id = x.feature_id
           LEFT JOIN (SELECT feature_id, MIN(title) AS title FROM test_features GROUP BY 1) s ON s.feature_id = x.feature_id""",
    26: f"""SELECT b.severity, b.status AS bug_status, strftime(date_trunc('month', t.end_at), '%Y-%m') AS month, COUNT(*) AS bug_count
           FROM bugs b JOIN tests t USING (test_id) WHERE t.status IN {EXEC} GROUP BY 1, 2, 3""",
    10: f"""SELECT b.author_name AS tester, 'tester:' || b.author_name AS tester_id, COUNT(*) AS bug_count,
           COUNT(DISTINCT b.author_name) AS active_testers
           FROM bugs b JOIN tests t USING (test_id) WHERE t.status IN {EXEC} GROUP BY 1 ORDER BY 3 DESC, 1 ASC NULLS LAST LIMIT 20""",
    4: f"""SELECT (SELECT COUNT(DISTINCT tf.feature_id) FROM test_features tf JOIN tests t USING (test_id) WHERE t.status IN {EXEC}) AS features_tested,
           COUNT(DISTINCT b.author_name) AS active_testers,
           SUM(CASE b.severity WHEN 'critical' THEN 5 WHEN 'high' THEN 3 ELSE 1 END) AS bug_severity_score
           FROM bugs b JOIN tests t USING (test_id) WHERE t.status IN {EXEC}""",
}


UNCAPPED = Guardrails(default_row_limit=100_000, max_row_limit=100_000)  # compare whole answers


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def timed(con, sql):
    samples = []
    con.execute(sql).fetchall()
    for _ in range(RUNS):
        t = time.perf_counter()
        rows = con.execute(sql).fetchall()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), samples, rows


def norm(rows, ncols):
    def cell(v):
        return round(v, 9) if isinstance(v, float) else v
    return sorted((tuple(cell(v) for v in r[:ncols]) for r in rows), key=repr)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    if not PATH.exists():
        t = time.perf_counter()
        build(PATH)
        print(f"built {PATH} in {time.perf_counter() - t:.1f} s")
    con = duckdb.connect(str(PATH), read_only=True)
    print("rows:", {n: con.execute(f"SELECT COUNT(*) FROM {n}").fetchone()[0] for n in ("tests", "bugs", "test_features", "test_platforms")})
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    print(f"DuckDB threads: {threads}")
    all_samples, medians, ratios = [], [], []
    for i, q in enumerate(QUERIES):
        sql = explain(**{'limit': q.get('limit', 100_000), **q}, today=date(2025, 3, 15), config=UNCAPPED).sql
        med, samples, rows = timed(con, sql)
        medians.append(med)
        all_samples.extend(samples)
        if i in HAND:
            hmed, _, hrows = timed(con, HAND[i])
            ncols = len(hrows[0]) if hrows else 0
            same = norm(rows, ncols) == norm(hrows, ncols)
            ratios.append((i, med / hmed))
            print(f"  q{i:02d} {q.get('dimensions', [])!s:40} compiled {med:6.1f} ms  hand {hmed:6.1f} ms  "
                  f"ratio {med / hmed:4.2f}  same answer: {same}")
    print(f"compiled SQL over {len(QUERIES)} queries: p50 {pct(medians, 50):.1f} ms  p95 {pct(medians, 95):.1f} ms "
          f"(all runs: p50 {pct(all_samples, 50):.1f} ms, p95 {pct(all_samples, 95):.1f} ms)")
    rs = [r for _, r in ratios]
    print(f"ratio compiled/hand-written over {len(rs)} queries: median {statistics.median(rs):.2f}  max {max(rs):.2f} "
          f"(q{max(ratios, key=lambda x: x[1])[0]:02d})")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
