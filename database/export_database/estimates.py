"""How many companies a range holds, as PostgreSQL's planner guesses it: instant, from the table's
statistics, with no row read. The API records it on each export (the operator shards the large
ones) and the exporter cuts the range into slices by it."""

from typing import Any

from psycopg import sql

from export_contracts.date_field import DateField


def rows_in_range(date_field: DateField) -> sql.Composed:
    """The query of the estimate of a range of `date_field`; parameters: space id, range start,
    range end. The answer is one row of EXPLAIN's JSON plan."""
    return sql.SQL(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM companies"
        " WHERE space_id = %s AND {column} >= %s AND {column} < %s"
    ).format(column=sql.Identifier(date_field.value))


def planned_rows(plan: Any) -> int:
    """The row estimate in EXPLAIN (FORMAT JSON)'s answer, as psycopg parses it."""
    return int(plan[0]["Plan"]["Plan Rows"])
