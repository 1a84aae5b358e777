"""Each state an export enters is announced by one Event, also when the operator died in between."""

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from export_contracts import resource
from export_contracts.resource import (
    ARCHIVED_LABEL,
    CompanyExportStatus,
    ExportReason,
    ExportState,
)
from export_operator.announcements import (
    MAX_MESSAGE_LENGTH,
    REPAIR_WINDOW,
    Announcement,
    Announcer,
    entered_at,
    event_manifest,
    event_name,
)
from export_operator.cluster import Cluster
from tests.operator.operator_harness import EXPORTS, Harness

EXPORT = {"metadata": {"name": "export-7", "namespace": "tenant-a", "uid": "3f2c"}}
NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "kind"),
    [(ExportState.COMPLETED, "Normal"), (ExportState.FAILED, "Warning")],
)
def test_the_event_is_named_by_export_uid_and_state(state: ExportState, kind: str) -> None:
    event = event_manifest(EXPORT, Announcement(state, ExportReason.COMPLETED, "done"), NOW)
    assert event["metadata"] == {
        "name": f"export-7.3f2c.{state.value.lower()}",
        "namespace": "tenant-a",
    }
    assert event["type"] == kind
    assert event["involvedObject"]["uid"] == "3f2c"
    assert event["involvedObject"]["kind"] == resource.KIND


def test_names_differ_by_state_and_by_a_recreated_export() -> None:
    names = {
        event_name("export-7", uid, state) for uid in ("uid-a", "uid-b") for state in ExportState
    }
    assert len(names) == 2 * len(ExportState)


def test_a_long_message_is_cut_in_the_middle_to_what_the_apiserver_takes() -> None:
    message = "start " + "x" * 5000 + " end"
    said = Announcement(ExportState.FAILED, ExportReason.BACKOFF_LIMIT_EXCEEDED, message)
    cut = event_manifest(EXPORT, said, NOW)["message"]
    assert len(cut) <= MAX_MESSAGE_LENGTH
    assert cut.startswith("start x")
    assert cut.endswith("x end")


def test_the_state_was_entered_when_its_timestamp_says() -> None:
    queued = CompanyExportStatus(state=ExportState.QUEUED, queued_at=NOW)
    done = CompanyExportStatus(
        state=ExportState.COMPLETED, queued_at=NOW, completed_at=NOW + timedelta(1)
    )
    assert entered_at(queued) == NOW
    assert entered_at(done) == NOW + timedelta(1)
    assert entered_at(CompanyExportStatus()) is None


class EventsCreated:
    """Stands in for the cluster's Events API (the only call an Announcer makes): keeps names."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def create_event(self, manifest: dict[str, Any]) -> bool:
        self.names.append(manifest["metadata"]["name"])
        return True


def test_what_was_announced_is_remembered_for_the_repair_window_only() -> None:
    now = [NOW]
    events = EventsCreated()
    announcer = Announcer(cast(Cluster, events), clock=lambda: now[0])
    completed = Announcement(ExportState.COMPLETED, ExportReason.COMPLETED, "done")

    def export(uid: str) -> dict[str, Any]:
        return {"metadata": {**EXPORT["metadata"], "name": f"export-{uid}", "uid": uid}}

    assert announcer.announce(export("a"), completed)
    now[0] = NOW + REPAIR_WINDOW / 2
    assert announcer.announce(export("b"), completed)
    assert not announcer.announce(export("a"), completed)  # remembered: no second Event
    now[0] = NOW + REPAIR_WINDOW + timedelta(seconds=1)
    assert announcer.announce(export("c"), completed)  # a's memory ends here
    assert not announcer.announce(export("b"), completed)

    assert announcer.announce(export("a"), completed)  # asked again (the apiserver says 409)
    assert [name.split(".")[1] for name in events.names] == ["a", "b", "c", "a"]


# --- against the apiserver, with the operator started and killed ----------------------------------


def _record(harness: Harness, name: str, state: ExportState, at: datetime) -> None:
    """Writes the status a killed operator left behind: the state, no Event for it."""
    status = {
        "state": state.value,
        "reason": ExportReason.BAD_REQUEST.value,
        "message": f"recorded by hand for {name}",
        "completedAt": at.isoformat(),
    }
    harness.custom.patch_namespaced_custom_object_status(
        *EXPORTS, harness.namespace, resource.PLURAL, name, {"status": status}
    )


def _events(harness: Harness, name: str) -> list[Any]:
    return [
        event
        for event in harness.core.list_namespaced_event(
            harness.namespace,
            field_selector=f"involvedObject.kind={resource.KIND},involvedObject.name={name}",
        ).items
        if event.reason == ExportReason.BAD_REQUEST.value
    ]


def _recorded_failure(harness: Harness, export_id: int, at: datetime) -> str:
    name = harness.create_export(export_id)
    _record(harness, name, ExportState.FAILED, at)
    return name


def test_a_state_whose_event_was_lost_is_announced_once_by_the_next_operator(
    harness: Harness,
) -> None:
    now = datetime.now(UTC)
    lost = _recorded_failure(harness, 300, now)
    stale = _recorded_failure(harness, 301, now - REPAIR_WINDOW - timedelta(minutes=1))
    announced = _recorded_failure(harness, 302, now)
    # Archived (by the API) before any operator saw it: outside kopf's watch, in the archived one.
    archived = _recorded_failure(harness, 304, now)
    harness.kubectl("label", "cexp", archived, f"{ARCHIVED_LABEL}=true")
    body = harness.get_export(announced)
    assert body is not None
    said = Announcement(ExportState.FAILED, ExportReason.BAD_REQUEST, "announced before the kill")
    harness.core.create_namespaced_event(harness.namespace, event_manifest(body, said, now))

    first = harness.start_operator()
    harness.wait_for(lambda: _events(harness, lost), f"an Event for {lost}", timeout=30)
    harness.wait_for(lambda: _events(harness, archived), f"an Event for {archived}", timeout=30)
    harness.kill(first)
    harness.start_operator("operator-2")
    # An export recorded after the second start is announced only once the listing was handled.
    later = _recorded_failure(harness, 303, datetime.now(UTC))
    harness.wait_for(lambda: _events(harness, later), f"an Event for {later}", timeout=30)

    lost_uid = (harness.get_export(lost) or {})["metadata"]["uid"]
    assert [e.metadata.name for e in _events(harness, lost)] == [
        event_name(lost, lost_uid, ExportState.FAILED)
    ]
    assert [e.message for e in _events(harness, announced)] == ["announced before the kill"]
    assert _events(harness, stale) == []
    announced_once = _events(harness, lost) + _events(harness, later) + _events(harness, archived)
    assert [e.count for e in announced_once] == [1, 1, 1]


def test_an_event_stamped_on_a_whole_second_is_accepted(harness: Harness) -> None:
    """The operator's times are whole seconds; kube-apiserver 1.37.2 refuses eventTime .000000."""
    name = harness.create_export(305)
    body = harness.get_export(name)
    assert body is not None
    said = Announcement(ExportState.FAILED, ExportReason.BAD_REQUEST, "on a whole second")
    whole_second = datetime.now(UTC).replace(microsecond=0)
    harness.core.create_namespaced_event(
        harness.namespace, event_manifest(body, said, whole_second)
    )
    assert [event.message for event in _events(harness, name)] == ["on a whole second"]
