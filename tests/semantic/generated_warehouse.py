"""A seeded, non-trivial warehouse generated set-based with DuckDB's own generators: the
benchmarks' 1M-bug warehouse, and smaller ones for the engine differential tests.

Products, features (some tested but uncatalogued), tests of every status (NULL end_at, creators
and submitters), several features and platforms per test, bugs of every severity and status,
unattributed bugs and bugs without a tester.

>>> con = duckdb.connect()
>>> build_generated(con, n_tests=100, n_bugs=1_000)
>>> con.execute("SELECT count(*) FROM bugs").fetchone()
(1000,)
"""

from __future__ import annotations

import duckdb

from testio_assets.warehouse.schema import TABLES, create_table_sql


def build_generated(con: duckdb.DuckDBPyConnection, n_tests: int = 50_000, n_bugs: int = 1_000_000) -> None:
    """Fill ``con`` with a seeded warehouse of ``n_tests`` tests and ``n_bugs`` bugs (set-based)."""
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
        FROM range(1, {n_tests + 1}) r(i)""")
    con.execute(f"""INSERT INTO test_features (test_feature_id, test_id, feature_id, title)
        SELECT t * 4 + k, t, 1 + (hash(t * 11 + k) % 520)::INT, 'Snapshot ' || (1 + (hash(t * 11 + k) % 520)::INT)
        FROM range(1, {n_tests + 1}) a(t), range(0, 3) b(k) WHERE k = 0 OR hash(t + k) % 3 > 0""")
    con.execute(f"""INSERT INTO test_platforms (test_id, operating_system_id, operating_system_name)
        SELECT t, k, ['Windows','macOS','Android','iOS'][k] FROM range(1, {n_tests + 1}) a(t), range(1, 5) b(k)
        WHERE hash(t * 5 + k) % 2 = 0""")
    con.execute(f"""INSERT INTO bugs (bug_id, test_id, test_feature_id, feature_id, severity, status, rejection_reason,
        known, author_name)
        SELECT b.i, b.t, tf.test_feature_id, tf.feature_id,
          ['critical','high','low','low','low','visual','content','custom'][1 + (hash(b.i * 3) % 8)::INT],
          b.status,
          CASE WHEN b.status = 'rejected' AND b.i % 4 > 0 THEN ['not_reproducible','intended_behavior','known_bug','irrelevant'][1 + (b.i % 4)::INT] END,
          b.i % 17 = 0, CASE WHEN b.i % 101 = 0 THEN NULL ELSE 'tester ' || (b.i % 3000) END
        FROM (SELECT i, 1 + (hash(i) % {n_tests})::INT AS t,
                     ['accepted','accepted','auto_accepted','rejected','forwarded'][1 + (hash(i * 5) % 5)::INT] AS status,
                     i % 20 = 0 AS unattributed
              FROM range(1, {n_bugs + 1}) r(i)) b
        LEFT JOIN (SELECT test_id, MIN(test_feature_id) AS test_feature_id, MIN(feature_id) AS feature_id
                   FROM test_features GROUP BY test_id) tf ON tf.test_id = b.t AND NOT b.unattributed""")
