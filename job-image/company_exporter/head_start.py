"""The export's first PostgreSQL connections, opened while the exporter still imports.

A cold export Pod spends ~0.2 s importing (polars, pydantic, the contracts) on one core before it
can ask PostgreSQL anything, and then waited on PostgreSQL: for ADBC's database object (the
driver's loading and its read of the type catalog, ~30 ms), the snapshot holder's connection and
the readers' (~6 ms each, one after another). None of that needs those imports: `begin`, called
by the entry point first, opens them in a thread of its own from the environment as it is, and
the waits overlap the imports. `connect` then hands them to the export's `connection.Database`
when its connection string (from the validated settings and parameters) is the same, or opens
its own. What is never taken (a bad environment, a failure before the snapshot) ends with the
process.
"""

import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field

import adbc_driver_manager
import adbc_driver_postgresql

from company_exporter.conninfo import DEFAULT_READERS, MAX_READERS, export_conninfo


@dataclass
class Opened:
    """A database object and connections opened from it, to be handed out first."""

    database: adbc_driver_manager.AdbcDatabase
    connections: list[adbc_driver_manager.AdbcConnection] = field(default_factory=list)

    def close(self) -> None:
        for connection in self.connections:
            connection.close()
        self.database.close()


# What `begin` started, and for which connection string (one export per process: one at most).
_begun: list[tuple[str, "Future[Opened]"]] = []


def begin(environ: Mapping[str, str]) -> None:
    """Starts opening the database object and the connections a single-Pod export opens first
    (the holder's and the readers'), or a sharded Pod's first one, when the environment names
    the database. The variables are read as they are: the export validates them later."""
    database_url, export_id = environ.get("DATABASE_URL"), environ.get("EXPORT_ID", "")
    if not database_url or not export_id.isdigit():
        return  # the export's validation will say what is wrong
    conninfo = export_conninfo(database_url, int(export_id))
    opened: Future[Opened] = Future()
    _begun.append((conninfo, opened))
    threading.Thread(
        target=_open_into,
        args=(conninfo, _first_connections(environ), opened),
        name="head-start",
        daemon=True,
    ).start()


def _first_connections(environ: Mapping[str, str]) -> int:
    if environ.get("EXPORT_SHARDS", "1") != "1":
        return 1  # the coordinator's holder, or a shard's first reader
    readers = environ.get("EXPORT_DATABASE_CONNECTIONS", "")
    return 1 + (min(int(readers), MAX_READERS) if readers.isdigit() else DEFAULT_READERS)


def connect(conninfo: str) -> Opened:
    """The database object for `conninfo` with the connections `begin` opened (raising their
    failure, adbc_driver_manager.Error), or a database object opened now. What `begin` opened is
    handed out once, and closed when it was opened for another connection string."""
    if _begun:
        begun_for, opened = _begun.pop()
        if begun_for == conninfo:
            return opened.result()
        opened.add_done_callback(_close_unless_failed)
    return _open(conninfo, connections=0)


def _open(conninfo: str, connections: int) -> Opened:
    opened = Opened(adbc_driver_postgresql.connect(conninfo))
    try:
        for _ in range(connections):
            opened.connections.append(adbc_driver_manager.AdbcConnection(opened.database))
    except BaseException:
        opened.close()
        raise
    return opened


def _open_into(conninfo: str, connections: int, opened: "Future[Opened]") -> None:
    try:
        opened.set_result(_open(conninfo, connections))
    except BaseException as error:  # raised again in the thread that takes it
        opened.set_exception(error)


def _close_unless_failed(opened: "Future[Opened]") -> None:
    if opened.exception() is None:
        opened.result().close()
