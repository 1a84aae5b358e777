"""A reader of raw company columns in the export's snapshot: ADBC's PostgreSQL driver -> Arrow.

ADBC runs each query as `COPY (...) TO STDOUT (FORMAT binary)` and parses the rows into Arrow
columns in C, so neither PostgreSQL nor Python does per-row work for JSON: PostgreSQL sends
values, `lines` writes them. A slice is read in keyset pages of `PAGE_ROWS` rows in (date field,
id) order (created_at, or updated_at for an incremental export), so memory stays flat even when
one slice holds far more rows than its share (many companies created in the same second).
"""

from collections.abc import Iterator
from datetime import datetime

import polars as pl

from company_exporter.connection import Answer, Connection, Database
from company_exporter.lines import NUMERIC_FIELDS, PG_LINE, ndjson
from export_contracts.date_field import DateField
from export_database import literals
from export_database.company_json import COMPANY_FIELDS, COMPANY_JSON

# Rows a query fetches (~5.6 MB of Arrow): enough that its ~1 ms of set-up vanishes. The default
# slice (EXPORT_SLICE_ROWS, 20,000) takes three: with 10,000, a 1M-row export peaked 7 MB higher
# (188-192 MB against 181-186 MB, 5 runs each) at the same speed, and often sent a third query
# that found no row. 5,000 peaked at ~178 MB, but two queries for a 100k-row export's slices of
# ~6,000 rows made it slower (0.82 s against 0.77 s).
PAGE_ROWS = 8_000
# Rows encoded at a time: polars' intermediate columns take ~8x the lines' bytes, so encoding a
# page in pieces keeps the peak low. Measured on 1M rows: 192-199 MB peak here; 5,000 rows at a
# time saved ~0.3 s of CPU but peaked 220-226 MB, over the 200 MB the exporter is held to.
ENCODED_ROWS = 2_000

# Rows whose values the compiled path must not write; PostgreSQL builds their line instead:
# arrays that are not plain lists (several dimensions, or indexes not starting at 1), and a
# timestamp outside years 0001..9999 (before Christ, or five digits). Both timestamps are checked:
# only the one the range selects by is known to lie between valid instants.
_UNUSUAL = (
    "coalesce(array_ndims(c.tags) > 1 OR array_lower(c.tags, 1) <> 1, false)"
    " OR c.created_at NOT BETWEEN '0001-01-01 00:00:00+00' AND '9999-12-31 23:59:59.999999+00'"
    " OR c.updated_at NOT BETWEEN '0001-01-01 00:00:00+00' AND '9999-12-31 23:59:59.999999+00'"
)


def _column(field: str) -> str:
    if field == "tags":  # an unusual array would stop ADBC; its row's line comes from PG_LINE
        return "CASE WHEN u.unusual THEN '{}'::text[] ELSE c.tags END AS tags"
    name = literals.identifier(field)
    if field in NUMERIC_FIELDS:  # numeric_out's text: what row_to_json embeds, no conversion
        return f"c.{name}::text AS {name}"
    return f"c.{name}"


_PAGE = (
    "SELECT {columns}, CASE WHEN u.unusual THEN ({company_json})::text END AS {pg_line}"
    " FROM companies c, LATERAL (SELECT {unusual} AS unusual) u"
    " WHERE c.space_id = {space_id} AND c.{field} >= {start} AND c.{field} < {end}{after}"
    " ORDER BY c.{field}, c.id LIMIT {rows}"
)


def page_query(
    space_id: int,
    date_field: DateField,
    start: datetime,
    end: datetime,
    after: tuple[datetime, int] | None,
    rows: int,
) -> str:
    """The next page of the slice [start, end) of `date_field`: its first rows after the row
    (date_field, id)."""
    field = literals.identifier(date_field.value)
    past = ""
    if after is not None:
        at, row_id = literals.instant(after[0]), literals.integer(after[1])
        past = f" AND (c.{field}, c.id) > ({at}, {row_id})"
    return _PAGE.format(
        columns=", ".join(_column(name) for name in COMPANY_FIELDS),
        company_json=COMPANY_JSON,  # a constant of ours, never user input
        pg_line=literals.identifier(PG_LINE),
        unusual=_UNUSUAL,
        space_id=literals.integer(space_id), field=field, start=literals.instant(start),
        end=literals.instant(end), after=past, rows=literals.integer(rows),
    )  # fmt: skip


class ColumnReader(Connection):
    """A connection whose transaction imported the export's snapshot (`enter`), reading slices."""

    def __init__(self, database: Database, page_rows: int = PAGE_ROWS) -> None:
        super().__init__(database)
        self._page_rows = page_rows

    def enter(self, snapshot_id: str) -> None:
        """Opens the transaction in the snapshot."""
        for setup in (
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            f"SET TRANSACTION SNAPSHOT '{snapshot_id}'",  # PostgreSQL's own id: hex and dashes
            # JIT compiles each query for ~20-50 ms and measured no faster on these rows.
            "SET LOCAL jit = off",
            # Rows come in the index's order, never sorted: on rows stored out of created_at
            # order the planner may sort instead, holding the whole slice before its first row.
            "SET LOCAL enable_sort = off",
        ):
            self.execute(setup)

    def send_page(
        self,
        space_id: int,
        date_field: DateField,
        start: datetime,
        end: datetime,
        after: tuple[datetime, int] | None,
    ) -> Answer:
        """Sends the query of the slice [start, end)'s page after the row (date_field, id) (its
        first page: None); PostgreSQL runs it while the caller writes the page before."""
        return self.send(page_query(space_id, date_field, start, end, after, self._page_rows))

    def next_page_after(
        self, page: pl.DataFrame, date_field: DateField
    ) -> tuple[datetime, int] | None:
        """Where the slice's next page starts, after `page` read by `send_page`: None when the
        page was its last (a short one)."""
        if page.height < self._page_rows:
            return None
        return page[date_field.value][-1], page["id"][-1]


def page_lines(page: pl.DataFrame) -> Iterator[tuple[bytes, int]]:
    """The page as NDJSON in its order, ENCODED_ROWS rows at a time: (lines, how many)."""
    for rows in page.iter_slices(ENCODED_ROWS):
        yield ndjson(rows), rows.height


def connect_readers(
    database: Database, count: int, page_rows: int = PAGE_ROWS
) -> list[ColumnReader]:
    """`count` readers of `database`; if one cannot connect, none (the others closed)."""
    readers: list[ColumnReader] = []
    try:
        for _ in range(count):
            readers.append(ColumnReader(database, page_rows))
    except BaseException:
        for reader in readers:
            reader.close()
        raise
    return readers
