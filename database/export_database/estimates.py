"""How many companies a range holds, as PostgreSQL's planner guesses it: instant, from the table's
statistics, with no row read. The API records it on each export (the operator shards the large
ones) and the exporter cuts the range into slices by it."""

from typing import Any

# Parameters: space id, range start, range end. The answer is one row of EXPLAIN's JSON plan.
ROWS_IN_RANGE = (
    "EXPLAIN (FORMAT JSON) SELECT 1 FROM companies"
    " WHERE space_id = %s AND created_at >= %s AND created_at < %s"
)


def planned_rows(plan: Any) -> int:
    """The row estimate in EXPLAIN (FORMAT JSON)'s answer, as psycopg parses it."""
    return int(plan[0]["Plan"]["Plan Rows"])
