"""The CompanyExport custom resource: identity, spec and status, as pydantic models.

The CRD in crds/ is generated from these models (see `export_contracts.crd`), so the two never drift.
Field names are camelCase on the wire, as Kubernetes API conventions ask, and snake_case in Python.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

GROUP = "exports.companies.dev"
VERSION = "v1alpha1"
KIND = "CompanyExport"
PLURAL = "companyexports"
SINGULAR = "companyexport"
SHORT_NAMES = ("cexp",)
CATEGORIES = ("exports",)
API_VERSION = f"{GROUP}/{VERSION}"

# Labels the API and the operator put on exports and their Jobs, so both can be selected by space.
SPACE_LABEL = f"{GROUP}/space-id"
EXPORT_LABEL = f"{GROUP}/export-id"

LOCAL_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"


def resource_name(export_id: int) -> str:
    """The object's name for an export id: deterministic, so a retried create finds the first one."""
    return f"export-{export_id}"


class _WireModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ExportState(StrEnum):
    """Where an export is in its life. The API shows these in lower case."""

    QUEUED = "Queued"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    FAILED = "Failed"
    EXPIRED = "Expired"

    @property
    def is_final(self) -> bool:
        return self in (ExportState.COMPLETED, ExportState.FAILED, ExportState.EXPIRED)


class RequestedRange(_WireModel):
    """The range exactly as the client sent it: naive local times in the space's timezone."""

    start_date: Annotated[str, Field(pattern=LOCAL_TIME_PATTERN, examples=["2024-01-15 00:00:00"])]
    end_date: Annotated[str, Field(pattern=LOCAL_TIME_PATTERN, examples=["2024-01-15 23:59:59"])]
    timezone: Annotated[str, Field(min_length=1, max_length=64, examples=["Europe/Berlin"])]


class UtcRange(_WireModel):
    """The range resolved to instants: rows with start <= created_at < end are exported.

    `end` is the client's end second plus one second, so a whole last second (sub-second
    timestamps included) is in the range.
    """

    start: AwareDatetime
    end: AwareDatetime


class CompanyExportSpec(_WireModel):
    """What to export. Immutable once created (the CRD refuses changes)."""

    export_id: Annotated[int, Field(ge=1, description="The id the API returned; unique.")]
    space_id: Annotated[int, Field(ge=1, description="The space whose companies are exported.")]
    requested: RequestedRange
    range: UtcRange
    requested_by: Annotated[
        str | None,
        Field(max_length=64, description="Id of the API key that asked (never the key)."),
    ] = None
    idempotency_key: Annotated[str | None, Field(max_length=255)] = None


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(_WireModel):
    """A metav1.Condition. Our one condition type is `Succeeded` (see `SUCCEEDED`)."""

    type: str
    status: ConditionStatus
    reason: Annotated[str, Field(pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")]
    message: Annotated[str, Field(max_length=32768)] = ""
    last_transition_time: datetime
    observed_generation: int | None = None


# `Succeeded`: Unknown while queued or processing, True once the file is in S3, False when the export
# failed or was cancelled. The reason says which (see ExportReason).
SUCCEEDED = "Succeeded"


class ExportReason(StrEnum):
    """Reasons carried by the Succeeded condition and by Events; CamelCase as conventions ask."""

    QUEUED = "Queued"
    WAITING_FOR_SLOT = "WaitingForSlot"
    RUNNING = "Running"
    RETRYING = "Retrying"
    COMPLETED = "Completed"
    BAD_REQUEST = "BadRequest"
    DEADLINE_EXCEEDED = "DeadlineExceeded"
    POD_CANNOT_START = "PodCannotStart"
    JOB_LOST = "JobLost"
    BACKOFF_LIMIT_EXCEEDED = "BackoffLimitExceeded"
    OBJECT_MISSING = "ObjectMissing"
    EXPIRED = "Expired"


class CompanyExportStatus(_WireModel):
    """Everything a client needs, written only by the operator."""

    state: ExportState | None = None
    reason: ExportReason | None = None
    message: str | None = None
    observed_generation: int | None = None
    conditions: list[Condition] = Field(default_factory=list)
    job_name: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    expires_at: Annotated[
        datetime | None, Field(description="When the file is deleted (retention).")
    ] = None
    bucket: str | None = None
    object_key: str | None = None
    records: int | None = None
    bytes: int | None = None
    sha256: str | None = None
    download_url: Annotated[
        str | None, Field(description="Presigned GET for kubectl users; lives 15 minutes.")
    ] = None
    download_url_expires_at: datetime | None = None
