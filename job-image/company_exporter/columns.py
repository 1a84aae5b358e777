"""A reader of raw company columns in the export's snapshot: ADBC's PostgreSQL driver -> Arrow.

ADBC runs each query as `COPY (...) TO STDOUT (FORMAT binary)` and parses the rows into Arrow
columns in C, so neither PostgreSQL nor Python does per-row work for JSON: PostgreSQL sends
values, `lines` writes them. A slice is read in keyset pages of `PAGE_ROWS` rows in (date field,
id) order (created_at, or updated_at for an incremental export), so memory stays flat even when
one slice holds far more rows than its share (many companies created in the same second).
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import adbc_driver_manager
import adbc_driver_postgresql
import polars as pl
from psycopg import sql

from company_exporter.connection import export_conninfo
from company_exporter.errors import connect_failure, export_failure
from company_exporter.lines import PG_LINE, ndjson
from export_contracts.date_field import DateField
from export_database.company_json import COMPANY_FIELDS, COMPANY_JSON

# Rows a query fetches (~7 MB of Arrow): enough that its ~1 ms of set-up vanishes.
PAGE_ROWS = 10_000
# Rows encoded at a time: polars' intermediate columns take ~8x the lines' bytes, so encoding a
# page in pieces keeps the peak low (measured: 1M rows peaked 320 MB encoded whole, 255 MB here).
ENCODED_ROWS = 2_000

# Rows whose values the compiled path must not write; PostgreSQL builds their line instead:
# arrays that are not plain lists (several dimensions, or indexes not starting at 1), and a
# timestamp outside years 0001..9999 (before Christ, or five digits). Both timestamps are checked:
# only the one the range selects by is known to lie between valid instants.
_UNUSUAL = sql.SQL(
    "coalesce(array_ndims(c.tags) > 1 OR array_lower(c.tags, 1) <> 1, false)"
    " OR c.created_at NOT BETWEEN {first} AND {last}"
    " OR c.updated_at NOT BETWEEN {first} AND {last}"
).format(
    first=sql.Literal("0001-01-01 00:00:00+00"), last=sql.Literal("9999-12-31 23:59:59.999999+00")
)


def _column(field: str) -> sql.Composable:
    if field == "tags":  # an unusual array would stop ADBC; its row's line comes from PG_LINE
        return sql.SQL("CASE WHEN u.unusual THEN '{}'::text[] ELSE c.tags END AS tags")
    return sql.SQL("c.{}").format(sql.Identifier(field))


_PAGE = sql.SQL(
    "SELECT {columns}, CASE WHEN u.unusual THEN ({company_json})::text END AS {pg_line}"
    " FROM companies c, LATERAL (SELECT {unusual} AS unusual) u"
    " WHERE c.space_id = {space_id} AND c.{field} >= {start} AND c.{field} < {end}{after}"
    " ORDER BY c.{field}, c.id LIMIT {rows}"
)
_AFTER = sql.SQL(" AND (c.{field}, c.id) > ({at}, {id})")


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
    field = sql.Identifier(date_field.value)
    past = sql.SQL("") if after is None else _AFTER.format(field=field, at=after[0], id=after[1])
    return _PAGE.format(
        columns=sql.SQL(", ").join(_column(name) for name in COMPANY_FIELDS),
        company_json=sql.SQL(COMPANY_JSON),  # a constant of ours, never user input
        pg_line=sql.Identifier(PG_LINE),
        unusual=_UNUSUAL,
        space_id=space_id, field=field, start=start, end=end, after=past, rows=rows,
    ).as_string(None)  # fmt: skip


class ColumnReader:
    """One ADBC connection; `enter` puts it in a transaction that imported the export's snapshot.

    Connecting takes ~50 ms (ADBC reads PostgreSQL's type catalog), so readers connect side by
    side (`connect_readers`).
    """

    def __init__(self, database_url: str, export_id: int, page_rows: int = PAGE_ROWS) -> None:
        self._database_url = database_url
        self._page_rows = page_rows
        try:
            self._database = adbc_driver_postgresql.connect(
                export_conninfo(database_url, export_id)
            )
            self._connection = adbc_driver_manager.AdbcConnection(self._database)
        except adbc_driver_manager.Error as error:
            raise connect_failure(_said(error), database_url) from None
        self._statement = adbc_driver_manager.AdbcStatement(self._connection)

    def enter(self, snapshot_id: str) -> None:
        """Opens the transaction in the snapshot; ADBC's autocommit mode sends BEGIN as it is."""
        for setup in (
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            f"SET TRANSACTION SNAPSHOT '{snapshot_id}'",  # PostgreSQL's own id: hex and dashes
            # JIT compiles each query for ~20-50 ms and measured no faster on these rows.
            "SET LOCAL jit = off",
            # Rows come in the index's order, never sorted: on rows stored out of created_at
            # order the planner may sort instead, holding the whole slice before its first row.
            "SET LOCAL enable_sort = off",
        ):
            try:
                self._statement.set_sql_query(setup)
                self._statement.execute_update()
            except adbc_driver_manager.Error as error:
                raise export_failure(self._database_url, _said(error)) from error

    def _page(self, query: str) -> pl.DataFrame:
        try:
            self._statement.set_sql_query(query)
            stream, _ = self._statement.execute_query()
            return pl.DataFrame(stream)
        except adbc_driver_manager.Error as error:  # a lost backend, a cancel
            raise export_failure(self._database_url, _said(error)) from error
        except pl.exceptions.PolarsError as error:  # the same, met while reading the stream
            raise export_failure(self._database_url, error) from error

    def lines(
        self, space_id: int, date_field: DateField, start: datetime, end: datetime
    ) -> Iterator[tuple[bytes, int]]:
        """The slice [start, end) of `date_field` as NDJSON in (date_field, id) order: (lines,
        how many) at a time."""
        after: tuple[datetime, int] | None = None
        while True:
            query = page_query(space_id, date_field, start, end, after, self._page_rows)
            page = self._page(query)
            for rows in page.iter_slices(ENCODED_ROWS):
                yield ndjson(rows), rows.height
            if page.height < self._page_rows:
                return
            after = (page[date_field.value][-1], page["id"][-1])

    def cancel(self) -> None:
        """Stops the running query, if any (from another thread)."""
        self._connection.cancel()

    def close(self) -> None:
        for handle in (self._statement, self._connection, self._database):
            handle.close()


def connect_readers(
    database_url: str, export_id: int, count: int, page_rows: int = PAGE_ROWS
) -> list[ColumnReader]:
    """`count` readers, connected side by side (ADBC connects without holding the GIL)."""
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="connect") as pool:
        futures = [
            pool.submit(ColumnReader, database_url, export_id, page_rows) for _ in range(count)
        ]
    readers = [future.result() for future in futures if future.exception() is None]
    if len(readers) < count:
        for reader in readers:
            reader.close()
        raise next(error for future in futures if (error := future.exception()) is not None)
    return readers


def _said(error: adbc_driver_manager.Error) -> str:
    """The driver's message without the query it appends (long, and of no use to an operator)."""
    return str(error).split("Query was:")[0].strip()
