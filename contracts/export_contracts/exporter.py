"""How the operator runs the exporter, and how the exporter reports back.

The exporter reads `ExporterParameters` from its environment, writes an `ExporterResult` as one JSON
line to stdout and to the Pod's termination message file, and exits with one of `ExitCode`.
"""

from enum import IntEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class ExitCode(IntEnum):
    """The Job's podFailurePolicy fails the export at once on BAD_REQUEST and retries anything else."""

    SUCCESS = 0
    BAD_REQUEST = 64  # sysexits EX_USAGE: the request can never succeed; do not retry
    RETRIABLE = 75  # sysexits EX_TEMPFAIL: the database or S3 failed; a retry may succeed


class ExporterParameters(BaseModel):
    """What one run exports and where it writes; environment variables of the exporter's container."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    export_id: Annotated[int, Field(ge=1)]
    space_id: Annotated[int, Field(ge=1)]
    range_start: AwareDatetime
    range_end: AwareDatetime
    bucket: Annotated[str, Field(min_length=3, max_length=63)]
    object_key: Annotated[str, Field(min_length=1, max_length=1024)]


# Environment variable names the operator sets on the exporter's container, one per parameter.
PARAMETER_ENV = {
    "export_id": "EXPORT_ID",
    "space_id": "SPACE_ID",
    "range_start": "RANGE_START",
    "range_end": "RANGE_END",
    "bucket": "EXPORT_BUCKET",
    "object_key": "OBJECT_KEY",
}


class ExporterResult(BaseModel):
    """The exporter's report of a finished export (termination message, at most 4096 bytes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    export_id: int
    records: Annotated[int, Field(ge=0)]
    bytes: Annotated[int, Field(ge=0, description="Size of the gzip object in S3.")]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="Of the gzip object.")]
    bucket: str
    object_key: str
