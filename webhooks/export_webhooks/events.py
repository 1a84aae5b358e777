"""What a delivery says: the event types and the payload, per the Standard Webhooks shape.

`{"type": "export.completed", "timestamp": "...", "data": {...}}`: the payload names the export
and its result and links to its status (GET), never to the file: a presigned URL is a credential
that would outlive its purpose in the receiver's logs.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class EventType(StrEnum):
    EXPORT_COMPLETED = "export.completed"
    EXPORT_FAILED = "export.failed"
    # Sent when the file is deleted at the end of its retention (at `expires_at`).
    EXPORT_EXPIRED = "export.expired"


class ExportEventData(BaseModel):
    model_config = ConfigDict(frozen=True)

    export_id: int
    status: Literal["completed", "failed", "expired"]
    record_count: Annotated[int | None, Field(ge=0)] = None
    file_size: Annotated[int | None, Field(ge=0, description="Bytes of the gzip file.")] = None
    sha256: Annotated[str | None, Field(description="Hex SHA-256 of the gzip file.")] = None
    completed_at: AwareDatetime | None = None
    failed_at: AwareDatetime | None = None
    expired_at: AwareDatetime | None = None
    message: Annotated[str | None, Field(description="Why it failed, and what to do.")] = None
    url: Annotated[str, Field(description="The export's status: GET it for a download URL.")]


class WebhookEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: EventType
    timestamp: Annotated[AwareDatetime, Field(description="When the event happened.")]
    data: ExportEventData

    def body(self) -> str:
        """The exact bytes sent (as text), the same on every attempt."""
        return self.model_dump_json(exclude_none=True)

    @property
    def due(self) -> datetime:
        """When to send it: an expiry is announced when it happens, the rest at once."""
        return self.timestamp
