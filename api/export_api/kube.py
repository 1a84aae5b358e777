"""CompanyExport objects: creating and deleting them, and a watch-backed cache for reading them.

Status polls read the cache, not the API server. The cache lists once, then follows a watch from
that list's resourceVersion; when the watch expires (410 Gone) or fails, it lists again, so it is
correct after the API's own restart and after any gap in the watch.
"""

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException
from prometheus_client import Counter, Gauge
from pydantic import ConfigDict, ValidationError

from export_contracts.resource import (
    API_VERSION,
    GROUP,
    KIND,
    PLURAL,
    VERSION,
    CompanyExportSpec,
    CompanyExportStatus,
    ExportState,
    labels,
    resource_name,
)

log = logging.getLogger(__name__)

CACHED_EXPORTS = Gauge("export_api_cached_exports", "CompanyExport objects in the watch cache.")
CACHE_LISTS = Counter(
    "export_api_cache_lists", "Full lists of CompanyExports (start, watch expiry or failure)."
)

_HTTP_CONFLICT = 409
_HTTP_GONE = 410
_HTTP_NOT_FOUND = 404
_RETRY_DELAY_SECONDS = 2.0
# Bounds each request to the API server, so a hung connection cannot hold a client request.
_REQUEST_TIMEOUT_SECONDS = 10
# Finds the object an Idempotency-Key made when the API died before committing the key's row.
IDEMPOTENCY_LABEL = f"{GROUP}/idempotency-key"


class _ReadStatus(CompanyExportStatus):
    # Fields added by newer operators must not make an export unreadable to an older API.
    model_config = ConfigDict(extra="ignore")


@dataclass(frozen=True)
class ExportRecord:
    """What the API needs of one CompanyExport object."""

    export_id: int
    space_id: int
    created_at: datetime
    spec: CompanyExportSpec
    status: CompanyExportStatus
    deleting: bool

    @property
    def is_queued(self) -> bool:
        return self.status.state in (None, ExportState.QUEUED)


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
        spec=spec,
        status=status,
        deleting=metadata.get("deletionTimestamp") is not None,
    )


def idempotency_label(space_id: int, key: str) -> str:
    """A label value for a space's Idempotency-Key: keys may hold any character, labels may not."""
    return hashlib.sha256(f"{space_id}\n{key}".encode()).hexdigest()[:63]


def export_manifest(spec: CompanyExportSpec) -> dict[str, Any]:
    object_labels = labels(spec.space_id, spec.export_id)
    if spec.idempotency_key is not None:
        object_labels[IDEMPOTENCY_LABEL] = idempotency_label(spec.space_id, spec.idempotency_key)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": resource_name(spec.export_id), "labels": object_labels},
        "spec": spec.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


def api_client(kubeconfig: str) -> client.ApiClient:
    """A client for the kubeconfig at this path, or for the Pod's service account when empty."""
    if kubeconfig:
        return cast(
            client.ApiClient,
            config.new_client_from_config(config_file=kubeconfig, persist_config=False),
        )
    configuration = client.Configuration()
    config.load_incluster_config(client_configuration=configuration)
    return client.ApiClient(configuration)


