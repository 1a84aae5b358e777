"""The head start: PostgreSQL's database object and first connection, opened while the exporter
still imports, taken by the export's `Database` when it is for the same connection string."""

import time
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from company_exporter import head_start
from company_exporter.connection import Connection, Database
from company_exporter.conninfo import DEFAULT_READERS, export_conninfo
from company_exporter.errors import RetriableError
from tests.exporter.conftest import Exporter, connections_left, sessions_started

pytestmark = pytest.mark.integration


def _opened_ahead(conn: psycopg.Connection[tuple[int]], export_id: int, count: int) -> set[int]:
    """The pids of the head start's `count` connections, once they are open: the export's
    backends that have run no query yet (the database object's catalog connection ran one)."""
    deadline = time.monotonic() + 10
    while True:
        pids = {
            int(row[0])
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND query = ''",
                (f"company-exporter/{export_id}",),
            )
        }
        if len(pids) == count or time.monotonic() > deadline:
            assert len(pids) == count
            return pids
        time.sleep(0.02)


def _backend_of(database: Database) -> int:
    connection = Connection(database, copy=False)
    try:
        return int(connection.rows("SELECT pg_backend_pid()").item())
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("environment", "connections"),
    [
        ({}, 1 + DEFAULT_READERS),  # the snapshot holder's and the readers'
        ({"EXPORT_DATABASE_CONNECTIONS": "3"}, 4),
        ({"EXPORT_DATABASE_CONNECTIONS": "many"}, 1 + DEFAULT_READERS),  # refused later
        ({"EXPORT_SHARDS": "3"}, 1),  # the coordinator's holder, or a shard's first reader
    ],
)
def test_the_head_start_opens_the_connections_a_pod_starts_with(
    database_url: str, environment: dict[str, str], connections: int
) -> None:
    head_start.begin({"DATABASE_URL": database_url, "EXPORT_ID": "30", **environment})
    opened = head_start.connect(export_conninfo(database_url, 30))
    try:
        assert len(opened.connections) == connections
    finally:
        opened.close()


def test_the_database_hands_out_the_connections_opened_ahead_first(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = sessions_started(conn)
        environment = {"EXPORT_DATABASE_CONNECTIONS": "1"}
        head_start.begin({"DATABASE_URL": database_url, "EXPORT_ID": "31", **environment})
        ahead = _opened_ahead(conn, 31, count=2)
        with Database(database_url, 31) as database:
            handed_out = [_backend_of(database) for _ in range(3)]
        assert set(handed_out[:2]) == ahead
        assert handed_out[2] not in ahead
        assert connections_left(conn, export_id=31) == 0
        assert sessions_started(conn) - before == 4  # the catalog's, two ahead, one more


def test_what_was_opened_for_another_export_is_closed(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        head_start.begin({"DATABASE_URL": database_url, "EXPORT_ID": "32"})
        _opened_ahead(conn, 32, count=1 + DEFAULT_READERS)
        with Database(database_url, 33) as database:
            assert _backend_of(database) > 0
            assert connections_left(conn, export_id=32) == 0


def test_connections_opened_ahead_and_not_taken_close_with_the_database(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        head_start.begin({"DATABASE_URL": database_url, "EXPORT_ID": "36"})
        with Database(database_url, 36) as database:
            assert _backend_of(database) > 0
        assert connections_left(conn, export_id=36) == 0


def test_a_failure_ahead_is_reported_as_the_export_would_report_its_own(database_url: str) -> None:
    parts = urlsplit(database_url)
    wrong = urlunsplit(
        parts._replace(netloc=f"{parts.username}:not-the-password@{parts.hostname}:{parts.port}")
    )
    head_start.begin({"DATABASE_URL": wrong, "EXPORT_ID": "34"})
    with pytest.raises(RetriableError) as ahead:
        Database(wrong, 34)
    with pytest.raises(RetriableError) as now:
        Database(wrong, 34)

    assert str(ahead.value) == str(now.value)
    assert f"rejected the credentials of user {parts.username}" in str(ahead.value)


def test_the_exporter_opens_no_backend_twice(exporter: Exporter, space_100k: int) -> None:
    """The program's head start (from the raw environment) and its export (from the validated
    settings) name the same connection string: the export starts four backends, the head start's
    catalog and first connection (the snapshot holder's) among them, not six."""
    with psycopg.connect(exporter.database_url, autocommit=True) as conn:
        before = sessions_started(conn)
        run = exporter.run(space_100k, datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC))
        assert run.result().records == 100_000
        assert connections_left(conn, export_id=7) == 0
        assert sessions_started(conn) - before == 4  # catalog, holder, two readers
