"""CompanyExport objects in the API server: create, read, find by Idempotency-Key, label, delete.

Every call blocks: run it from a worker thread.
"""

import hashlib
from datetime import datetime
from typing import Any, cast

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError

from export_contracts.resource import (
    API_VERSION,
    ARCHIVED_LABEL,
    GROUP,
    KIND,
    PLURAL,
    VERSION,
    CompanyExportSpec,
    labels,
    resource_name,
)

_HTTP_CONFLICT = 409
_HTTP_NOT_FOUND = 404
# Bounds each request to the API server, so a hung connection cannot hold a client request.
# (connect, read): a down API server must fail a request within seconds (503 with Retry-After),
# not hold the client while a connection attempt waits out the kernel's SYN retries.
_REQUEST_TIMEOUT_SECONDS = (3, 10)
# One retry of a failed connection; urllib3's default three multiply every wait above.
_CONNECTION_RETRIES = 1
# Finds the object an Idempotency-Key made when the API died before committing the key's row.
IDEMPOTENCY_LABEL = f"{GROUP}/idempotency-key"


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
    configuration = client.Configuration()
    if kubeconfig:
        config.load_kube_config(config_file=kubeconfig, client_configuration=configuration,
                                persist_config=False)  # fmt: skip
    else:
        config.load_incluster_config(client_configuration=configuration)
    configuration.retries = _CONNECTION_RETRIES
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
        items = cast(dict[str, Any], found).get("items", [])
        matching = [
            spec
            for obj in items
            if (spec := _spec_of(obj)) is not None
            and spec.space_id == space_id
            and spec.idempotency_key == key
            and datetime.fromisoformat(obj["metadata"]["creationTimestamp"]) > created_after
        ]
        return max(matching, key=lambda spec: spec.export_id) if matching else None

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

    def label_archived(self, export_id: int) -> bool:
        """Marks the object archived (its row is in PostgreSQL); False if it is gone already."""
        patch = {"metadata": {"labels": {ARCHIVED_LABEL: "true"}}}
        try:
            self._objects.patch_namespaced_custom_object(
                GROUP, VERSION, self._namespace, PLURAL, resource_name(export_id), patch,
                _request_timeout=_REQUEST_TIMEOUT_SECONDS,
            )  # fmt: skip
        except ApiException as error:
            if error.status == _HTTP_NOT_FOUND:
                return False
            raise
        return True

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
        """Raises unless the API server answers (readiness reports it)."""
        self._version.get_code(_request_timeout=1)


def _spec_of(obj: dict[str, Any]) -> CompanyExportSpec | None:
    try:
        return CompanyExportSpec.model_validate(obj.get("spec", {}))
    except ValidationError:
        return None
