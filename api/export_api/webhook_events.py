"""The webhook events a finished export makes, queued when it is archived.

A completed export makes `export.completed` now and `export.expired` at its `expires_at` (queued
ahead, due then; its DELETE cancels it); a failed one makes `export.failed`.
"""

from datetime import UTC, datetime

from export_api.records import ExportRecord
from export_contracts.resource import ExportState
from export_webhooks.events import EventType, ExportEventData, WebhookEvent


def export_events(record: ExportRecord, status_url: str) -> list[WebhookEvent]:
    status = record.status
    finished_at = status.completed_at or datetime.now(UTC)
    result = {
        "export_id": record.export_id,
        "record_count": status.records,
        "file_size": status.bytes,
        "sha256": status.sha256,
        "url": status_url,
    }
    if status.state == ExportState.FAILED:
        failed = ExportEventData(
            **result, status="failed", failed_at=finished_at, message=status.message
        )
        return [WebhookEvent(type=EventType.EXPORT_FAILED, timestamp=finished_at, data=failed)]
    expires_at = status.expires_at or finished_at
    expired = WebhookEvent(
        type=EventType.EXPORT_EXPIRED,
        timestamp=expires_at,
        data=ExportEventData(
            **result, status="expired", completed_at=status.completed_at, expired_at=expires_at
        ),
    )
    if status.state == ExportState.EXPIRED:
        return [expired]
    completed = ExportEventData(**result, status="completed", completed_at=finished_at)
    events = [WebhookEvent(type=EventType.EXPORT_COMPLETED, timestamp=finished_at, data=completed)]
    return [*events, expired] if status.expires_at else events
