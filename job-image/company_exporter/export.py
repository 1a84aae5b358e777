"""The pipeline: snapshot -> NDJSON batches -> gzip parts -> multipart upload, with progress logs.

The three stages overlap without a thread of ours for the first two: PostgreSQL builds JSON in
its own process while this one compresses the previous batch (the socket buffers in between),
and parts upload in the upload's thread. On two cores the backend's JSON building is the limit.
"""

import logging
import resource
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from company_exporter.compression import GzipParts
from company_exporter.settings import ExporterSettings
from company_exporter.source import ndjson_batches, require_space, snapshot
from company_exporter.upload import MultipartUpload, s3_client
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


def run_export(parameters: ExporterParameters, settings: ExporterSettings) -> ExporterResult:
    """Exports and returns the result; raises ExportError (with its exit code) on failure."""
    progress = Progress(parameters.export_id, settings.export_progress_seconds)
    gzip = GzipParts(settings.export_compression_level, settings.export_part_bytes)
    database_url = settings.database_url.get_secret_value()
    log.info("export started", extra={
        "export_id": parameters.export_id, "space_id": parameters.space_id,
        "range_start": parameters.range_start.isoformat(),
        "range_end": parameters.range_end.isoformat(), "key": parameters.object_key,
    })  # fmt: skip
    with snapshot(database_url, parameters.export_id) as conn:
        require_space(conn, parameters.space_id)
        client = s3_client(settings)
        # `closing`: when an upload fails, the COPY must end before the transaction rolls back,
        # or the rollback fails ("another command is already in progress") and hides the cause.
        with (
            MultipartUpload(client, parameters.bucket, parameters.object_key) as upload,
            closing(ndjson_batches(conn, parameters)) as batches,
        ):
            for batch in batches:
                for part in gzip.add(batch.lines):
                    upload.send(part)
                progress.add(batch.records, len(batch.lines), gzip.bytes_out)
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
