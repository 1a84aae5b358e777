"""How the operator runs the exporter, and how the exporter reports back.

The exporter reads `ExporterParameters` from its environment, writes an `ExporterResult` as one JSON
line to stdout and to the Pod's termination message file, and exits with one of `ExitCode`. When it
fails it writes an `ExporterFailure` to the termination message file instead (its `error` says what
went wrong and what to do) and exits non-zero.
"""

from enum import IntEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


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
    bucket: Annotated[str, Field(min_length=3, max_length=63)]
    object_key: Annotated[str, Field(min_length=1, max_length=1024)]

    @model_validator(mode="after")
    def _range_is_forward(self) -> "ExporterParameters":
        if self.range_end <= self.range_start:
            raise ValueError(
                "range_end must be later than range_start (the range is start <= t < end)"
            )
        return self


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


class ExporterFailure(BaseModel):
    """The exporter's termination message when it fails: what went wrong and what to do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    error: str
    exit_code: int
    export_id: int | None = None
