"""The export's status transitions: pure functions from the current status to the next.

The life cycle only moves forward (Queued -> Processing -> Completed | Failed; Completed ->
Expired). A transition that would move it back returns None, so a late or repeated event (a
restart, two handlers racing) can never undo a later state or record an end state twice.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from export_contracts.exporter import ExporterResult
from export_contracts.resource import (
    SUCCEEDED,
    CompanyExportStatus,
    Condition,
    ConditionStatus,
    ExportReason,
    ExportState,
)
from export_storage import SignedUrl


@dataclass(frozen=True)
class Transition:
    state: ExportState
    reason: ExportReason
    message: str
    # Status fields (snake_case) to set; None clears one.
    fields: dict[str, Any] = field(default_factory=dict)


def allowed(current: ExportState | None, target: ExportState) -> bool:
    if current is None:
        return True
    if target is ExportState.EXPIRED:
        return current is ExportState.COMPLETED
    return target.rank > current.rank


def _succeeded(state: ExportState) -> ConditionStatus:
    if state is ExportState.COMPLETED:
        return ConditionStatus.TRUE
    if state in (ExportState.FAILED, ExportState.EXPIRED):
        return ConditionStatus.FALSE
    return ConditionStatus.UNKNOWN


def _conditions(
    current: list[Condition], transition: Transition, generation: int, now: datetime
) -> list[Condition]:
    status = _succeeded(transition.state)
    previous = next((c for c in current if c.type == SUCCEEDED), None)
    # Conventions: lastTransitionTime changes only when the condition's status changes.
    since = previous.last_transition_time if previous and previous.status == status else now
    condition = Condition(
        type=SUCCEEDED,
        status=status,
        reason=transition.reason,
        message=transition.message,
        last_transition_time=since,
        observed_generation=generation,
    )
    return [c for c in current if c.type != SUCCEEDED] + [condition]


def apply(
    current: CompanyExportStatus, transition: Transition, generation: int, now: datetime
) -> CompanyExportStatus | None:
    """The status after the transition, or None when the transition is not allowed."""
    if not allowed(current.state, transition.state):
        return None
    return CompanyExportStatus.model_validate(
        {
            **current.model_dump(),
            **transition.fields,
            "state": transition.state,
            "reason": transition.reason,
            "message": transition.message,
            "observed_generation": generation,
            "conditions": _conditions(current.conditions, transition, generation, now),
        }
    )


def merge_patch(status: CompanyExportStatus) -> dict[str, Any]:
    """The whole status as a JSON merge patch: fields now None are deleted."""
    return status.model_dump(by_alias=True, mode="json")


def queued(job_name: str, bucket: str, object_key: str, queued_at: datetime) -> Transition:
    return Transition(
        ExportState.QUEUED,
        ExportReason.WAITING_FOR_SLOT,
        f"Job {job_name} created; it starts when a slot is free",
        {"job_name": job_name, "bucket": bucket, "object_key": object_key, "queued_at": queued_at},
    )


def processing(job_name: str, started_at: datetime) -> Transition:
    return Transition(
        ExportState.PROCESSING,
        ExportReason.RUNNING,
        f"Job {job_name} is exporting",
        {"started_at": started_at},
    )


def completed(
    result: ExporterResult,
    download: SignedUrl,
    started_at: datetime | None,
    completed_at: datetime,
    retention: timedelta,
) -> Transition:
    return Transition(
        ExportState.COMPLETED,
        ExportReason.COMPLETED,
        f"{result.records} records, {result.bytes} bytes in s3://{result.bucket}/{result.object_key}",
        {
            "started_at": started_at,
            "completed_at": completed_at,
            "expires_at": completed_at + retention,
            "bucket": result.bucket,
            "object_key": result.object_key,
            "records": result.records,
            "bytes": result.bytes,
            "sha256": result.sha256,
            "download_url": download.url,
            "download_url_expires_at": download.expires_at,
        },
    )


def failed(reason: ExportReason, message: str, completed_at: datetime) -> Transition:
    return Transition(ExportState.FAILED, reason, message, {"completed_at": completed_at})


def expired(retention: timedelta) -> Transition:
    hours = retention.total_seconds() / 3600
    return Transition(
        ExportState.EXPIRED,
        ExportReason.EXPIRED,
        f"the file was deleted after the retention of {hours:g} h; create a new export",
        {"download_url": None, "download_url_expires_at": None},
    )


def utcnow() -> datetime:
    return datetime.now(UTC)
