"""The pipeline: snapshot -> slices read side by side -> gzip parts -> multipart upload.

Reader threads (`readers`) read and deflate time slices on connections of one snapshot; this
thread joins their output in order into gzip parts, which upload in the upload's threads, where
S3's client is also made (~0.17 s of Python holding the GIL: it slows the first slices' reading by
about as much; job-image/README.md says what was tried).
"""

import logging
import resource
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from company_exporter.compression import DeflateParts, GzipParts
from company_exporter.readers import SliceEnd, SliceReaders
from company_exporter.settings import ExporterSettings
from company_exporter.slices import TimeSlice, time_slices
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
    shard: int | None = None  # which shard of a sharded export, in its logs
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
            "export_id": self.export_id, "shard": self.shard, "records": self.records,
            "rows_per_second": round(self.records / seconds), "seconds": round(seconds, 3),
            "ndjson_mb": round(self.ndjson_bytes / 1e6, 1), "gzip_mb": round(gzip_bytes / 1e6, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
        })  # fmt: skip


def plan_slices(
    snapshot: Snapshot, parameters: ExporterParameters, settings: ExporterSettings, pods: int = 1
) -> list[TimeSlice]:
    """The range's slices: as many as its estimated rows call for, and enough for every reader
    of the `pods` that read it to take turns (at least one each).

    Slices cover only the span the range's rows occupy: clients often ask for "everything since
    2015" of data that starts in 2021, and equal slices of the whole range would be half empty.
    """
    start, end = parameters.range_start, parameters.range_end
    space_id, date_field = parameters.space_id, parameters.date_field
    estimated_rows = snapshot.estimated_rows(space_id, date_field, start, end)
    span = snapshot.span(space_id, date_field, start, end)
    if span is not None:
        start, end = span[0], span[1] + timedelta(microseconds=1)
    readers = settings.export_database_connections * pods
    # A sharded export is sliced even when the estimate is low: every shard needs a slice.
    sliced_rows = estimated_rows if pods == 1 else max(estimated_rows, settings.export_slice_rows)
    slices = time_slices(start, end, sliced_rows, settings.export_slice_rows, readers)
    log.info("export started", extra={
        "export_id": parameters.export_id, "space_id": parameters.space_id,
        "range_start": parameters.range_start.isoformat(),
        "range_end": parameters.range_end.isoformat(), "date_field": date_field.value,
        "key": parameters.object_key, "estimated_rows": estimated_rows,
        "slices": len(slices), "pods": pods, "connections": min(readers, len(slices)),
    })  # fmt: skip
    return slices


def send_slices(
    output: SliceReaders, parts: DeflateParts, upload: MultipartUpload, progress: Progress
) -> None:
    """Joins the slices' output into parts as it comes, and sends each part once full."""
    for item in output:
        if isinstance(item, SliceEnd):
            parts.end_slice(item.crc32, item.length)
            continue
        for part in parts.add(item.data):
            upload.send(part)
        progress.add(item.records, item.ndjson_bytes, parts.bytes_out)


def run_export(parameters: ExporterParameters, settings: ExporterSettings) -> ExporterResult:
    """Exports on this Pod alone and returns the result; raises ExportError (with its exit
    code) on failure."""
    progress = Progress(parameters.export_id, settings.export_progress_seconds)
    gzip = GzipParts(settings.export_compression_level, settings.export_part_bytes)
    database_url = settings.database_url.get_secret_value()
    connections = settings.export_database_connections
    with Snapshot(database_url, parameters.export_id, connect_ahead=connections) as snapshot:
        snapshot.require_space(parameters.space_id)
        slices = plan_slices(snapshot, parameters, settings)
        readers = snapshot.readers(min(connections, len(slices)))
        level = settings.export_compression_level
        with (
            SliceReaders(
                readers, parameters.space_id, parameters.date_field, slices, level
            ) as output,
            MultipartUpload(settings, parameters.bucket, parameters.object_key) as upload,
        ):
            send_slices(output, gzip, upload, progress)
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
