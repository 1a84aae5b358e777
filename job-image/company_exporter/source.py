"""The export's snapshot: one REPEATABLE READ READ ONLY view of the database for every reader.

The first connection (the holder) checks the space, asks the planner for the range's size and
span, exports its snapshot (`pg_export_snapshot`) and holds it open until the export ends; each
reader (`columns.ColumnReader`, one per thread, in this process or in a shard's Pod) imports it,
so all of them see the same rows. Every connection of a process comes from one `Database`.
"""

import json
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

from company_exporter.columns import PAGE_ROWS, ColumnReader, connect_readers
from company_exporter.connection import Connection, Database
from company_exporter.errors import BadRequestError
from export_contracts.date_field import DateField
from export_database import literals
from export_database.estimates import planned_rows, rows_in_range_text

_SPACE = "SELECT count(*) FROM spaces WHERE id = {space_id}"
_SPAN = (
    "SELECT min({column}), max({column}) FROM companies"
    " WHERE space_id = {space_id} AND {column} >= {start} AND {column} < {end}"
)


def attached_readers(
    database: Database, count: int, snapshot_id: str, page_rows: int = PAGE_ROWS
) -> list[ColumnReader]:
    """`count` readers in the snapshot another connection exported; the caller closes them."""
    readers = connect_readers(database, count, page_rows)
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

    `connect_ahead` readers (of PAGE_ROWS pages) start connecting once the holder has, while
    it plans; `readers()` then takes them instead of connecting.
    """

    def __init__(self, database_url: str, export_id: int, connect_ahead: int = 0) -> None:
        self._database_url = database_url
        self._export_id = export_id
        self._connect_ahead = connect_ahead
        self._ahead: Future[list[ColumnReader]] | None = None
        self._database: Database | None = None
        self._holder: Connection | None = None
        self._readers: list[ColumnReader] = []
        self._snapshot_id: str | None = None

    def __enter__(self) -> "Snapshot":
        self._database = Database(self._database_url, self._export_id)
        try:
            self._open_holder(self._database)
        except BaseException:
            self.__exit__()
            raise
        if self._connect_ahead:
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="connect-ahead")
            self._ahead = pool.submit(connect_readers, self._database, self._connect_ahead)
            pool.shutdown(wait=False)  # the connecting goes on; `readers()` waits for it
        return self

    def _open_holder(self, database: Database) -> None:
        # Plain queries: the holder's answers are one row each, and EXPLAIN cannot run in a COPY.
        self._holder = Connection(database, copy=False)
        self._holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def __exit__(self, *exc_info: object) -> None:
        for reader in self._readers + self._connected_ahead():
            reader.close()
        if self._holder is not None:
            self._holder.close()
        if self._database is not None:
            self._database.close()

    def _connected_ahead(self) -> list[ColumnReader]:
        """The readers connected ahead and not taken yet (none if their connecting failed)."""
        ahead, self._ahead = self._ahead, None
        if ahead is None or ahead.exception() is not None:
            return []
        return ahead.result()

    def exported_id(self) -> str:
        """The id other connections import the snapshot by, valid while this one is open."""
        if self._snapshot_id is None:
            self._snapshot_id = str(self._row("SELECT pg_export_snapshot()")[0])
        return self._snapshot_id

    def readers(self, count: int, page_rows: int = PAGE_ROWS) -> list[ColumnReader]:
        """`count` readers in this snapshot, each for a thread of its own: those connected
        ahead first (raising their connecting's failure), any more connected now."""
        snapshot_id = self.exported_id()
        ahead, self._ahead = self._ahead, None
        connected = ahead.result() if ahead is not None else []  # raises their failure
        taken, spare = connected[:count], connected[count:]
        for reader in spare:
            reader.close()
        self._readers += taken
        for reader in taken:
            reader.enter(snapshot_id)
        more = count - len(taken)
        if more:
            assert self._database is not None, "use the snapshot in a with block"
            self._readers += attached_readers(self._database, more, snapshot_id, page_rows)
        return self._readers[-count:]

    def _row(self, query: str) -> tuple[object, ...]:
        """The first row of the holder's answer (the queries here always answer one)."""
        assert self._holder is not None, "use the snapshot in a with block"
        return self._holder.rows(query).row(0)

    def require_space(self, space_id: int) -> None:
        """Raises BadRequestError unless the space exists in the snapshot."""
        if self._row(_SPACE.format(space_id=literals.integer(space_id)))[0] == 0:
            raise BadRequestError(f"space {space_id} does not exist: export a space that exists")

    def span(
        self, space_id: int, date_field: DateField, start: datetime, end: datetime
    ) -> tuple[datetime, datetime] | None:
        """The first and last `date_field` in the range (two index lookups), or None if empty."""
        first, last = self._row(
            _SPAN.format(
                column=literals.identifier(date_field.value),
                space_id=literals.integer(space_id),
                start=literals.instant(start),
                end=literals.instant(end),
            )
        )
        if first is None:
            return None
        assert isinstance(first, datetime)
        assert isinstance(last, datetime)
        return first, last

    def estimated_rows(
        self, space_id: int, date_field: DateField, start: datetime, end: datetime
    ) -> int:
        """The planner's guess of the rows in the range: instant, from the table's statistics."""
        (plan,) = self._row(rows_in_range_text(date_field, space_id, start, end))
        return planned_rows(json.loads(str(plan)))
