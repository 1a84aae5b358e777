"""The CompanyExport custom resource: identity, spec and status, as pydantic models.

The CRD in crds/ is generated from these models (`python -m export_contracts.crd`), so the two never
drift; validation rules the apiserver enforces (CEL) are declared here, beside the pydantic checks
that mean the same thing. Field names are camelCase on the wire, as Kubernetes API conventions ask,
and snake_case in Python.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from export_contracts.date_field import DateField

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
# Marks the Jobs the operator owns: the operator watches and admits only Jobs with this label.
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "company-exports-operator"
# Set by the API once a finished export's final record is in PostgreSQL (`value: "true"`). The
# operator deletes an export's object only when it carries this label, so nothing is lost. Both
# watches leave labelled objects out, so memory holds only exports not yet archived; the operator
# reads the archived ones a page at a time for their retention and deletion.
ARCHIVED_LABEL = f"{GROUP}/archived"
# The operator's finalizer: an export's file is deleted (after its Job stopped) before it goes.
FINALIZER = f"{GROUP}/cleanup"

LOCAL_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"


def resource_name(export_id: int) -> str:
    """The object's name for an export id: deterministic, so a retried create finds the first."""
    return f"export-{export_id}"


def labels(space_id: int, export_id: int) -> dict[str, str]:
    """The labels of an export and of its Job."""
    return {SPACE_LABEL: str(space_id), EXPORT_LABEL: str(export_id)}


def _cel(rule: str, message: str, reason: str | None = None) -> dict[str, str]:
    """One `x-kubernetes-validations` entry; the message is what `kubectl apply` prints."""
    entry = {"rule": rule, "message": message}
    if reason:
        entry["reason"] = reason
    return entry


def _validations(*rules: dict[str, str]) -> dict[str, Any]:
    return {"x-kubernetes-validations": list(rules)}


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
        """No Job runs for the export any more (Completed still holds a file until it expires)."""
        return self in (ExportState.COMPLETED, ExportState.FAILED, ExportState.EXPIRED)

    @property
    def rank(self) -> int:
        """Order of the life cycle; the operator never moves an export to a lower rank."""
        return _STATE_RANK[self]


_STATE_RANK = {
    ExportState.QUEUED: 1,
    ExportState.PROCESSING: 2,
    ExportState.COMPLETED: 3,
    ExportState.FAILED: 3,
    ExportState.EXPIRED: 4,
}


class RequestedRange(_WireModel):
    """The range exactly as the client sent it: naive local times in the space's timezone."""

    model_config = ConfigDict(
        json_schema_extra=_validations(
            # The fixed-width format makes string order the order of the times.
            _cel("self.endDate > self.startDate", "requested.endDate must be after startDate")
        )
    )

    start_date: Annotated[str, Field(pattern=LOCAL_TIME_PATTERN, max_length=19)]
    end_date: Annotated[str, Field(pattern=LOCAL_TIME_PATTERN, max_length=19)]
    timezone: Annotated[str, Field(min_length=1, max_length=64, examples=["Europe/Berlin"])]

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        if self.end_date <= self.start_date:
            raise ValueError("requested.endDate must be after startDate")
        return self


class UtcRange(_WireModel):
    """The range resolved to instants: rows with start <= created_at < end are exported.

    `end` is the client's end second plus one second, so a whole last second (sub-second
    timestamps included) is in the range.
    """

    model_config = ConfigDict(
        json_schema_extra=_validations(
            _cel("timestamp(self.end) > timestamp(self.start)", "range.end must be after start")
        )
    )

    # maxLength keeps the CEL cost of `self == oldSelf` bounded; RFC 3339 needs at most 35.
    start: Annotated[AwareDatetime, Field(json_schema_extra={"maxLength": 40})]
    end: Annotated[AwareDatetime, Field(json_schema_extra={"maxLength": 40})]

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        if self.end <= self.start:
            raise ValueError("range.end must be after start")
        return self


