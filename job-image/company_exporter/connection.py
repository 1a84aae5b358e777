"""The export's way into PostgreSQL: one ADBC database object, and the connections made from it
(the snapshot holder's and each reader's).

The exporter reaches PostgreSQL through ADBC alone (no psycopg: importing it would cost every
export Pod ~0.1 s of start-up), with `conninfo.export_conninfo`'s connection string. The
database object and its first connections may have been opened ahead, while the process was still
importing (`head_start`).
"""

import threading

import adbc_driver_manager
import adbc_driver_postgresql
import polars as pl

from company_exporter import head_start
from company_exporter.conninfo import export_conninfo
from company_exporter.errors import connect_failure, export_failure


class Database:
    """ADBC's database object for one export: it reads PostgreSQL's type catalog once, on a
    connection of its own (~30 ms, the driver's loading included), for every connection made
    from it. Close it (or leave its `with` block) after them.

    A database object per connection read the catalog again for each: an export of two readers
    started six backends (three of them only for the catalog) instead of four.
    """

    def __init__(self, database_url: str, export_id: int) -> None:
        self.url = database_url
        try:
            opened = head_start.connect(export_conninfo(database_url, export_id))
        except adbc_driver_manager.Error as error:
            raise connect_failure(_said(error), database_url) from None
        # The database object, and the connections opened ahead not handed out yet.
        self._opened = opened
        # The driver counts a database's open connections in a plain integer, which connections
        # opened or closed in two threads at once could miscount: they take turns.
        self._turns = threading.Lock()

    def open(self) -> adbc_driver_manager.AdbcConnection:
        """A connection: one opened ahead (`head_start`) while there are any, then a new one
        (~6 ms: libpq's start-up and authentication)."""
        try:
            with self._turns:
                if self._opened.connections:
                    return self._opened.connections.pop(0)
                return adbc_driver_manager.AdbcConnection(self._opened.database)
        except adbc_driver_manager.Error as error:
            raise connect_failure(_said(error), self.url) from None

    def release(self, connection: adbc_driver_manager.AdbcConnection) -> None:
        with self._turns:
            connection.close()

    def close(self) -> None:
        with self._turns:
            self._opened.close()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Connection:
    """A connection of the export's `Database` in autocommit mode (a BEGIN sent is a transaction
    opened), with one statement. `copy=False` runs queries as plain queries: EXPLAIN cannot be
    wrapped in the COPY ADBC otherwise reads results with."""

    def __init__(self, database: Database, *, copy: bool = True) -> None:
        self._database = database
        self._connection = database.open()
        self._statement = adbc_driver_manager.AdbcStatement(self._connection)
        if not copy:
            self._statement.set_options(
                **{adbc_driver_postgresql.StatementOptions.USE_COPY.value: "false"}
            )

    def execute(self, query: str) -> None:
        """Runs a statement that returns no rows."""
        try:
            self._statement.set_sql_query(query)
            self._statement.execute_update()
        except adbc_driver_manager.Error as error:
            raise export_failure(self._database.url, _said(error)) from error

    def rows(self, query: str) -> pl.DataFrame:
        """The query's answer, all of it."""
        return self.send(query).read()

    def send(self, query: str) -> "Answer":
        """Sends the query and returns before reading its answer: PostgreSQL runs it meanwhile,
        and a COPY's rows wait in the connection's socket buffers (megabytes) for `read`."""
        url = self._database.url
        try:
            self._statement.set_sql_query(query)
            stream, _ = self._statement.execute_query()
        except adbc_driver_manager.Error as error:  # a lost backend, a cancel
            return Answer(url, export_failure(url, _said(error)))
        return Answer(url, stream)

    def cancel(self) -> None:
        """Stops the running query, if any (from another thread)."""
        self._connection.cancel()

    def close(self) -> None:
        self._statement.close()
        self._database.release(self._connection)


class Answer:
    """A query's answer, to be read once; a failure to send the query is raised by `read`, so it
    reaches whoever reads the answer (a reader thread: the slice the query was for)."""

    def __init__(
        self, database_url: str, sent: adbc_driver_manager.ArrowArrayStreamHandle | Exception
    ) -> None:
        self._database_url = database_url
        self._sent = sent

    def read(self) -> pl.DataFrame:
        if isinstance(self._sent, Exception):
            raise self._sent
        try:
            return pl.DataFrame(self._sent)
        except adbc_driver_manager.Error as error:  # a lost backend, a cancel
            raise export_failure(self._database_url, _said(error)) from error
        except pl.exceptions.PolarsError as error:  # the same, met while reading the stream
            raise export_failure(self._database_url, error) from error


def _said(error: adbc_driver_manager.Error) -> str:
    """The driver's message without the query it appends (long, and of no use to an operator)."""
    return str(error).split("Query was:")[0].strip()
