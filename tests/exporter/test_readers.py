"""Slice readers against the real PostgreSQL: slices given exactly, so rows can sit on the edges.

The exporter picks its slices from the planner's estimate; here they are chosen by the test, and
what the readers hand back, joined in order, must be the plain SELECT's rows, each once.
"""

import gzip
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import psycopg
import pytest

from company_exporter.columns import ColumnReader, page_lines
from company_exporter.compression import GzipParts
from company_exporter.connection import Answer
from company_exporter.errors import BadRequestError, RetriableError
from company_exporter.readers import Deflated, SliceEnd, SliceReaders
from company_exporter.slices import TimeSlice, time_slices
from company_exporter.source import Snapshot
from export_contracts.date_field import DateField
from tests.exporter.conftest import (
    connections_left,
    database_rows,
    insert_companies,
    new_space,
    parse_line,
    sessions_started,
)

pytestmark = pytest.mark.integration

START = datetime(2024, 3, 1, tzinfo=UTC)
END = START + timedelta(hours=6)
MICROSECOND = timedelta(microseconds=1)


def export_lines(
    database_url: str, space_id: int, slices: list[TimeSlice], connections: int, ahead: int = 0
) -> list[bytes]:
    """The slices read by `connections` readers, joined as the export joins them, gunzipped;
    `ahead` of them connected while the snapshot opened."""
    gzip_parts = GzipParts(2, 5 * 1024 * 1024)
    parts: list[bytes] = []
    with Snapshot(database_url, export_id=1, connect_ahead=ahead) as snapshot:
        readers = snapshot.readers(connections)
        with SliceReaders(readers, space_id, DateField.CREATED_AT, slices, 2) as output:
            for item in output:
                if isinstance(item, SliceEnd):
                    gzip_parts.end_slice(item.crc32, item.length)
                else:
                    parts += gzip_parts.add(item.data)
    parts += gzip_parts.finish()
    return gzip.decompress(b"".join(parts)).splitlines()


# (readers, of them connected ahead): none, all, fewer used than connected, more than connected.
@pytest.mark.parametrize(("connections", "ahead"), [(1, 0), (3, 3), (2, 3), (3, 1)])
def test_rows_on_slice_edges_come_once_in_order(
    database_url: str, connections: int, ahead: int
) -> None:
    slices = time_slices(START, END, 100, 1, connections)
    edges = [piece.start for piece in slices[1:]]
    instants = [at + delta for at in edges for delta in (-MICROSECOND, timedelta(0), MICROSECOND)]
    instants += [START, END - MICROSECOND, edges[3], edges[3]]  # and equal ones on an edge
    space_id = new_space(database_url)
    insert_companies(database_url, space_id, [{"created_at": at} for at in instants])

    lines = export_lines(database_url, space_id, slices, connections, ahead)

    assert [parse_line(line) for line in lines] == database_rows(database_url, space_id, START, END)
    assert len(lines) == len(instants)
    assert exporter_connections(database_url, export_id=1) == 0  # spares closed too


def test_empty_slices_between_full_ones(database_url: str) -> None:
    space_id = new_space(database_url)
    insert_companies(
        database_url, space_id, [{"created_at": START}, {"created_at": END - MICROSECOND}]
    )

    lines = export_lines(database_url, space_id, time_slices(START, END, 100, 1, 3), 3)

    assert [parse_line(line)["created_at"] for line in lines] == [START, END - MICROSECOND]


def test_a_lost_backend_fails_the_export_and_stops_every_reader(database_url: str) -> None:
    space_id = new_space(database_url)
    rows = [{"created_at": START + timedelta(seconds=second)} for second in range(3000)]
    insert_companies(database_url, space_id, rows)
    threads_before = threading.active_count()

    with pytest.raises(RetriableError, match="failed during the export"):
        read_and_terminate_backends(database_url, space_id, time_slices(START, END, 100, 1, 2))

    assert threading.active_count() == threads_before  # every reader thread ended


