"""What a client sees of an export: the operator's status turned into the public API's fields."""

from datetime import datetime

from export_api.models import ExportResponse, ExportStatusName
from export_api.presign import Presigner
from export_api.records import ExportRecord
from export_contracts.resource import ExportState

_STATUS_NAMES: dict[ExportState, ExportStatusName] = {
    ExportState.QUEUED: "queued",
    ExportState.PROCESSING: "processing",
    ExportState.COMPLETED: "completed",
    ExportState.FAILED: "failed",
    ExportState.EXPIRED: "expired",
}


def status_name(record: ExportRecord, now: datetime) -> ExportStatusName:
    """The public status; a completed export whose file passed its retention shows as expired."""
    state = record.status.state or ExportState.QUEUED
    expires_at = record.status.expires_at
    if state is ExportState.COMPLETED and expires_at is not None and expires_at <= now:
        return "expired"
    return _STATUS_NAMES[state]


def status_message(record: ExportRecord, name: ExportStatusName, queued_ahead: int) -> str:
    status = record.status
    if name == "queued":
        if queued_ahead:
            return f"Queued behind {queued_ahead} other export(s); poll again in a few seconds."
        return "Queued; it starts in a few seconds. Poll again for progress."
    if name == "processing":
        if status.records:
            return f"Exporting: {status.records} companies so far."
        return status.message or "Exporting; poll again in a few seconds."
    if name == "completed":
        return "Completed: download the file from download_url before expires_at."
    if name == "failed":
        detail = status.message or f"reason {status.reason or 'unknown'}"
        return f"Export failed: {detail}. Create a new export to try again."
    return "The file was deleted after its retention period; create a new export."


def export_response(
    record: ExportRecord, now: datetime, presigner: Presigner, queued_ahead: int = 0
) -> ExportResponse:
    """The export as the public API shows it, with a download URL signed for this request."""
    name = status_name(record, now)
    status = record.status
    response = ExportResponse(
        export_id=record.export_id,
        status=name,
        message=status_message(record, name, queued_ahead),
        created_at=record.created_at,
        started_at=status.started_at,
        completed_at=status.completed_at,
        record_count=status.records,
        file_size=status.bytes,
    )
    if name == "completed" and status.bucket and status.object_key:
        signed = presigner.presign(status.bucket, status.object_key)
        response.download_url = signed.url
        response.expires_at = signed.expires_at
    return response
