"""One export across the Pods of an Indexed Job: a coordinator (index 0) and shards (1..N).

The coordinator opens the export's snapshot and holds it until the end, starts the multipart
upload, cuts the range's slices into N consecutive runs and posts the plan on the board
(`board`). Shard i imports the snapshot, reads its run as the single-Pod export reads its slices,
and uploads the result as its own range of part numbers; its manifest says which parts, and the
CRC-32 and length of its NDJSON. The coordinator then adds the ending (the empty last block and
the trailer of the whole file) as the last part, completes the upload and hashes the object.
Inflated, the file is byte for byte what one Pod writes; a shard retried by the Job reads the
same snapshot and sends the same parts again.
"""

import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from company_exporter.board import Board, ShardManifest, ShardPlan, ShardRun, UploadedPart
from company_exporter.compression import ShardParts, combined_crc32, gzip_ending
from company_exporter.connection import Database
from company_exporter.errors import BadRequestError, CancelledExportError, RetriableError
from company_exporter.export import Progress, plan_slices, send_slices
from company_exporter.readers import SliceReaders
from company_exporter.settings import ExporterSettings
from company_exporter.slices import TimeSlice
from company_exporter.source import Snapshot, attached_readers
from company_exporter.upload import LAST_PART_NUMBER, MultipartUpload, ShardUpload, s3_failure
from export_contracts.exporter import ExporterParameters, ExporterResult, ShardReport
from export_storage import s3_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)

_HASH_CHUNK_BYTES = 1024 * 1024


