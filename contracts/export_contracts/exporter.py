"""How the operator runs the exporter, and how the exporter reports back.

The exporter reads `ExporterParameters` from its environment, writes an `ExporterResult` as one JSON
line to stdout and to the Pod's termination message file, and exits with one of `ExitCode`. When it
fails it writes an `ExporterFailure` to the termination message file instead (its `error` says what
went wrong and what to do) and exits non-zero.
"""

from enum import IntEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from export_contracts.date_field import DateField

# Pods of one sharded export, the coordinator aside: S3 allows 10,000 parts per upload, and each
# shard owns an equal range of part numbers.
MAX_SHARDS = 64


class ExitCode(IntEnum):
    """How a run ended. The Job's podFailurePolicy fails the export at once on BAD_REQUEST and
    retries anything else."""

    SUCCESS = 0
    BAD_REQUEST = 64  # sysexits EX_USAGE: the request can never succeed; do not retry
    RETRIABLE = 75  # sysexits EX_TEMPFAIL: the database or S3 failed; a retry may succeed


class ExporterParameters(BaseModel):
    """What one run exports and where it writes: environment variables of the exporter's
    container (names in PARAMETER_ENV)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    export_id: Annotated[int, Field(ge=1)]
    space_id: Annotated[int, Field(ge=1)]
    range_start: AwareDatetime
    range_end: AwareDatetime
    # The column the range applies to; the file's lines come in (that column, id) order.
    date_field: DateField = DateField.CREATED_AT
    bucket: Annotated[str, Field(min_length=3, max_length=63)]
    object_key: Annotated[str, Field(min_length=1, max_length=1024)]
    # More than 1: the export runs as an Indexed Job of shards + 1 Pods. Index 0 coordinates (holds
    # the snapshot, joins the file); index i reads the i-th run of the range's slices.
    shards: Annotated[int, Field(ge=1, le=MAX_SHARDS)] = 1
    # Kubernetes sets it on each Pod of an Indexed Job (JOB_COMPLETION_INDEX).
    completion_index: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _range_is_forward(self) -> "ExporterParameters":
        if self.range_end <= self.range_start:
            raise ValueError(
                "range_end must be later than range_start (the range is start <= t < end)"
            )
        return self

    @model_validator(mode="after")
    def _index_names_a_pod_of_the_shards(self) -> "ExporterParameters":
        if self.shards > 1 and (self.completion_index or 0) > self.shards:
            raise ValueError(
                f"{COMPLETION_INDEX_ENV} {self.completion_index} is past the last shard "
                f"({self.shards}): 0 coordinates, 1..{self.shards} read"
            )
        return self


# Environment variable names the operator sets on the exporter's container, one per parameter.
PARAMETER_ENV = {
    "export_id": "EXPORT_ID",
    "space_id": "SPACE_ID",
    "range_start": "RANGE_START",
    "range_end": "RANGE_END",
    "date_field": "EXPORT_DATE_FIELD",
    "bucket": "EXPORT_BUCKET",
    "object_key": "OBJECT_KEY",
    "shards": "EXPORT_SHARDS",
}
# Set by Kubernetes, not by the operator: which Pod of an Indexed Job this is.
COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"


class ExporterResult(BaseModel):
    """The exporter's report of a finished export (termination message, at most 4096 bytes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    export_id: int
    records: Annotated[int, Field(ge=0)]
    bytes: Annotated[int, Field(ge=0, description="Size of the gzip object in S3.")]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="Of the gzip object.")]
    bucket: str
    object_key: str


class ShardReport(BaseModel):
    """A shard's termination message: what it read and uploaded (the coordinator reports the
    export's ExporterResult)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    export_id: int
    shard: Annotated[int, Field(ge=1)]
    records: Annotated[int, Field(ge=0)]
    parts: Annotated[int, Field(ge=0)]
    bytes: Annotated[int, Field(ge=0, description="Gzip bytes this shard uploaded.")]


class ExporterFailure(BaseModel):
    """The exporter's termination message when it fails: what went wrong and what to do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    error: str
    exit_code: int
    export_id: int | None = None
