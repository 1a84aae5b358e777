"""Each state an export enters is announced by exactly one Kubernetes Event, across restarts.

The Event is derived from the status, not from the moment of the write: its name is fixed by the
export and the state (`export-7.<uid>.completed`), and it is created directly, so a second create
answers 409 and nothing is posted twice. The status write comes first; an operator killed between
the two leaves a state without its Event, and whoever next observes the export (this process on
the watch event of its own write, or a successor at its first listing) creates the missing one.

What is not repaired, on purpose: a state older than `REPAIR_WINDOW` (Events themselves live one
hour, the apiserver's default `--event-ttl`, so re-announcing older states after every restart
would only spam), and an intermediate state (Queued, Processing) that the export already left when
it is next observed. Metrics and the "export state changed" log line are per process and
best-effort: a kill between the status write and them loses them.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from export_contracts import resource
from export_contracts.resource import CompanyExportStatus, ExportReason, ExportState
from export_operator.cluster import Cluster

logger = logging.getLogger(__name__)

REPAIR_WINDOW = timedelta(hours=1)
# The apiserver refuses longer Event messages; cut in the middle, as kopf does.
MAX_MESSAGE_LENGTH = 1024
REPORTING_COMPONENT = "company-exports-operator"


def event_name(export_name: str, uid: str, state: ExportState) -> str:
    """One name per (export, state): the uid keeps a re-created export of the same name apart."""
    return f"{export_name}.{uid}.{state.value.lower()}"


def _short(message: str) -> str:
    if len(message) <= MAX_MESSAGE_LENGTH:
        return message
    half = (MAX_MESSAGE_LENGTH - 3) // 2
    return f"{message[:half]}...{message[-half:]}"


@dataclass(frozen=True)
class Announcement:
    """A state an export entered, as its Event says it."""

    state: ExportState
    reason: ExportReason
    message: str

    @classmethod
    def of(cls, status: CompanyExportStatus) -> "Announcement | None":
        if status.state is None or status.reason is None:
            return None
        return cls(status.state, status.reason, status.message or "")


def _micro_time(moment: datetime) -> str:
    """An Event's time. kube-apiserver 1.37.2 refuses an eventTime whose fraction is .000000 (it
    reads one back without digits, then fails to parse it), so a whole second gets 1 us more."""
    if moment.microsecond == 0:
        moment += timedelta(microseconds=1)
    return moment.isoformat(timespec="microseconds")


def event_manifest(export: dict[str, Any], said: Announcement, now: datetime) -> dict[str, Any]:
    """The core/v1 Event that announces the state entered (shown by `kubectl describe`)."""
    meta = export["metadata"]
    stamp = _micro_time(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": event_name(meta["name"], meta["uid"], said.state),
            "namespace": meta["namespace"],
        },
        "involvedObject": {
            "apiVersion": resource.API_VERSION,
            "kind": resource.KIND,
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
        },
        "type": "Warning" if said.state is ExportState.FAILED else "Normal",
        "reason": said.reason.value,
        "message": _short(said.message),
        "action": said.state.value,
        "source": {"component": REPORTING_COMPONENT},
        "reportingComponent": REPORTING_COMPONENT,
        "reportingInstance": REPORTING_COMPONENT,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "eventTime": stamp,
        "count": 1,
    }


def entered_at(status: CompanyExportStatus) -> datetime | None:
    """When the export entered the state its status records."""
    if status.state is None:
        return None
    return {
        ExportState.QUEUED: status.queued_at,
        ExportState.PROCESSING: status.started_at,
        ExportState.COMPLETED: status.completed_at,
        ExportState.FAILED: status.completed_at,
        ExportState.EXPIRED: status.expires_at,
    }[status.state]


class Announcer:
    """Creates the Event of each state once; remembers what this process knows is announced."""

    def __init__(
        self, cluster: Cluster, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._cluster = cluster
        self._clock = clock
        # The states known to have their Event, by export uid, with when the last was announced;
        # a restart starts empty and asks. Oldest first: entries past REPAIR_WINDOW are dropped
        # (`observe` no longer repairs those states), so memory follows the last hour's work, not
        # every export the cluster holds.
        self._announced: dict[str, tuple[datetime, set[ExportState]]] = {}

    def _known(self, uid: str, state: ExportState) -> bool:
        return uid in self._announced and state in self._announced[uid][1]

    def _remember(self, uid: str, state: ExportState, moment: datetime) -> None:
        _, states = self._announced.pop(uid, (moment, set()))
        self._announced[uid] = (moment, states | {state})
        horizon = moment - REPAIR_WINDOW
        while (oldest := next(iter(self._announced))) != uid:
            if self._announced[oldest][0] >= horizon:
                break
            del self._announced[oldest]

    def announce(self, export: dict[str, Any], said: Announcement) -> bool:
        """Creates the Event of the state entered; False when it existed already (or failed). It
        is stamped to the microsecond, as Events order by time (states enter within a second)."""
        uid = export["metadata"]["uid"]
        if self._known(uid, said.state):
            return False
        try:
            moment = self._clock()
            created = self._cluster.create_event(event_manifest(export, said, moment))
        except (ApiException, HTTPError) as error:
            # The watch event of the status write comes next and tries again (`observe`).
            logger.warning(
                "could not announce the export's state; retrying on its next watch event",
                extra={
                    "export": export["metadata"]["name"],
                    "state": said.state.value,
                    "error": str(error),
                },
            )
            return False
        self._remember(uid, said.state, moment)
        return created

    def observe(self, export: dict[str, Any], now: datetime) -> None:
        """Announces the recorded state if its Event may be missing (a kill after the write)."""
        status = CompanyExportStatus.model_validate(export.get("status") or {})
        said = Announcement.of(status)
        if said is None or self._known(export["metadata"]["uid"], said.state):
            return
        since = entered_at(status)
        if since is not None and now - since > REPAIR_WINDOW:
            return
        if self.announce(export, said):
            logger.info(
                "export state announced late (the operator stopped between status and Event)",
                extra={"export": export["metadata"]["name"], "state": said.state.value},
            )

    def forget(self, uid: str) -> None:
        """The export is gone: its states need no memory."""
        self._announced.pop(uid, None)
