"""Status transitions: forward only, conditions as API conventions say."""

from datetime import UTC, datetime, timedelta

import pytest

from export_contracts.exporter import ExporterResult
from export_contracts.resource import (
    CompanyExportStatus,
    ConditionStatus,
    ExportReason,
    ExportState,
)
from export_operator import status
from export_storage import SignedUrl

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, 10, tzinfo=UTC)
RESULT = ExporterResult(
    export_id=42, records=5, bytes=100, sha256="b" * 64, bucket="exports", object_key="k"
)


def _apply(current: CompanyExportStatus, transition: status.Transition, minutes: int = 0
           ) -> CompanyExportStatus | None:  # fmt: skip
    return status.apply(current, transition, 1, T0 + timedelta(minutes=minutes))


def _walk_to_completed() -> CompanyExportStatus:
    queued = _apply(CompanyExportStatus(), status.queued("export-42", "exports", "k", T0))
    assert queued is not None
    processing = _apply(queued, status.processing("export-42", T0), 1)
    assert processing is not None
    download = SignedUrl("http://s3/x", T0 + timedelta(minutes=17))
    done = _apply(
        processing,
        status.completed(RESULT, download, processing.started_at, T0 + timedelta(minutes=2),
                         timedelta(hours=24)),
        2,
    )  # fmt: skip
    assert done is not None
    return done


def test_life_cycle_to_completed() -> None:
    done = _walk_to_completed()
    assert done.state is ExportState.COMPLETED
    assert (done.records, done.bytes, done.sha256) == (5, 100, "b" * 64)
    assert done.expires_at == T0 + timedelta(hours=24, minutes=2)
    assert done.started_at == T0
    [condition] = done.conditions
    assert (condition.type, condition.status) == ("Succeeded", ConditionStatus.TRUE)
    assert condition.last_transition_time == T0 + timedelta(minutes=2)
    assert condition.observed_generation == done.observed_generation == 1


def test_condition_keeps_its_transition_time_while_its_status_stays() -> None:
    queued = _apply(CompanyExportStatus(), status.queued("j", "b", "k", T0))
    assert queued is not None
    processing = _apply(queued, status.processing("j", T0), 5)
    assert processing is not None
    assert processing.conditions[0].status is ConditionStatus.UNKNOWN
    assert processing.conditions[0].last_transition_time == T0
    assert processing.conditions[0].reason == ExportReason.RUNNING


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (None, ExportState.QUEUED, True),
        (ExportState.QUEUED, ExportState.PROCESSING, True),
        (ExportState.QUEUED, ExportState.FAILED, True),
        (ExportState.PROCESSING, ExportState.QUEUED, False),
        (ExportState.PROCESSING, ExportState.PROCESSING, False),
        (ExportState.COMPLETED, ExportState.FAILED, False),
        (ExportState.FAILED, ExportState.COMPLETED, False),
        (ExportState.COMPLETED, ExportState.EXPIRED, True),
        (ExportState.FAILED, ExportState.EXPIRED, False),
    ],
)
def test_only_forward(current: ExportState | None, target: ExportState, allowed: bool) -> None:
    assert status.allowed(current, target) is allowed


def test_expired_clears_the_download_url_in_the_patch() -> None:
    expired = _apply(_walk_to_completed(), status.expired(timedelta(hours=24)), 60)
    assert expired is not None
    patch = status.merge_patch(expired)
    assert patch["state"] == "Expired"
    assert patch["downloadUrl"] is None  # merge patch: null deletes the field
    assert patch["records"] == 5
    assert expired.conditions[0].status is ConditionStatus.FALSE


def test_failed_carries_reason_and_message() -> None:
    failed = _apply(
        CompanyExportStatus(),
        status.failed(ExportReason.DEADLINE_EXCEEDED, "ran too long; export less", T0),
    )
    assert failed is not None
    assert (failed.reason, failed.message) == (
        ExportReason.DEADLINE_EXCEEDED,
        "ran too long; export less",
    )
    assert failed.conditions[0].status is ConditionStatus.FALSE
