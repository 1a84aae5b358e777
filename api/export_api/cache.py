"""A watch-backed cache of the exports not archived yet: those in flight and those just finished.

Status polls of those read the cache, not the API server. Archived exports (the label
`ARCHIVED_LABEL`) are left out by the watch's label selector, so the cache's size follows the
exports in flight, never the history; their final records are read from PostgreSQL (`archive`).

The cache lists once, a page at a time, then follows a watch from that list's resourceVersion;
when the watch expires (410 Gone) or fails, it lists again, so it is correct after the API's own
restart and after any gap in the watch.
"""

import bisect
import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any, cast

from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException
from prometheus_client import Counter, Gauge

from export_api.records import ExportRecord, record_from_object
from export_contracts.resource import ARCHIVED_LABEL, GROUP, PLURAL, VERSION

log = logging.getLogger(__name__)

CACHED_EXPORTS = Gauge(
    "export_api_cached_exports", "CompanyExport objects in the watch cache (not archived yet)."
)
CACHE_LISTS = Counter(
    "export_api_cache_lists", "Full lists of CompanyExports (start, watch expiry or failure)."
)

_HTTP_GONE = 410
_RETRY_DELAY_SECONDS = 2.0
_LIST_PAGE_SIZE = 500
_LIST_TIMEOUT_SECONDS = 30
UNARCHIVED = f"!{ARCHIVED_LABEL}"


class _Index:
    """The records by id, each space's ids, and the queued ids in order (for `queued_ahead`)."""

    def __init__(self, records: dict[int, ExportRecord]) -> None:
        self.records: dict[int, ExportRecord] = {}
        self.by_space: dict[int, set[int]] = defaultdict(set)
        self.queued: list[int] = []
        for record in records.values():
            self.put(record)

    def put(self, record: ExportRecord) -> None:
        self.drop(record.export_id)
        self.records[record.export_id] = record
        self.by_space[record.space_id].add(record.export_id)
        if record.is_queued and not record.deleting:
            bisect.insort(self.queued, record.export_id)

    def drop(self, export_id: int) -> None:
        old = self.records.pop(export_id, None)
        if old is None:
            return
        ids = self.by_space[old.space_id]
        ids.discard(export_id)
        if not ids:
            del self.by_space[old.space_id]
        at = bisect.bisect_left(self.queued, export_id)
        if at < len(self.queued) and self.queued[at] == export_id:
            del self.queued[at]


