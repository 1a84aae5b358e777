"""Where the Pods of a sharded export meet: a folder in S3 beside the file (`shard_board`).

The Pods have no Kubernetes token and take no connections, and S3 is already every Pod's; so the
coordinator posts the plan there, each shard polls for it and posts its manifest when its parts
are uploaded, and the coordinator polls for the manifests. A manifest is posted only once its
parts are, so one that exists is complete; a shard retried posts the same manifest again.
"""

import gc
import logging
import time
from typing import TYPE_CHECKING, Annotated

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from company_exporter.errors import RetriableError
from company_exporter.upload import s3_failure
from export_storage import ObjectStore, shard_board

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

log = logging.getLogger(__name__)

_PLAN_POLL_SECONDS = 0.25
_MANIFEST_POLL_SECONDS = 0.5


def _collect_garbage_while_waiting() -> None:
    """Turns Python's cyclic collector back on for a Pod that waits on the board.

    The command starts with it off (`entrypoint`), but each poll of a key not posted yet leaves
    ~0.4 KB of cyclic garbage (botocore's error for the missing key): a coordinator waiting on a
    shard kept ~3 MB more per hour. A waiting Pod has its start-up behind it and time to spare;
    start-up's objects are frozen first, so no collection walks them again.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShardRun(_Model):
    """What shard `shard` reads: consecutive time slices; the part numbers it may use."""

    shard: Annotated[int, Field(ge=1)]
    slices: list[tuple[AwareDatetime, AwareDatetime]]
    first_part: Annotated[int, Field(ge=1)]
    last_part: Annotated[int, Field(ge=1)]

    @property
    def part_numbers(self) -> range:
        return range(self.first_part, self.last_part + 1)


class ShardPlan(_Model):
    """The coordinator's plan: the snapshot to import, the upload to add parts to, the runs."""

    snapshot_id: str
    upload_id: str
    runs: list[ShardRun]


class UploadedPart(_Model):
    part_number: int
    etag: str

    def completed(self) -> "CompletedPartTypeDef":
        return {"PartNumber": self.part_number, "ETag": self.etag}


class ShardManifest(_Model):
    """What a shard wrote: its parts, and the CRC-32 and length of its NDJSON for the trailer."""

    shard: Annotated[int, Field(ge=1)]
    upload_id: str
    records: Annotated[int, Field(ge=0)]
    crc32: Annotated[int, Field(ge=0)]
    length: Annotated[int, Field(ge=0)]
    gzip_bytes: Annotated[int, Field(ge=0)]
    parts: list[UploadedPart]


class Board:
    """The board of the export whose file is s3://bucket/key."""

    def __init__(self, client: "S3Client", bucket: str, key: str) -> None:
        self.client = client  # the Pod's one S3 client: the upload and the read-back use it too
        self._bucket = bucket
        self._prefix = shard_board(key)

    def _key(self, name: str) -> str:
        return f"{self._prefix}{name}.json"

    def _read(self, name: str) -> bytes | None:
        try:
            return ObjectStore(self.client).read(self._bucket, self._key(name))
        except (BotoCoreError, ClientError) as error:
            raise s3_failure(error, self._bucket, "read the shard board") from error

    def _post(self, name: str, model: BaseModel) -> None:
        try:
            self.client.put_object(
                Bucket=self._bucket, Key=self._key(name), Body=model.model_dump_json().encode()
            )
        except (BotoCoreError, ClientError) as error:
            raise s3_failure(error, self._bucket, f"post the {name} on the shard board") from error

    def has_plan(self) -> bool:
        return self._read("plan") is not None

    def post_plan(self, plan: ShardPlan) -> None:
        self._post("plan", plan)

    def wait_for_plan(self, seconds: float) -> ShardPlan:
        """The coordinator's plan, once posted; RetriableError after `seconds` without one."""
        _collect_garbage_while_waiting()
        deadline = time.monotonic() + seconds
        while (found := self._read("plan")) is None:
            if time.monotonic() > deadline:
                raise RetriableError(
                    f"no plan from the coordinator (Pod index 0) after {seconds:.0f} s: check "
                    "why it did not start (kubectl describe pod), or raise "
                    "EXPORT_PLAN_WAIT_SECONDS"
                )
            time.sleep(_PLAN_POLL_SECONDS)
        return ShardPlan.model_validate_json(found)

    def post_manifest(self, manifest: ShardManifest) -> None:
        self._post(f"shard-{manifest.shard}", manifest)

    def wait_for_manifests(self, plan: ShardPlan, progress_seconds: float) -> list[ShardManifest]:
        """Every shard's manifest for this plan's upload, in shard order; waits as long as it
        takes (the Job fails, and stops this Pod, when a shard fails for good)."""
        _collect_garbage_while_waiting()
        done: dict[int, ShardManifest] = {}
        started = time.monotonic()
        next_log = started + progress_seconds
        while len(done) < len(plan.runs):
            for run in plan.runs:
                if run.shard not in done and (manifest := self._manifest(run.shard, plan)):
                    done[run.shard] = manifest
            if len(done) < len(plan.runs):
                if time.monotonic() >= next_log:
                    next_log = time.monotonic() + progress_seconds
                    log.info("waiting for shards", extra={
                        "done": sorted(done), "shards": len(plan.runs),
                        "records": sum(each.records for each in done.values()),
                        "seconds": round(time.monotonic() - started, 1),
                    })  # fmt: skip
                time.sleep(_MANIFEST_POLL_SECONDS)
        return [done[run.shard] for run in plan.runs]

    def _manifest(self, shard: int, plan: ShardPlan) -> ShardManifest | None:
        found = self._read(f"shard-{shard}")
        if found is None:
            return None
        try:
            manifest = ShardManifest.model_validate_json(found)
        except ValidationError:
            return None  # not ours to read: treat as not posted yet
        return manifest if manifest.upload_id == plan.upload_id else None

    def clear(self) -> None:
        """Removes the plan and the manifests; best effort (the export's deletion retries it)."""
        try:
            ObjectStore(self.client).delete_prefix(self._bucket, self._prefix)
        except (BotoCoreError, ClientError) as error:
            log.warning(
                "could not clear the shard board; deleting the export clears it",
                extra={"prefix": self._prefix, "error": str(error)},
            )