class CompanyExportSpec(_WireModel):
    """What to export. Immutable once created (the CRD refuses changes)."""

    model_config = ConfigDict(
        json_schema_extra=_validations(
            _cel(
                "self == oldSelf",
                "spec is immutable: delete this export and create a new one",
                "FieldValueForbidden",
            )
        )
    )

    export_id: Annotated[int, Field(ge=1, description="The id the API returned; unique.")]
    space_id: Annotated[int, Field(ge=1, description="The space whose companies are exported.")]
    requested: RequestedRange
    range: UtcRange
    requested_by: Annotated[
        str | None,
        Field(max_length=64, description="Id of the API key that asked (never the key)."),
    ] = None
    idempotency_key: Annotated[str | None, Field(max_length=255)] = None
    estimated_rows: Annotated[
        int | None,
        Field(
            ge=0,
            description="The database planner's estimate of the range's rows when the export "
            "was created. Above the operator's shard threshold the export runs sharded, as an "
            "Indexed Job; absent, it runs in one Pod.",
        ),
    ] = None
    # Absent for created_at, so a default export's spec is the same as before the field existed.
    date_field: Annotated[
        DateField | None,
        Field(
            description="The column the range applies to and the file is ordered by (with id): "
            "created_at when absent, updated_at for an incremental export."
        ),
    ] = None

    @property
    def column(self) -> DateField:
        """The timestamp the range selects by."""
        return self.date_field or DateField.CREATED_AT


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(_WireModel):
    """A metav1.Condition. Our one condition type is `Succeeded` (see `SUCCEEDED`)."""

    type: Annotated[str, Field(min_length=1, max_length=316)]
    status: ConditionStatus
    reason: Annotated[
        str,
        Field(min_length=1, max_length=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"),
    ]
    message: Annotated[str, Field(max_length=32768)] = ""
    last_transition_time: datetime
    observed_generation: Annotated[int | None, Field(ge=0)] = None


# `Succeeded`: Unknown while queued or processing, True once the file is in S3, False when the
# export failed or its file expired. The reason says which (see ExportReason).
SUCCEEDED = "Succeeded"


class ExportReason(StrEnum):
    """Reasons carried by the Succeeded condition, `status.reason` and Events; CamelCase."""

    WAITING_FOR_SLOT = "WaitingForSlot"  # Queued: the Job exists, suspended until a slot frees
    RUNNING = "Running"  # Processing: the Job was admitted and runs the exporter
    COMPLETED = "Completed"  # Completed: the file is in S3 with the size the exporter reported
    BAD_REQUEST = "BadRequest"  # Failed: the exporter refused the request; retrying cannot help
    DEADLINE_EXCEEDED = "DeadlineExceeded"  # Failed: the Job ran longer than its deadline
    BACKOFF_LIMIT_EXCEEDED = "BackoffLimitExceeded"  # Failed: every retry failed
    POD_CANNOT_START = "PodCannotStart"  # Failed: image or Secret missing past the startup timeout
    JOB_LOST = "JobLost"  # Failed: the Job disappeared before its result was read
    RESULT_UNREADABLE = "ResultUnreadable"  # Failed: the exporter left no valid result
    OBJECT_MISSING = "ObjectMissing"  # Failed: the file is not in S3 with the reported size
    EXPIRED = "Expired"  # Expired: the retention passed and the file was deleted


class CompanyExportStatus(_WireModel):
    """Everything a client needs, written only by the operator."""

    state: ExportState | None = None
    reason: ExportReason | None = None
    message: Annotated[str | None, Field(max_length=32768)] = None
    observed_generation: int | None = None
    conditions: list[Condition] = Field(
        default_factory=list,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    job_name: str | None = None
    queued_at: Annotated[datetime | None, Field(description="When the Job was created.")] = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    expires_at: Annotated[
        datetime | None, Field(description="When the file is deleted (retention).")
    ] = None
    bucket: str | None = None
    object_key: str | None = None
    records: Annotated[int | None, Field(ge=0)] = None
    bytes: Annotated[int | None, Field(ge=0)] = None
    sha256: str | None = None
    download_url: Annotated[
        str | None, Field(description="Presigned GET for kubectl users; lives 15 minutes.")
    ] = None
    download_url_expires_at: datetime | None = None
