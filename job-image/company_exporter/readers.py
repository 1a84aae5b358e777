"""Reader threads: each reads whole slices on its own connection, writes their lines and deflates
them; the export takes their output back in slice order.

Two or more readers overlap the work: while one waits for PostgreSQL's rows (the GIL released),
another writes lines and deflates (both in compiled code that releases it too). Memory stays
bounded: a thread may run at most `len(connections)` slices ahead of the one being joined, and
each slice's queue holds at most `_QUEUED` chunks of ~150 KB of deflated output.
"""

import contextlib
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import adbc_driver_manager

from company_exporter.columns import ColumnReader
from company_exporter.compression import SliceDeflater
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
        self._ahead = threading.Semaphore(len(readers) + 1)
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
        try:
            while (index := self._claim_slice()) is not None:
                self._read(reader, index)
        except _StoppedError:
            return

    def _claim_slice(self) -> int | None:
        while not self._ahead.acquire(timeout=_WAKE_SECONDS):
            if self._stop.is_set():
                raise _StoppedError
        with self._claim:
            index = self._next_slice
            self._next_slice += 1
        return index if index < len(self._slices) else None

    def _read(self, reader: ColumnReader, index: int) -> None:
        out = self._queues[index]
        time_slice = self._slices[index]
        deflater = SliceDeflater(self._level)
        try:
            chunks = reader.lines(
                self._space_id, self._date_field, time_slice.start, time_slice.end
            )
            for lines, records in chunks:
                self._put(out, Deflated(deflater.add(lines), records, len(lines)))
            self._put(out, Deflated(deflater.finish(), 0, 0))
            self._put(out, SliceEnd(deflater.crc32, deflater.length))
        except _StoppedError:
            raise
        except BaseException as error:  # raised again, in order, by the thread joining slices
            self._put(out, error)
            raise _StoppedError from error

    def _put(self, out: "queue.Queue[_Item]", item: _Item) -> None:
        while True:
            try:
                out.put(item, timeout=_WAKE_SECONDS)
                return
            except queue.Full:
                if self._stop.is_set():
                    raise _StoppedError from None
