"""The retention index: what is due when, and that a pass looks only at what is due."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from export_contracts.resource import ARCHIVED_LABEL
from export_operator.retention import FinishedExports

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RETENTION = timedelta(hours=24)
GRACE = timedelta(hours=1)


def _body(uid: str, state: str, *, archived: bool = False, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"export-{uid}",
            "namespace": "exports",
            "uid": uid,
            "creationTimestamp": T0.isoformat(),
            "labels": {ARCHIVED_LABEL: "true"} if archived else {},
        },
        "status": {"state": state, "completedAt": T0.isoformat(), **status},
    }


def _completed(uid: str, *, archived: bool = False) -> dict[str, Any]:
    return _body(uid, "Completed", archived=archived, expiresAt=(T0 + RETENTION).isoformat())


def _names(index: FinishedExports, now: datetime) -> list[str]:
    return [export.owner.name for export in index.due(now)]


def test_a_file_is_due_at_its_expiry_and_the_object_after_grace_once_archived() -> None:
    index = FinishedExports(RETENTION, GRACE)
    index.observe(_completed("a"))
    assert _names(index, T0 + RETENTION - timedelta(seconds=1)) == []
    assert _names(index, T0 + RETENTION) == ["export-a"]  # the file
    index.observe(_body("a", "Expired", expiresAt=(T0 + RETENTION).isoformat()))
    assert _names(index, T0 + RETENTION + timedelta(minutes=1)) == []
    # Past retention and grace, but not archived: kept (and warned about once).
    assert _names(index, T0 + RETENTION + GRACE) == []
    index.observe(_body("a", "Expired", archived=True, expiresAt=(T0 + RETENTION).isoformat()))
    assert _names(index, T0 + RETENTION + GRACE + timedelta(seconds=1)) == ["export-a"]


def test_what_is_due_stays_due_until_a_watch_event_changes_it() -> None:
    index = FinishedExports(RETENTION, GRACE)
    index.observe(_body("f", "Failed", archived=True))
    late = T0 + RETENTION + GRACE
    assert _names(index, late) == ["export-f"]
    assert _names(index, late + timedelta(seconds=10)) == ["export-f"]  # its delete failed, say
    index.forget("f")
    assert _names(index, late + timedelta(seconds=20)) == []


def test_a_relist_of_unchanged_exports_adds_nothing_to_look_at() -> None:
    index = FinishedExports(RETENTION, GRACE)
    bodies = [_completed(str(n), archived=True) for n in range(1000)]
    for _ in range(3):  # the first listing, then two relists after a 410
        for body in bodies:
            index.observe(body)
    assert len(index) == 1000
    assert len(index._agenda) == 1000  # one look per export, not one per event
    assert _names(index, T0 + timedelta(hours=1)) == []
    assert len(index._agenda) == 1000  # an idle pass pops nothing


def test_an_export_replaced_before_its_time_is_looked_at_as_it_is_now() -> None:
    index = FinishedExports(RETENTION, GRACE)
    index.observe(_completed("c"))
    index.observe(_body("c", "Failed", archived=True))  # status rewritten: no file to expire
    assert _names(index, T0 + RETENTION) == []
    assert _names(index, T0 + RETENTION + GRACE) == ["export-c"]
