"""The export's way into PostgreSQL: one ADBC database object, and the connections made from it
(the snapshot holder's and each reader's).

The exporter reaches PostgreSQL through ADBC alone (no psycopg: importing it would cost every
export Pod ~0.1 s of start-up). So the connection string is DATABASE_URL with options appended,
which libpq itself then parses: query parameters of a URI, or keywords of a key=value string,
where a later keyword overrides an earlier one.
"""

import threading
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import adbc_driver_manager
import adbc_driver_postgresql
import polars as pl

from company_exporter.errors import connect_failure, export_failure

# A path that went dead (a node's network lost, a NAT entry dropped) sends no reset. A query
# waiting for rows has nothing unacknowledged, so keepalives notice (probing after 10 s of
# silence, every 5 s, 3 times); a query just sent is unacknowledged, which the user timeout
# bounds. Either way the wait ends with an error (and the Job's retry) after ~25 s instead of
# the kernel's two hours (or 15 minutes of retransmits). A busy connection is never silent that
# long, so a long export is not cut short.
_DEAD_PATH = {"keepalives": "1", "keepalives_idle": "10", "keepalives_interval": "5",
              "keepalives_count": "3", "tcp_user_timeout": "25000"}  # fmt: skip
_URI_SCHEMES = ("postgresql://", "postgres://")


def export_conninfo(database_url: str, export_id: int) -> str:
    """DATABASE_URL with the export's name in pg_stat_activity, a connect timeout, and an end
    to waits on a dead path."""
    options = {
        "connect_timeout": "15",
        "application_name": f"company-exporter/{export_id}",
        **_DEAD_PATH,
    }
    if database_url.startswith(_URI_SCHEMES):
        url = urlsplit(database_url)
        query = parse_qsl(url.query, keep_blank_values=True) + list(options.items())
        return urlunsplit(url._replace(query=urlencode(query)))
    return " ".join([database_url, *(f"{key}={value}" for key, value in options.items())])


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
            self._database = adbc_driver_postgresql.connect(
                export_conninfo(database_url, export_id)
            )
        except adbc_driver_manager.Error as error:
            raise connect_failure(_said(error), database_url) from None
        # The driver counts a database's open connections in a plain integer, which connections
        # opened or closed in two threads at once could miscount: they take turns.
        self._turns = threading.Lock()

    def open(self) -> adbc_driver_manager.AdbcConnection:
        """A new connection (~6 ms: libpq's start-up and authentication)."""
        try:
            with self._turns:
                return adbc_driver_manager.AdbcConnection(self._database)
        except adbc_driver_manager.Error as error:
            raise connect_failure(_said(error), self.url) from None

    def release(self, connection: adbc_driver_manager.AdbcConnection) -> None:
        with self._turns:
            connection.close()

    def close(self) -> None:
        self._database.close()

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
        try:
            self._statement.set_sql_query(query)
            stream, _ = self._statement.execute_query()
            return pl.DataFrame(stream)
        except adbc_driver_manager.Error as error:  # a lost backend, a cancel
            raise export_failure(self._database.url, _said(error)) from error
        except pl.exceptions.PolarsError as error:  # the same, met while reading the stream
            raise export_failure(self._database.url, error) from error

    def cancel(self) -> None:
        """Stops the running query, if any (from another thread)."""
        self._connection.cancel()

    def close(self) -> None:
        self._statement.close()
        self._database.release(self._connection)


def _said(error: adbc_driver_manager.Error) -> str:
    """The driver's message without the query it appends (long, and of no use to an operator)."""
    return str(error).split("Query was:")[0].strip()