def test_a_reader_sends_its_next_query_before_it_writes_the_page_it_read(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL runs the next query (the slice's next page, or the next slice's first) while
    the page before is written: one reader, pages of 2 rows, slices of 3 rows and of 1."""
    space_id = new_space(database_url)
    middle = START + timedelta(hours=3)
    instants = [START, START + MICROSECOND, START + 2 * MICROSECOND, middle]
    insert_companies(database_url, space_id, [{"created_at": at} for at in instants])
    events: list[tuple[str, object]] = []
    send_page = ColumnReader.send_page

    def recorded_send(reader: ColumnReader, *query: Any) -> Answer:
        start, after = query[2], query[4]
        events.append(("send", (start, after is None and "first page")))
        return send_page(reader, *query)

    def recorded_write(page: pl.DataFrame) -> Iterator[tuple[bytes, int]]:
        events.append(("write", page.height))
        return page_lines(page)

    monkeypatch.setattr(ColumnReader, "send_page", recorded_send)
    monkeypatch.setattr("company_exporter.readers.page_lines", recorded_write)
    with Snapshot(database_url, export_id=1) as snapshot:
        (reader,) = snapshot.readers(1, page_rows=2)
        slices = [TimeSlice(START, middle), TimeSlice(middle, END)]
        with SliceReaders([reader], space_id, DateField.CREATED_AT, slices, 2) as output:
            records = sum(item.records for item in output if isinstance(item, Deflated))

    assert records == len(instants)
    assert events == [
        ("send", (START, "first page")),
        ("send", (START, False)),  # the slice's second page, after its first two rows
        ("write", 2),
        ("send", (middle, "first page")),  # the next slice, before the first's last page
        ("write", 1),
        ("write", 1),
    ]


def test_a_query_that_could_not_be_sent_fails_its_slice_after_the_slices_before(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    space_id = new_space(database_url)
    middle = START + timedelta(hours=3)
    insert_companies(database_url, space_id, [{"created_at": START}, {"created_at": middle}])
    send_page = ColumnReader.send_page

    def send_failing_after_the_middle(reader: ColumnReader, *query: Any) -> Answer:
        if query[2] == middle:
            return Answer(database_url, RetriableError("the second slice's query was lost"))
        return send_page(reader, *query)

    monkeypatch.setattr(ColumnReader, "send_page", send_failing_after_the_middle)
    items: list[object] = []
    with Snapshot(database_url, export_id=1) as snapshot:
        (reader,) = snapshot.readers(1)
        slices = [TimeSlice(START, middle), TimeSlice(middle, END)]
        with (
            pytest.raises(RetriableError, match="second slice"),
            SliceReaders([reader], space_id, DateField.CREATED_AT, slices, 2) as output,
        ):
            items.extend(output)

    assert isinstance(items[-1], SliceEnd)  # the first slice came whole
    assert sum(item.records for item in items if isinstance(item, Deflated)) == 1


def exporter_connections(database_url: str, export_id: int) -> int:
    """The export's connections still open, once the backends of those closed have ended."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        return connections_left(conn, export_id)


def test_readers_connected_ahead_are_closed_when_the_snapshot_cannot_open(
    database_url: str,
) -> None:
    space_id = new_space(database_url)
    with (
        pytest.raises(BadRequestError, match="does not exist"),
        Snapshot(database_url, export_id=7, connect_ahead=2) as snapshot,
    ):
        snapshot.require_space(space_id + 1000)
    assert exporter_connections(database_url, export_id=7) == 0


def test_an_export_reads_the_type_catalog_once_for_all_its_connections(database_url: str) -> None:
    """Every connection of a snapshot comes from one ADBC database object, which reads
    PostgreSQL's type catalog on a connection of its own once: the holder and three readers
    start five backends (one database object per connection started eight)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = sessions_started(conn)
        with Snapshot(database_url, export_id=9, connect_ahead=2) as snapshot:
            snapshot.readers(3)
        assert connections_left(conn, export_id=9) == 0  # each backend has sent its stats
        assert sessions_started(conn) - before == 5


def read_and_terminate_backends(database_url: str, space_id: int, slices: list[TimeSlice]) -> None:
    """Reads on two connections; after the first item, PostgreSQL terminates both backends."""
    with Snapshot(database_url, export_id=424242) as snapshot:
        readers = snapshot.readers(2)
        with SliceReaders(readers, space_id, DateField.CREATED_AT, slices, 2) as output:
            for number, _ in enumerate(output):
                if number == 1:
                    with psycopg.connect(database_url, autocommit=True) as conn:
                        conn.execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE application_name = 'company-exporter/424242'"
                        )
