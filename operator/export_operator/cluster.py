"""The operator's Kubernetes API calls, in the wire form (plain dicts).

Everything kopf does not do for us: create and read the export's Job, list and resume Jobs for
admission, read a Job's Pods, and write the export's status with optimistic concurrency.
"""

import json
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from export_contracts import resource
from export_operator.jobs import JOB_NAME_LABEL, JobView, Owner

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
# Seconds before a call to the apiserver gives up; a handler then retries later.
REQUEST_TIMEOUT = 30
MANAGED_SELECTOR = f"{resource.MANAGED_BY_LABEL}={resource.MANAGED_BY}"
ARCHIVED_SELECTOR = f"{resource.ARCHIVED_LABEL}=true"
# Archived exports are listed in pages of this many, so that a day of them never sits in memory.
ARCHIVED_PAGE = 500
# One watch of archived exports lasts this long on the server; the next resumes where it ended.
ARCHIVED_WATCH_SECONDS = 240


@dataclass
class WatchCursor:
    """Where a watch of archived exports resumes: a resourceVersion, or None to list them all."""

    resource_version: str | None = None


class ConflictError(Exception):
    """The object changed since it was read; read it again and retry."""


def _body(response: Any) -> dict[str, Any]:
    return dict(json.loads(response.data))


def _status(error: ApiException) -> int:
    return int(error.status or 0)


def said(error: ApiException) -> str:
    """What the API answered, for a log line or an Event: the code and the message of its Status
    (the reason alone when the body is not one, e.g. a proxy's error page)."""
    try:
        message = json.loads(error.body or "")["message"]
    except (ValueError, TypeError, KeyError):
        message = error.reason
    return f"{_status(error)}: {message}"


