"""What happens to finished exports over time, from one in-memory index instead of a timer each.

A Completed export's file is deleted at `expiresAt` (the export becomes Expired); any finished
export's object is deleted `grace` after its retention ended, but only once the API has archived
its final record in PostgreSQL (the object carries `ARCHIVED_LABEL`): so etcd holds no export
past retention + grace, and nothing a client may still ask about is lost.

Two watches feed the index: kopf's, of the exports not archived yet, and the operator's own watch
of archived ones (`Exports.follow_archived`), which keeps only this index's small entry per
export where kopf would keep ~10 KB. A sweep looks only at the entries whose time has come: an
agenda (a heap by time) holds each entry's next moment, so an idle pass over a day of exports
costs nothing (a walk of 100,000 entries took a core's 4% and stalled status polls beside it).
"""

import heapq
import itertools
import logging
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from export_contracts.resource import ARCHIVED_LABEL, CompanyExportStatus, ExportState
from export_operator.jobs import Owner

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Finished:
    """One finished export, as much as its retention needs."""

    owner: Owner
    state: ExportState
    archived: bool  # the API holds its final record: its object may go at `deletes_at`
    expires_at: datetime | None  # when a Completed export's file goes
    deletes_at: datetime  # when its object may go (once archived)

    @classmethod
    def of(cls, body: dict[str, Any], retention: timedelta, grace: timedelta) -> "Finished | None":
        """The export's retention if it is finished and not being deleted, else None."""
        metadata = body["metadata"]
        status = CompanyExportStatus.model_validate(body.get("status") or {})
        if status.state is None or not status.state.is_final or metadata.get("deletionTimestamp"):
            return None
        ended = status.expires_at or (status.completed_at or status.started_at)
        if ended is None:
            ended = datetime.fromisoformat(metadata["creationTimestamp"])
        if status.expires_at is None:
            ended += retention
        # One string per namespace, not one per export: the index holds a day of exports.
        namespace = sys.intern(metadata["namespace"])
        owner = Owner(namespace=namespace, name=metadata["name"], uid=metadata["uid"])
        return cls(
            owner=owner,
            state=status.state,
            archived=(metadata.get("labels") or {}).get(ARCHIVED_LABEL) == "true",
            expires_at=status.expires_at,
            deletes_at=ended + grace,
        )

    def file_due(self, now: datetime) -> bool:
        return (
            self.state is ExportState.COMPLETED
            and self.expires_at is not None
            and self.expires_at <= now
        )

    def object_due(self, now: datetime) -> bool:
        return self.archived and self.deletes_at <= now

    def next_look(self) -> datetime:
        """When something may become due: the file's expiry, else the object's time."""
        if self.state is ExportState.COMPLETED and self.expires_at is not None:
            return min(self.expires_at, self.deletes_at)
        return self.deletes_at


class FinishedExports:
    """The finished exports of both watches, by uid, and the agenda of when to look at each."""

    def __init__(self, retention: timedelta, grace: timedelta) -> None:
        self.retention = retention
        self.grace = grace
        self._exports: dict[str, Finished] = {}
        # (when, tie-breaker, entry); an entry since replaced or forgotten is skipped when popped.
        self._agenda: list[tuple[datetime, int, Finished]] = []
        self._order = itertools.count()
        self._waiting_for_archive: set[str] = set()

    def observe(self, body: dict[str, Any]) -> None:
        """An export as a watch saw it: index it if finished (and not being deleted)."""
        finished = Finished.of(body, self.retention, self.grace)
        if finished is None:
            self.forget(body["metadata"]["uid"])
        elif self._exports.get(finished.owner.uid) != finished:  # a relist changes nothing
            self._exports[finished.owner.uid] = finished
            self._schedule(finished, finished.next_look())

    def left_watch(self, body: dict[str, Any]) -> None:
        """A watch's DELETED event. Without a deletionTimestamp the export only left that watch's
        label selector (it was archived, and the other watch has it): its entry stays."""
        if body["metadata"].get("deletionTimestamp"):
            self.forget(body["metadata"]["uid"])

    def forget(self, uid: str) -> None:
        self._exports.pop(uid, None)
        self._waiting_for_archive.discard(uid)

    def due(self, now: datetime) -> list[Finished]:
        """The exports whose file or object is due for deletion; they stay due on every pass until
        a watch event replaces their entry. Warns once about each one past its retention and grace
        that the API has not archived yet (its object may not go; archiving it is an event)."""
        due = []
        while self._agenda and self._agenda[0][0] <= now:
            _when, _order, export = heapq.heappop(self._agenda)
            uid = export.owner.uid
            if self._exports.get(uid) is not export:
                continue
            if export.file_due(now) or export.object_due(now):
                due.append(export)
            elif export.deletes_at > now:
                self._schedule(export, export.deletes_at)
            elif not export.archived:
                self._warn_unarchived_once(uid, export)
        for export in due:
            self._schedule(export, now)  # looked at again next pass, unless replaced by then
        return due

    def _schedule(self, export: Finished, when: datetime) -> None:
        heapq.heappush(self._agenda, (when, next(self._order), export))

    def __len__(self) -> int:
        return len(self._exports)

    def _warn_unarchived_once(self, uid: str, export: Finished) -> None:
        if uid in self._waiting_for_archive:
            return
        self._waiting_for_archive.add(uid)
        logger.warning(
            "a finished export is past its retention and grace but not archived yet; it stays "
            "until the API archives it (check that the API runs and reaches PostgreSQL)",
            extra={"namespace": export.owner.namespace, "export": export.owner.name},
        )
