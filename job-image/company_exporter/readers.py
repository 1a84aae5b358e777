"""Reader threads: each reads whole slices on its own connection, writes their lines and deflates
them; the export takes their output back in slice order.

Two or more readers overlap the work: while one waits for PostgreSQL's rows (the GIL released),
another writes lines and deflates (both in compiled code that releases it too). Each thread also
sends its next query (the slice's next page, or the first page of the next slice) before it
writes the page it has just read, so PostgreSQL runs that query meanwhile and its rows wait in
the connection's socket buffers: read one after the other instead, a connection's backend idled
while its page was written, and a 100k-row export spent ~0.05 s longer reading. Memory stays
bounded: the slices claimed and not yet joined are at most two per thread and one more, and each
slice's queue holds at most `_QUEUED` chunks of ~150 KB of deflated output.
"""

import contextlib
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import adbc_driver_manager
import polars as pl

from company_exporter.columns import ColumnReader, page_lines
from company_exporter.compression import SliceDeflater
from company_exporter.connection import Answer
from company_exporter.slices import TimeSlice
from export_contracts.date_field import DateField

_QUEUED = 64
_WAKE_SECONDS = 0.1  # how often a waiting thread checks whether the export was stopped


@dataclass(frozen=True)
class Deflated:
    """Deflated output of `records` rows, `ndjson_bytes` before deflating."""

    data: bytes
    records: int
    ndjson_bytes: int


@dataclass(frozen=True)
class SliceEnd:
    """The slice is complete: CRC-32 and length of its NDJSON, for the gzip trailer."""

    crc32: int
    length: int


_Item = Deflated | SliceEnd | BaseException


class _StoppedError(Exception):
    """The export stopped (it failed elsewhere or was cancelled): the thread ends."""


class SliceReaders:
    """`with SliceReaders(...) as readers: for item in readers: ...`; leaving stops the threads."""

    def __init__(
        self,
        readers: Sequence[ColumnReader],
        space_id: int,
        date_field: DateField,
        slices: Sequence[TimeSlice],
        compression_level: int,
    ) -> None:
        self._readers = readers
        self._space_id = space_id
        self._date_field = date_field
        self._slices = slices
        self._level = compression_level
        self._queues: list[queue.Queue[_Item]] = [queue.Queue(_QUEUED) for _ in slices]
        # A permit per slice claimed and not yet joined: each thread's slice being written and
        # the one it claimed ahead (its first page's query sent), and one more, so that a thread
        # whose slice is done before the one being joined can go on.
        self._ahead = threading.Semaphore(2 * len(readers) + 1)
        self._claim = threading.Lock()
        self._next_slice = 0
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, args=(each,), name=f"reader-{number}", daemon=True)
            for number, each in enumerate(readers)
        ]

    def __enter__(self) -> "SliceReaders":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        self._stop.set()
        if error is not None:
            for reader in self._readers:
                # PostgreSQL ends a running COPY, so a thread waiting for rows sees the stop.
                with contextlib.suppress(adbc_driver_manager.Error):  # the thread may be done
                    reader.cancel()
        for thread in self._threads:
            thread.join()

    def __iter__(self) -> Iterator[Deflated | SliceEnd]:
        """Every slice's output in order; raises the failure of the thread that read a slice."""
        for slice_queue in self._queues:
            while True:
                item = slice_queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if isinstance(item, SliceEnd):
                    self._ahead.release()
                    break

    def _work(self, reader: ColumnReader) -> None:
        """Reads and writes slices until none is left. Each page's query is sent before the
        page before it is written (the slice's next page, or the first page of the next slice
        when one can be claimed without waiting), so PostgreSQL runs it meanwhile."""
        try:
            index, answer = self._claim_and_send(reader, wait=True)
            deflater = SliceDeflater(self._level)
            while index is not None and answer is not None:
                with self._failures_reported_in(index):
                    page = answer.read()
                    after = reader.next_page_after(page, self._date_field)
                    following, answer = self._send_next(reader, index, after)
                    self._write(index, page, deflater, last=after is None)
                if after is None:
                    deflater = SliceDeflater(self._level)
                if answer is None:  # no slice could be claimed ahead: wait for one
                    following, answer = self._claim_and_send(reader, wait=True)
                index = following
        except _StoppedError:
            return

    def _claim_slice(self, *, wait: bool) -> int | None:
        """The next slice's index; None when none is left or, without `wait`, when taking one
        now would run too far ahead of the slice being joined."""
        if not wait and not self._ahead.acquire(blocking=False):
            return None
        while wait and not self._ahead.acquire(timeout=_WAKE_SECONDS):
            if self._stop.is_set():
                raise _StoppedError
        with self._claim:
            index = self._next_slice
            self._next_slice += 1
        if index < len(self._slices):
            return index
        self._ahead.release()
        return None

    def _send_next(
        self, reader: ColumnReader, index: int, after: tuple[datetime, int] | None
    ) -> tuple[int | None, Answer | None]:
        """The query to read once slice `index`'s page is written: the slice's page `after`
        (the last row read), else the first page of a slice claimed without waiting."""
        if after is not None:
            return index, self._send(reader, index, after)
        return self._claim_and_send(reader, wait=False)

    def _claim_and_send(
        self, reader: ColumnReader, *, wait: bool
    ) -> tuple[int | None, Answer | None]:
        """A slice claimed (`_claim_slice`) and its first page's query sent; (None, None) if
        none was claimed."""
        index = self._claim_slice(wait=wait)
        return (None, None) if index is None else (index, self._send(reader, index, after=None))

    def _send(self, reader: ColumnReader, index: int, after: tuple[datetime, int] | None) -> Answer:
        time_slice = self._slices[index]
        return reader.send_page(
            self._space_id, self._date_field, time_slice.start, time_slice.end, after
        )

    def _write(self, index: int, page: pl.DataFrame, deflater: SliceDeflater, last: bool) -> None:
        """Writes and deflates the page into slice `index`'s output; its end after its last."""
        out = self._queues[index]
        for lines, records in page_lines(page):
            self._put(out, Deflated(deflater.add(lines), records, len(lines)))
        if last:
            self._put(out, Deflated(deflater.finish(), 0, 0))
            self._put(out, SliceEnd(deflater.crc32, deflater.length))

    @contextlib.contextmanager
    def _failures_reported_in(self, index: int) -> Iterator[None]:
        """A failure inside goes to slice `index`'s output, where the thread joining slices
        raises it in order; this thread then stops."""
        try:
            yield
        except _StoppedError:
            raise
        except BaseException as error:
            self._put(self._queues[index], error)
            raise _StoppedError from error

    def _put(self, out: "queue.Queue[_Item]", item: _Item) -> None:
        while True:
            try:
                out.put(item, timeout=_WAKE_SECONDS)
                return
            except queue.Full:
                if self._stop.is_set():
                    raise _StoppedError from None