def shard_runs(slices: Sequence[TimeSlice], shards: int) -> list[ShardRun]:
    """The slices in `shards` consecutive runs of nearly equal length, each with an equal range
    of part numbers below the coordinator's last one."""
    parts_each = (LAST_PART_NUMBER - 1) // shards
    runs = []
    for index in range(shards):
        run = slices[len(slices) * index // shards : len(slices) * (index + 1) // shards]
        runs.append(
            ShardRun(
                shard=index + 1,
                slices=[(each.start, each.end) for each in run],
                first_part=1 + index * parts_each,
                last_part=(index + 1) * parts_each,
            )
        )
    return runs


def _board(settings: ExporterSettings, parameters: ExporterParameters) -> Board:
    try:
        client = s3_client(settings.storage())
    except (BotoCoreError, ClientError) as error:
        raise s3_failure(error, parameters.bucket, "connect") from error
    return Board(client, parameters.bucket, parameters.object_key)


def run_coordinator(parameters: ExporterParameters, settings: ExporterSettings) -> ExporterResult:
    """Holds the snapshot while the shards read it; joins their parts into the file."""
    board = _board(settings, parameters)
    if board.has_plan():
        # Shards that finished read the first coordinator's snapshot, gone with it: a new one
        # could differ, and those shards will not run again.
        raise BadRequestError(
            "the coordinator of this sharded export restarted and its snapshot is gone with "
            "the Pod before it: create the export again"
        )
    progress = Progress(parameters.export_id, settings.export_progress_seconds)
    # The plan stays on the board until the file is whole and hashed, or the Job fails: a
    # coordinator that restarts before then finds it and fails the export, rather than wait
    # for shards that finished.
    try:
        with Snapshot(settings.database_url.get_secret_value(), parameters.export_id) as snapshot:
            snapshot.require_space(parameters.space_id)
            slices = plan_slices(snapshot, parameters, settings, pods=parameters.shards)
            with MultipartUpload(
                settings, parameters.bucket, parameters.object_key, LAST_PART_NUMBER, board.client
            ) as upload:
                plan = ShardPlan(
                    snapshot_id=snapshot.exported_id(),
                    upload_id=upload.upload_id,
                    runs=shard_runs(slices, parameters.shards),
                )
                board.post_plan(plan)
                with _not_retried():
                    manifests = board.wait_for_manifests(plan, settings.export_progress_seconds)
                    _complete(upload, manifests, settings.export_compression_level)
        with _not_retried():
            sha256, size = _hash_object(board.client, parameters)
    except (BadRequestError, CancelledExportError):
        board.clear()  # the Job fails, or stops this Pod: no coordinator comes after this one
        raise
    board.clear()
    progress.records = sum(manifest.records for manifest in manifests)
    progress.ndjson_bytes = sum(manifest.length for manifest in manifests)
    progress.log("export finished", size)
    return ExporterResult(
        export_id=parameters.export_id,
        records=progress.records,
        bytes=size,
        sha256=sha256,
        bucket=parameters.bucket,
        object_key=parameters.object_key,
    )


@contextmanager
def _not_retried() -> Iterator[None]:
    """Once the plan is out, a failure of the coordinator fails the export: a new coordinator
    would take a new snapshot, which shards that finished did not read."""
    try:
        yield
    except RetriableError as error:
        raise BadRequestError(
            f"{error} (a sharded export's coordinator is not retried once shards read its "
            "snapshot: create the export again)"
        ) from error


def _complete(upload: MultipartUpload, manifests: list[ShardManifest], level: int) -> None:
    crc32, length = combined_crc32((each.crc32, each.length) for each in manifests)
    upload.include([part.completed() for each in manifests for part in each.parts])
    upload.send(gzip_ending(level, crc32, length))
    upload.complete()


def _hash_object(client: "S3Client", parameters: ExporterParameters) -> tuple[str, int]:
    """sha256 and size of the completed object, read back: no Pod saw all of its bytes."""
    digest = hashlib.sha256()
    size = 0
    try:
        body = client.get_object(Bucket=parameters.bucket, Key=parameters.object_key)["Body"]
        for chunk in body.iter_chunks(_HASH_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    except (BotoCoreError, ClientError) as error:
        raise s3_failure(error, parameters.bucket, "read the joined file back") from error
    return digest.hexdigest(), size


@contextmanager
def _run_readers(
    parameters: ExporterParameters,
    settings: ExporterSettings,
    plan: ShardPlan,
    slices: list[TimeSlice],
) -> Iterator[SliceReaders]:
    count = min(settings.export_database_connections, len(slices))
    with Database(settings.database_url.get_secret_value(), parameters.export_id) as database:
        readers = attached_readers(database, count, plan.snapshot_id)
        try:
            level = settings.export_compression_level
            with SliceReaders(
                readers, parameters.space_id, parameters.date_field, slices, level
            ) as output:
                yield output
        finally:
            for reader in readers:
                reader.close()


def run_shard(parameters: ExporterParameters, settings: ExporterSettings) -> ShardReport:
    """Reads this Pod's run of the plan and uploads it as its parts; posts its manifest."""
    assert parameters.completion_index  # 1..shards, checked by ExporterParameters
    shard = parameters.completion_index
    board = _board(settings, parameters)
    plan = board.wait_for_plan(settings.export_plan_wait_seconds)
    run = plan.runs[shard - 1]
    slices = [TimeSlice(start, end) for start, end in run.slices]
    log.info("shard started", extra={
        "export_id": parameters.export_id, "shard": shard, "slices": len(slices),
        "parts": f"{run.first_part}-{run.last_part}",
    })  # fmt: skip
    progress = Progress(parameters.export_id, settings.export_progress_seconds, shard)
    parts = ShardParts(settings.export_part_bytes, first=shard == 1)
    with ShardUpload(
        settings,
        board.client,
        parameters.bucket,
        parameters.object_key,
        plan.upload_id,
        run.part_numbers,
    ) as upload:
        if slices:
            with _run_readers(parameters, settings, plan, slices) as output:
                send_slices(output, parts, upload, progress)
        for part in parts.finish():
            upload.send(part)
        sent = upload.sent_parts()
    crc32, length = parts.crc32_and_length
    board.post_manifest(
        ShardManifest(
            shard=shard,
            upload_id=plan.upload_id,
            records=progress.records,
            crc32=crc32,
            length=length,
            gzip_bytes=parts.bytes_out,
            parts=[UploadedPart(part_number=p["PartNumber"], etag=p["ETag"]) for p in sent],
        )
    )
    progress.log("shard finished", parts.bytes_out)
    return ShardReport(
        export_id=parameters.export_id,
        shard=shard,
        records=progress.records,
        parts=len(sent),
        bytes=parts.bytes_out,
    )
