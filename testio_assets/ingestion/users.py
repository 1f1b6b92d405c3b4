"""Users derived set-based from the warehouse: there is no users endpoint.

Testers are the bugs' authors; customer users are the tests' ``created_by`` and
``submitted_by``. They stay separate identities (``tester:<name>``, ``customer:<name>``)
because one person can be both.

>>> [cte.alias for cte in USERS_QUERY.ctes]
['testers', 'customer_roles', 'customers']
"""

import sqlglot
from sqlglot import exp

# Fixed text (no value is ever formatted into it), read once into a tree for the writer.
_USERS_SQL = """
WITH testers AS (
    SELECT
        'tester:' || author_name AS user_id,
        'tester' AS role,
        author_name AS name,
        min(reported_at) AS first_seen_at,
        max(reported_at) AS last_seen_at,
        count(*) AS bugs_reported,
        0 AS tests_created,
        0 AS tests_submitted
    FROM bugs
    WHERE author_name IS NOT NULL
    GROUP BY author_name
),
customer_roles AS (
    SELECT created_by AS name, start_at, end_at, 1 AS created, 0 AS submitted
    FROM tests WHERE created_by IS NOT NULL
    UNION ALL
    SELECT submitted_by, start_at, end_at, 0, 1
    FROM tests WHERE submitted_by IS NOT NULL
),
customers AS (
    SELECT
        'customer:' || name AS user_id,
        'customer' AS role,
        name,
        min(start_at) AS first_seen_at,
        max(end_at) AS last_seen_at,
        0 AS bugs_reported,
        sum(created) AS tests_created,
        sum(submitted) AS tests_submitted
    FROM customer_roles
    GROUP BY name
)
SELECT * FROM testers
UNION ALL
SELECT * FROM customers
"""

USERS_QUERY: exp.Query = sqlglot.parse_one(_USERS_SQL, read="duckdb")