class ExportCache:
    """The namespace's unarchived CompanyExports, kept current by a watch in a background thread."""

    def __init__(
        self,
        api: client.ApiClient,
        namespace: str,
        watch_timeout_seconds: int,
        archived: Callable[[ExportRecord], None] = lambda record: None,
    ) -> None:
        """`archived` receives each finished record that leaves the cache for the archive."""
        self._objects = client.CustomObjectsApi(api)
        self._archived = archived
        self._namespace = namespace
        self._watch_timeout = watch_timeout_seconds
        self._index = _Index({})
        # Deleted here: ignored until the watch confirms, so a late event cannot revive them.
        self._tombstones: set[int] = set()
        self._lock = threading.Lock()
        self._synced = threading.Event()
        self._stopping = threading.Event()
        self._watch: watch.Watch | None = None
        self._thread = threading.Thread(target=self._run, name="export-cache", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._watch is not None:
            self._watch.stop()

    @property
    def synced(self) -> bool:
        """True once the first list arrived; stays true while the watch reconnects."""
        return self._synced.is_set()

    def wait_synced(self, timeout: float) -> bool:
        return self._synced.wait(timeout)

    def get(self, export_id: int) -> ExportRecord | None:
        record = self._index.records.get(export_id)
        if record is None or record.deleting or export_id in self._tombstones:
            return None
        return record

    def of_space(self, space_id: int) -> list[ExportRecord]:
        """The space's live exports in the cache, newest (highest id) first."""
        with self._lock:
            ids = sorted(self._index.by_space.get(space_id, ()), reverse=True)
            found = [self.get(export_id) for export_id in ids]
        return [record for record in found if record is not None]

    def finished(self) -> list[ExportRecord]:
        """Finished exports whose record is not archived yet (the archiver's work)."""
        with self._lock:
            return [r for r in self._index.records.values() if r.is_final and not r.archived]

    def queued_ahead(self, export_id: int) -> int:
        """How many queued exports were created before this one (all spaces: a count only)."""
        with self._lock:
            return bisect.bisect_left(self._index.queued, export_id)

    def remember(self, obj: dict[str, Any]) -> ExportRecord | None:
        """Adds an object this replica just created or read, before its watch event arrives."""
        record = record_from_object(obj)
        if record is not None and not record.archived:
            with self._lock:
                if record.export_id not in self._index.records:
                    self._index.put(record)
        return record

    def handed_over(self, export_id: int) -> None:
        """The export was archived: its record is read from PostgreSQL from now on."""
        with self._lock:
            self._index.drop(export_id)

    def forget(self, export_id: int) -> None:
        with self._lock:
            self._index.drop(export_id)
            self._tombstones.add(export_id)

    def _run(self) -> None:
        resource_version: str | None = None
        while not self._stopping.is_set():
            try:
                if resource_version is None:
                    resource_version = self._relist()
                resource_version = self._follow(resource_version)
            except ApiException as error:
                resource_version = None
                if error.status != _HTTP_GONE and not self._stopping.is_set():
                    log.warning(
                        "export watch failed; listing again", extra={"status": error.status}
                    )
                    self._stopping.wait(_RETRY_DELAY_SECONDS)
            except Exception:  # the cache must outlive any API server hiccup
                resource_version = None
                if not self._stopping.is_set():  # else our own shutdown closed the connection
                    log.exception("export watch failed; listing again")
                    self._stopping.wait(_RETRY_DELAY_SECONDS)

    def _relist(self) -> str:
        """Lists the unarchived exports page by page (one snapshot); returns its resourceVersion."""
        records: dict[int, ExportRecord] = {}
        token: str | None = None
        while True:
            listing = cast(
                dict[str, Any],
                self._objects.list_namespaced_custom_object(
                    GROUP, VERSION, self._namespace, PLURAL,
                    label_selector=UNARCHIVED, limit=_LIST_PAGE_SIZE, _continue=token,
                    _request_timeout=_LIST_TIMEOUT_SECONDS,
                ),
            )  # fmt: skip
            for obj in listing.get("items", []):
                record = record_from_object(obj)
                if record is not None:
                    records[record.export_id] = record
            token = listing["metadata"].get("continue")
            if not token:
                break
        with self._lock:
            self._index = _Index(records)
            self._tombstones &= set(records)
        self._synced.set()
        CACHE_LISTS.inc()
        CACHED_EXPORTS.set(len(records))
        log.info("export cache listed", extra={"exports": len(records)})
        resource_version: str = listing["metadata"]["resourceVersion"]
        return resource_version

    def _follow(self, resource_version: str) -> str | None:
        """Applies watch events until the watch times out; returns where to resume."""
        self._watch = watch.Watch()
        stream = self._watch.stream(
            self._objects.list_namespaced_custom_object,
            GROUP,
            VERSION,
            self._namespace,
            PLURAL,
            label_selector=UNARCHIVED,
            resource_version=resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=self._watch_timeout,
            _request_timeout=self._watch_timeout + 30,
        )
        for event in stream:
            if self._stopping.is_set():
                break
            self._apply(event["type"], event["object"])
        next_version: str | None = self._watch.resource_version
        return next_version

    def _apply(self, kind: str, obj: dict[str, Any]) -> None:
        if kind == "BOOKMARK":
            return
        record = record_from_object(obj)
        if record is None:
            return
        with self._lock:
            # DELETED also means "left the selector": the object was labelled archived.
            if kind == "DELETED" or record.archived:
                # A final export's deletion passes the operator's finalizer (`deleting`); this
                # replica's own DELETE left a tombstone. Otherwise it left for the archive.
                archived = record.is_final and not record.deleting
                if archived and record.export_id not in self._tombstones:
                    self._archived(record)
                self._index.drop(record.export_id)
                self._tombstones.discard(record.export_id)
            else:
                self._index.put(record)
            CACHED_EXPORTS.set(len(self._index.records))