class Cluster:
    def __init__(self, api_client: client.ApiClient, namespace: str | None) -> None:
        self._batch = client.BatchV1Api(api_client)
        self._core = client.CoreV1Api(api_client)
        self._custom = client.CustomObjectsApi(api_client)
        self._namespace = namespace

    @classmethod
    def connect(cls, namespace: str | None) -> "Cluster":
        """Connects as the Pod's service account in a cluster, else through KUBECONFIG."""
        configuration = client.Configuration()
        config.load_config(client_configuration=configuration)
        # kopf runs sync handlers in a thread pool; each thread may hold a connection.
        configuration.connection_pool_maxsize = 16
        return cls(client.ApiClient(configuration), namespace)

    def get_export(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return _body(
                self._custom.get_namespaced_custom_object(
                    resource.GROUP,
                    resource.VERSION,
                    namespace,
                    resource.PLURAL,
                    name,
                    _preload_content=False,
                    _request_timeout=REQUEST_TIMEOUT,
                )
            )
        except ApiException as error:
            if _status(error) == 404:
                return None
            raise

    def patch_export_status(
        self, namespace: str, name: str, resource_version: str, status: dict[str, Any]
    ) -> dict[str, Any]:
        """Merge-patches the status if the object is still at `resource_version`."""
        body = {"metadata": {"resourceVersion": resource_version}, "status": status}
        try:
            return _body(
                self._custom.patch_namespaced_custom_object_status(
                    resource.GROUP,
                    resource.VERSION,
                    namespace,
                    resource.PLURAL,
                    name,
                    body,
                    _content_type=MERGE_PATCH,
                    _preload_content=False,
                    _request_timeout=REQUEST_TIMEOUT,
                )
            )
        except ApiException as error:
            if _status(error) == 409:
                raise ConflictError(f"{namespace}/{name} changed meanwhile") from error
            raise

    def delete_export(self, owner: Owner) -> None:
        """Deletes the export's object if it is still this one (uid); its finalizer runs next."""
        try:
            self._custom.delete_namespaced_custom_object(
                resource.GROUP,
                resource.VERSION,
                owner.namespace,
                resource.PLURAL,
                owner.name,
                body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid=owner.uid)),
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as error:
            if _status(error) not in (404, 409):
                raise

    def archived_changes(self, cursor: WatchCursor) -> Iterator[tuple[str, dict[str, Any]]]:
        """Watch events ("ADDED", "MODIFIED", "DELETED") of archived exports, for one watch of
        ARCHIVED_WATCH_SECONDS from `cursor`, which it moves along. A cursor without a version
        starts with every archived export as ADDED (read a page at a time); one the server has
        forgotten (410) is reset, so that the next call reads them all again."""
        if cursor.resource_version is None:
            listed_at = yield from self._archived_pages()
            cursor.resource_version = listed_at
        events = watch.Watch().stream(
            self._list_archived(),
            resource_version=cursor.resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=ARCHIVED_WATCH_SECONDS,
            _request_timeout=ARCHIVED_WATCH_SECONDS + REQUEST_TIMEOUT,
        )
        try:
            for event in events:
                body = dict(event["raw_object"])
                cursor.resource_version = body["metadata"]["resourceVersion"]
                if event["type"] != "BOOKMARK":
                    yield event["type"], body
        except ApiException as error:
            if _status(error) != 410:
                raise
            cursor.resource_version = None

    def _archived_pages(self) -> Generator[tuple[str, dict[str, Any]], None, str]:
        """Every archived export as ADDED, a page at a time; returns the listing's version."""
        list_archived = self._list_archived()
        token: str | None = None
        while True:
            page = _body(list_archived(limit=ARCHIVED_PAGE, _continue=token))
            for body in page["items"]:
                yield "ADDED", body
            token = page["metadata"].get("continue")
            if not token:
                return str(page["metadata"]["resourceVersion"])

    def _list_archived(self) -> Callable[..., Any]:
        """The list call of archived exports in the operator's scope, for pages and watches."""
        if self._namespace:
            call = partial(
                self._custom.list_namespaced_custom_object,
                resource.GROUP,
                resource.VERSION,
                self._namespace,
                resource.PLURAL,
            )
        else:
            call = partial(
                self._custom.list_cluster_custom_object,
                resource.GROUP,
                resource.VERSION,
                resource.PLURAL,
            )
        return partial(
            call,
            label_selector=ARCHIVED_SELECTOR,
            _preload_content=False,
            _request_timeout=REQUEST_TIMEOUT,
        )

    def remove_finalizer(self, body: dict[str, Any]) -> None:
        """Removes the operator's finalizer from the export as read (`body`), so its deletion ends.
        The patch tests the uid and the finalizer's place first: a changed object is left alone."""
        metadata = body["metadata"]
        finalizers = metadata.get("finalizers") or []
        if resource.FINALIZER not in finalizers:
            return
        place = f"/metadata/finalizers/{finalizers.index(resource.FINALIZER)}"
        patch = [
            {"op": "test", "path": "/metadata/uid", "value": metadata["uid"]},
            {"op": "test", "path": place, "value": resource.FINALIZER},
            {"op": "remove", "path": place},
        ]
        try:
            self._custom.patch_namespaced_custom_object(
                resource.GROUP,
                resource.VERSION,
                metadata["namespace"],
                resource.PLURAL,
                metadata["name"],
                patch,
                _content_type=JSON_PATCH,
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as error:
            if _status(error) not in (404, 409, 422):  # gone, or changed: the next pass looks again
                raise

    def create_event(self, manifest: dict[str, Any]) -> bool:
        """Creates the Event; False when one of its name exists already (409)."""
        try:
            self._core.create_namespaced_event(
                manifest["metadata"]["namespace"],
                cast("Any", manifest),
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as error:
            if _status(error) == 409:
                return False
            raise
        return True

    def create_job(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Creates the Job, or returns the one that already has its name (409: it exists)."""
        namespace, name = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
        try:
            return _body(
                self._batch.create_namespaced_job(
                    # The client serializes a dict as it is; a V1Job would round-trip for nothing.
                    namespace,
                    cast("Any", manifest),
                    _preload_content=False,
                    _request_timeout=REQUEST_TIMEOUT,
                )
            )
        except ApiException as error:
            if _status(error) != 409:
                raise
        existing = self.get_job(namespace, name)
        if existing is None:
            raise ConflictError(f"Job {namespace}/{name} existed a moment ago and is gone now")
        return existing

    def get_job(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return _body(
                self._batch.read_namespaced_job(
                    name, namespace, _preload_content=False, _request_timeout=REQUEST_TIMEOUT
                )
            )
        except ApiException as error:
            if _status(error) == 404:
                return None
            raise

    def delete_job(self, namespace: str, name: str) -> None:
        """Deletes the Job and, before it, its Pods (foreground), so no exporter outlives it."""
        try:
            self._batch.delete_namespaced_job(
                name,
                namespace,
                propagation_policy="Foreground",
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as error:
            if _status(error) != 404:
                raise

    def list_export_jobs(self) -> list[JobView]:
        """Every export Job the operator manages, read from the apiserver (not a cache)."""
        if self._namespace:
            response = self._batch.list_namespaced_job(
                self._namespace,
                label_selector=MANAGED_SELECTOR,
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT,
            )
        else:
            response = self._batch.list_job_for_all_namespaces(
                label_selector=MANAGED_SELECTOR,
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT,
            )
        return [JobView.of(job) for job in _body(response)["items"]]

    def resume_job(self, job: JobView) -> None:
        """Lets the Job controller start the Job's Pod; a Job deleted meanwhile is left alone."""
        try:
            self._batch.patch_namespaced_job(
                job.name,
                job.namespace,
                {"spec": {"suspend": False}},
                _content_type=MERGE_PATCH,
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as error:
            if _status(error) != 404:
                raise

    def job_pods(self, namespace: str, job_name: str) -> list[dict[str, Any]]:
        response = self._core.list_namespaced_pod(
            namespace,
            label_selector=f"{JOB_NAME_LABEL}={job_name}",
            _preload_content=False,
            _request_timeout=REQUEST_TIMEOUT,
        )
        return list(_body(response)["items"])