class ExportResources:
    """Direct calls to the API server (blocking: call them from a worker thread)."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self._objects = client.CustomObjectsApi(api)
        self._version = client.VersionApi(api)
        self._namespace = namespace

    def create(self, spec: CompanyExportSpec) -> dict[str, Any]:
        """Creates the export's object; if it exists already (a retry), returns the existing one."""
        try:
            created = self._objects.create_namespaced_custom_object(
                GROUP,
                VERSION,
                self._namespace,
                PLURAL,
                export_manifest(spec),
                _request_timeout=_REQUEST_TIMEOUT_SECONDS,
            )
        except ApiException as error:
            if error.status != _HTTP_CONFLICT:
                raise
            existing = self.read(spec.export_id)
            if existing is None:
                raise
            return existing
        return cast(dict[str, Any], created)

    def find_by_idempotency_key(
        self, space_id: int, key: str, created_after: datetime
    ) -> CompanyExportSpec | None:
        """The spec of the newest object this Idempotency-Key created after `created_after`.

        Older objects with the same key belong to an earlier use whose window has passed.
        """
        selector = f"{IDEMPOTENCY_LABEL}={idempotency_label(space_id, key)}"
        found = self._objects.list_namespaced_custom_object(
            GROUP,
            VERSION,
            self._namespace,
            PLURAL,
            label_selector=selector,
            _request_timeout=_REQUEST_TIMEOUT_SECONDS,
        )
        records = [record_from_object(obj) for obj in cast(dict[str, Any], found).get("items", [])]
        matching = [
            record
            for record in records
            if record is not None
            and record.space_id == space_id
            and record.spec.idempotency_key == key
            and record.created_at > created_after
        ]
        return max(matching, key=lambda record: record.export_id).spec if matching else None

    def read(self, export_id: int) -> dict[str, Any] | None:
        try:
            obj = self._objects.get_namespaced_custom_object(
                GROUP,
                VERSION,
                self._namespace,
                PLURAL,
                resource_name(export_id),
                _request_timeout=_REQUEST_TIMEOUT_SECONDS,
            )
        except ApiException as error:
            if error.status == _HTTP_NOT_FOUND:
                return None
            raise
        return cast(dict[str, Any], obj)

    def delete(self, export_id: int) -> bool:
        """Deletes the object (its Job goes with it, by owner reference); False if it was gone."""
        try:
            self._objects.delete_namespaced_custom_object(
                GROUP,
                VERSION,
                self._namespace,
                PLURAL,
                resource_name(export_id),
                propagation_policy="Background",
                _request_timeout=_REQUEST_TIMEOUT_SECONDS,
            )
        except ApiException as error:
            if error.status == _HTTP_NOT_FOUND:
                return False
            raise
        return True

    def check(self) -> None:
        """Raises unless the API server answers (readiness)."""
        self._version.get_code(_request_timeout=2)


class ExportCache:
    """Every CompanyExport of the namespace, kept current by a watch in a background thread."""

    def __init__(self, api: client.ApiClient, namespace: str, watch_timeout_seconds: int) -> None:
        self._objects = client.CustomObjectsApi(api)
        self._namespace = namespace
        self._watch_timeout = watch_timeout_seconds
        self._records: dict[int, ExportRecord] = {}
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
        return self._synced.is_set()

    def wait_synced(self, timeout: float) -> bool:
        return self._synced.wait(timeout)

    def get(self, export_id: int) -> ExportRecord | None:
        record = self._records.get(export_id)
        if record is None or record.deleting or export_id in self._tombstones:
            return None
        return record

    def records(self) -> list[ExportRecord]:
        """Live exports, newest (highest id) first."""
        with self._lock:
            records = [r for r in self._records.values() if not r.deleting]
            tombstones = set(self._tombstones)
        records = [r for r in records if r.export_id not in tombstones]
        records.sort(key=lambda record: record.export_id, reverse=True)
        return records

    def queued_ahead(self, export_id: int) -> int:
        """How many queued exports were created before this one (all spaces: a count only)."""
        with self._lock:
            return sum(
                1
                for r in self._records.values()
                if r.is_queued and not r.deleting and r.export_id < export_id
            )

    def remember(self, obj: dict[str, Any]) -> ExportRecord | None:
        """Adds an object this replica just created or read, before its watch event arrives."""
        record = record_from_object(obj)
        if record is not None:
            with self._lock:
                self._records.setdefault(record.export_id, record)
        return record

    def forget(self, export_id: int) -> None:
        with self._lock:
            self._records.pop(export_id, None)
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
        listing = cast(
            dict[str, Any],
            self._objects.list_namespaced_custom_object(
                GROUP,
                VERSION,
                self._namespace,
                PLURAL,
                _request_timeout=_REQUEST_TIMEOUT_SECONDS * 3,
            ),
        )
        records = {}
        for obj in listing.get("items", []):
            record = record_from_object(obj)
            if record is not None:
                records[record.export_id] = record
        with self._lock:
            self._records = records
            self._tombstones &= set(records)
        self._synced.set()
        CACHE_LISTS.inc()
        CACHED_EXPORTS.set(len(records))
        resource_version: str = listing["metadata"]["resourceVersion"]
        log.info("export cache listed", extra={"exports": len(records)})
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
            if kind == "DELETED":
                self._records.pop(record.export_id, None)
                self._tombstones.discard(record.export_id)
            else:
                self._records[record.export_id] = record
            CACHED_EXPORTS.set(len(self._records))
