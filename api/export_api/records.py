"""What the API needs of one export, read from its CompanyExport object or from its archived row."""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ConfigDict, ValidationError

from export_contracts.resource import (
    ARCHIVED_LABEL,
    CompanyExportSpec,
    CompanyExportStatus,
    ExportState,
)

log = logging.getLogger(__name__)


class _ReadStatus(CompanyExportStatus):
    # Fields added by newer operators must not make an export unreadable to an older API.
    model_config = ConfigDict(extra="ignore")


@dataclass(frozen=True)
class ExportRecord:
    """One export: live (from its object) or archived (from PostgreSQL, its object gone)."""

    export_id: int
    space_id: int
    created_at: datetime
    status: CompanyExportStatus
    deleting: bool = False
    # The object carries the archived label: its row is in PostgreSQL, the object may go.
    archived: bool = False

    @property
    def is_queued(self) -> bool:
        return self.status.state in (None, ExportState.QUEUED)

    @property
    def is_final(self) -> bool:
        return self.status.state is not None and self.status.state.is_final


def record_from_object(obj: dict[str, Any]) -> ExportRecord | None:
    """Parses an object as the API server returns it; None (and a log line) if it is not ours."""
    metadata = obj.get("metadata", {})
    try:
        spec = CompanyExportSpec.model_validate(obj.get("spec", {}))
        status = _ReadStatus.model_validate(obj.get("status") or {})
        created_at = datetime.fromisoformat(metadata["creationTimestamp"])
    except (ValidationError, KeyError, ValueError) as error:
        log.warning(
            "ignoring a malformed CompanyExport",
            extra={"name": metadata.get("name"), "error": str(error)},
        )
        return None
    return ExportRecord(
        export_id=spec.export_id,
        space_id=spec.space_id,
        created_at=created_at,
        status=status,
        deleting=metadata.get("deletionTimestamp") is not None,
        archived=ARCHIVED_LABEL in (metadata.get("labels") or {}),
    )
