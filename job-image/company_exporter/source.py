"""The export's snapshot: one REPEATABLE READ READ ONLY view of the database for every reader.

The first connection (psycopg) checks the space, asks the planner for the range's size and span,
exports its snapshot (`pg_export_snapshot`) and holds it open until the export ends; each reader
(`columns.ColumnReader`, one per thread, in this process or in a shard's Pod) imports it, so all
of them see the same rows.
"""

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from company_exporter.columns import PAGE_ROWS, ColumnReader, connect_readers
from company_exporter.connection import export_conninfo
from company_exporter.errors import BadRequestError, connect_failure, export_failure
from export_contracts.date_field import DateField
from export_database.estimates import planned_rows, rows_in_range

_SPAN = sql.SQL(
    "SELECT min({column}), max({column}) FROM companies"
    " WHERE space_id = %s AND {column} >= %s AND {column} < %s"
)


def attached_readers(
    database_url: str, export_id: int, count: int, snapshot_id: str, page_rows: int = PAGE_ROWS
) -> list[ColumnReader]:
    """`count` readers in the snapshot another connection exported; the caller closes them."""
    readers = connect_readers(database_url, export_id, count, page_rows)
    try:
        for reader in readers:
            reader.enter(snapshot_id)
    except BaseException:
        for reader in readers:
            reader.close()
        raise
    return readers


class Snapshot:
    """`with Snapshot(url, export_id) as snapshot:` opens the snapshot; `readers()` adds readers
    in it. Leaving the block closes them all, which ends their transactions (nothing is written).
    """

    def __init__(self, database_url: str, export_id: int) -> None:
        self._database_url = database_url
        self._export_id = export_id
        self._holder: psycopg.Connection | None = None
        self._readers: list[ColumnReader] = []
        self._snapshot_id: str | None = None

    def __enter__(self) -> "Snapshot":
        try:
            self._holder = psycopg.connect(
                export_conninfo(self._database_url, self._export_id),
                autocommit=True,  # the transaction is ours to open, and never to commit
            )
        except psycopg.OperationalError as error:
            raise connect_failure(error, self._database_url) from None
        try:
            self._holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        except psycopg.Error as error:
            self.__exit__()
            raise export_failure(self._database_url, error) from error
        return self

    def __exit__(self, *exc_info: object) -> None:
        for reader in self._readers:
            reader.close()
        if self._holder is not None:
            self._holder.close()

    def exported_id(self) -> str:
        """The id other connections import the snapshot by, valid while this one is open."""
        if self._snapshot_id is None:
            self._snapshot_id = str(self._value("SELECT pg_export_snapshot()"))
        return self._snapshot_id

    def readers(self, count: int, page_rows: int = PAGE_ROWS) -> list[ColumnReader]:
        """`count` readers in this snapshot, each for a thread of its own."""
        readers = attached_readers(
            self._database_url, self._export_id, count, self.exported_id(), page_rows
        )
        self._readers += readers
        return readers

    def _row(self, query: str | sql.Composed, *params: object) -> tuple[Any, ...] | None:
        """The first row the holder's connection answers, or None."""
        assert self._holder is not None, "use the snapshot in a with block"
        try:
            return self._holder.execute(query, params or None).fetchone()
        except psycopg.Error as error:
            raise export_failure(self._database_url, error) from error

    def _value(self, query: str | sql.Composed, *params: object) -> object:
        """The first column of the first row the holder's connection answers, or None."""
        row = self._row(query, *params)
        return None if row is None else row[0]

    def require_space(self, space_id: int) -> None:
        """Raises BadRequestError unless the space exists in the snapshot."""
        if self._value("SELECT 1 FROM spaces WHERE id = %s", space_id) is None:
            raise BadRequestError(f"space {space_id} does not exist: export a space that exists")

    def span(
        self, space_id: int, date_field: DateField, start: datetime, end: datetime
    ) -> tuple[datetime, datetime] | None:
        """The first and last `date_field` in the range (two index lookups), or None if empty."""
        query = _SPAN.format(column=sql.Identifier(date_field.value))
        row = self._row(query, space_id, start, end)
        return None if row is None or row[0] is None else (row[0], row[1])

    def estimated_rows(
        self, space_id: int, date_field: DateField, start: datetime, end: datetime
    ) -> int:
        """The planner's guess of the rows in the range: instant, from the table's statistics."""
        return planned_rows(self._value(rows_in_range(date_field), space_id, start, end))
