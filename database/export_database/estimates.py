"""How many companies a range holds, as PostgreSQL's planner guesses it: instant, from the table's
statistics, with no row read. The API records it on each export (the operator shards the large
ones) and the exporter cuts the range into slices by it."""

from datetime import datetime
from typing import TYPE_CHECKING, Any

from export_contracts.date_field import DateField
from export_database import literals

if TYPE_CHECKING:
    from psycopg import sql

_ROWS_IN_RANGE = (
    "EXPLAIN (FORMAT JSON) SELECT 1 FROM companies"
    " WHERE space_id = {space_id} AND {column} >= {start} AND {column} < {end}"
)


def rows_in_range(date_field: DateField) -> "sql.Composed":
    """The query of the estimate of a range of `date_field`, for psycopg; parameters: space id,
    range start, range end. The answer is one row of EXPLAIN's JSON plan."""
    from psycopg import sql  # here: the exporter imports this module without psycopg

    return sql.SQL(_ROWS_IN_RANGE).format(
        column=sql.Identifier(date_field.value),
        space_id=sql.Placeholder(),
        start=sql.Placeholder(),
        end=sql.Placeholder(),
    )


def rows_in_range_text(date_field: DateField, space_id: int, start: datetime, end: datetime) -> str:
    """The same query with its values written in (the exporter runs it through ADBC)."""
    return _ROWS_IN_RANGE.format(
        column=literals.identifier(date_field.value),
        space_id=literals.integer(space_id),
        start=literals.instant(start),
        end=literals.instant(end),
    )


def planned_rows(plan: Any) -> int:
    """The row estimate in EXPLAIN (FORMAT JSON)'s answer, parsed."""
    return int(plan[0]["Plan"]["Plan Rows"])
