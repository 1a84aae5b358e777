"""The pipeline: snapshot -> slices read side by side -> gzip parts -> multipart upload.

Reader threads (`readers`) read and deflate time slices on connections of one snapshot; this
thread joins their output in order into gzip parts, which upload in the upload's thread. S3 is
set up in that thread too, so its ~0.2 s of start-up overlaps the first slices' reading.
"""

import logging
import resource
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from company_exporter.compression import GzipParts
from company_exporter.readers import SliceEnd, SliceReaders
from company_exporter.settings import ExporterSettings
from company_exporter.slices import time_slices
from company_exporter.source import Snapshot
from company_exporter.upload import MultipartUpload
from export_contracts.exporter import ExporterParameters, ExporterResult

log = logging.getLogger(__name__)


def peak_rss_mb() -> float:
    """Peak resident memory since exec (Linux's VmHWM): what the memory limit must allow.

    getrusage's maxrss is the fallback only: it also counts the parent's memory before exec.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Progress:
    """Counts what went through; logs rows so far and rows per second every `interval` seconds."""

    export_id: int
    interval: float
    records: int = 0
    ndjson_bytes: int = 0
    started: float = field(default_factory=time.monotonic)
    _next_log: float = 0.0

    def __post_init__(self) -> None:
        self._next_log = self.started + self.interval

    def add(self, records: int, ndjson_bytes: int, gzip_bytes: int) -> None:
        self.records += records
        self.ndjson_bytes += ndjson_bytes
        now = time.monotonic()
        if now >= self._next_log:
            self._next_log = now + self.interval
            self.log("export progress", gzip_bytes)

    def log(self, message: str, gzip_bytes: int) -> None:
        seconds = max(time.monotonic() - self.started, 1e-9)
        log.info(message, extra={
            "export_id": self.export_id, "records": self.records,
            "rows_per_second": round(self.records / seconds), "seconds": round(seconds, 3),
            "ndjson_mb": round(self.ndjson_bytes / 1e6, 1), "gzip_mb": round(gzip_bytes / 1e6, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
        })  # fmt: skip


def _slice_readers(
    snapshot: Snapshot, parameters: ExporterParameters, settings: ExporterSettings
) -> SliceReaders:
    """Readers of the range, with as many slices and connections as its estimated rows call for.

    Slices cover only the span the range's rows occupy: clients often ask for "everything since
    2015" of data that starts in 2021, and equal slices of the whole range would be half empty.
    """
    start, end = parameters.range_start, parameters.range_end
    estimated_rows = snapshot.estimated_rows(parameters.space_id, start, end)
    span = snapshot.created_span(parameters.space_id, start, end)
    if span is not None:
        start, end = span[0], span[1] + timedelta(microseconds=1)
    wanted = settings.export_database_connections
    slices = time_slices(start, end, estimated_rows, settings.export_slice_rows, wanted)
    readers = snapshot.readers(min(wanted, len(slices)))
    log.info("export started", extra={
        "export_id": parameters.export_id, "space_id": parameters.space_id,
        "range_start": parameters.range_start.isoformat(),
        "range_end": parameters.range_end.isoformat(),
        "key": parameters.object_key, "estimated_rows": estimated_rows,
        "slices": len(slices), "connections": len(readers),
    })  # fmt: skip
    return SliceReaders(readers, parameters.space_id, slices, settings.export_compression_level)


def run_export(parameters: ExporterParameters, settings: ExporterSettings) -> ExporterResult:
    """Exports and returns the result; raises ExportError (with its exit code) on failure."""
    progress = Progress(parameters.export_id, settings.export_progress_seconds)
    gzip = GzipParts(settings.export_compression_level, settings.export_part_bytes)
    with Snapshot(settings.database_url.get_secret_value(), parameters.export_id) as snapshot:
        snapshot.require_space(parameters.space_id)
        with (
            _slice_readers(snapshot, parameters, settings) as output,
            MultipartUpload(settings, parameters.bucket, parameters.object_key) as upload,
        ):
            for item in output:
                if isinstance(item, SliceEnd):
                    gzip.end_slice(item.crc32, item.length)
                    continue
                for part in gzip.add(item.data):
                    upload.send(part)
                progress.add(item.records, item.ndjson_bytes, gzip.bytes_out)
            for part in gzip.finish():
                upload.send(part)
            upload.complete()
    progress.log("export finished", gzip.bytes_out)
    return ExporterResult(
        export_id=parameters.export_id,
        records=progress.records,
        bytes=gzip.bytes_out,
        sha256=gzip.sha256,
        bucket=parameters.bucket,
        object_key=parameters.object_key,
    )
