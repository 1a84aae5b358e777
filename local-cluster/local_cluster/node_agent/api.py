"""The Kubernetes API calls the node agent makes, on the `kubernetes` client, in the API's JSON.

Requests go through the client's `ApiClient` (kubeconfig, TLS, auth) with JSON bodies and JSON
answers, not through the generated typed APIs: importing `CoreV1Api` and validating its models
costs about a second, which would delay the Node's readiness, and the agent parses the few fields
it reads into its own models anyway. The pod watch is the client's `Watch` on `CoreV1Api`, imported
by the watch thread once the Node is Ready.
"""

import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from kubernetes import config
from kubernetes.client.exceptions import ApiException

from local_cluster.node_agent.environment import decode_secret_data

log = logging.getLogger(__name__)

# Tokens for pods live as long as the kubelet asks (it asks for 3607 s; the apiserver then
# extends them to a year by default, and binds them to the pod so they die with it).
TOKEN_SECONDS = 3607
NODE_LEASE_NAMESPACE = "kube-node-lease"
REQUEST_SECONDS = 30
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"


class PodGoneError(Exception):
    """The pod no longer exists, or a new pod with a different uid took its name."""


def is_status(error: Exception, *codes: int) -> bool:
    return isinstance(error, ApiException) and error.status in codes


class NodeApi:
    """One API client (the admin kubeconfig's identity) shared by all of the agent's threads."""

    def __init__(self, kubeconfig: str) -> None:
        self._client = config.new_client_from_config(kubeconfig)

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: list[tuple[str, Any]] | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        """One request; the answer's JSON, or ApiException for a status outside 2xx."""
        _, url, headers, body, _ = self._client.param_serialize(
            method=method,
            resource_path=path,
            query_params=query,
            header_params={"Accept": "application/json", "Content-Type": content_type},
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self._client.call_api(
            method, url, header_params=headers, body=body, _request_timeout=REQUEST_SECONDS
        )
        response.read()
        if not 200 <= response.status <= 299:
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        document: dict[str, Any] = json.loads(response.data)
        return document

    def _read(self, path: str) -> dict[str, Any] | None:
        try:
            return self._request("GET", path)
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    # --- pods -------------------------------------------------------------------------------

    def list_pods(self) -> tuple[list[dict[str, Any]], str]:
        """Every pod in the cluster and the list's resourceVersion to watch from."""
        listing = self._request("GET", "/api/v1/pods")
        return listing.get("items") or [], listing["metadata"]["resourceVersion"]

    def watch_pods(self, resource_version: str, timeout_seconds: int) -> Iterator[dict[str, Any]]:
        """Raw watch events (`type`, `object`) from `resource_version`; raises 410 when too old."""
        # Imported here, by the watch thread, so that the slow import does not delay readiness.
        from kubernetes import client, watch

        stream = watch.Watch().stream(
            client.CoreV1Api(self._client).list_pod_for_all_namespaces,
            resource_version=resource_version,
            timeout_seconds=timeout_seconds,
            allow_watch_bookmarks=True,
            deserialize=False,
            _request_timeout=timeout_seconds + 15,
        )
        for event in stream:
            if event["type"] == "ERROR":
                status = event["object"]
                raise ApiException(status=status.get("code"), reason=status.get("message"))
            yield event

    def bind(self, namespace: str, name: str, node: str) -> None:
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": name},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        self._request("POST", f"/api/v1/namespaces/{namespace}/pods/{name}/binding", binding)

    def patch_pod_status(self, namespace: str, name: str, uid: str, status: dict[str, Any]) -> None:
        """Replaces the fields of `status` it names (a JSON merge patch replaces lists whole).

        The uid in the patch makes it fail, rather than touch a newer pod of the same name.
        """
        path = f"/api/v1/namespaces/{namespace}/pods/{name}/status"
        body = {"metadata": {"uid": uid}, "status": status}
        try:
            self._request("PATCH", path, body, content_type=MERGE_PATCH)
        except ApiException as error:
            if error.status in (404, 409, 422) and self._uid_of(namespace, name) != uid:
                raise PodGoneError(f"{namespace}/{name}") from error
            raise

    def delete_pod_now(self, namespace: str, name: str, uid: str) -> None:
        """Deletes the pod with no grace period (its processes are gone), if it is still `uid`."""
        options = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "gracePeriodSeconds": 0,
            "preconditions": {"uid": uid},
        }
        try:
            self._request("DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}", options)
        except ApiException as error:
            if error.status not in (404, 409):
                raise

    def _uid_of(self, namespace: str, name: str) -> str | None:
        pod = self._read(f"/api/v1/namespaces/{namespace}/pods/{name}")
        return None if pod is None else str(pod["metadata"]["uid"])

    # --- what containers need -----------------------------------------------------------------

    def secret(self, namespace: str, name: str) -> Mapping[str, str] | None:
        found = self._read(f"/api/v1/namespaces/{namespace}/secrets/{name}")
        return None if found is None else decode_secret_data(found.get("data"))

    def config_map(self, namespace: str, name: str) -> Mapping[str, str] | None:
        found = self._read(f"/api/v1/namespaces/{namespace}/configmaps/{name}")
        if found is None:
            return None
        return {**decode_secret_data(found.get("binaryData")), **(found.get("data") or {})}

    def service_account(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._read(f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}")

    def request_token(self, namespace: str, account: str, pod_name: str, pod_uid: str) -> str:
        """A token for `account`, bound to the pod (invalid once the pod is deleted)."""
        request = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "audiences": [],  # empty: the apiserver's own audiences
                "expirationSeconds": TOKEN_SECONDS,
                "boundObjectRef": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": pod_name,
                    "uid": pod_uid,
                },
            },
        }
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token"
        answer = self._request("POST", path, request)
        return str(answer["status"]["token"])

    # --- the node -----------------------------------------------------------------------------

    def ensure_node(self, manifest: dict[str, Any]) -> None:
        """Creates the Node unless it exists (from an earlier run of the agent)."""
        try:
            self._request("POST", "/api/v1/nodes", manifest)
        except ApiException as error:
            if error.status != 409:
                raise

    def untaint_node(self, name: str) -> str:
        """Clears the node's taints and unschedulable flag; returns the node's uid.

        The apiserver's TaintNodesByCondition admission taints a new node not-ready, and only
        the node lifecycle controller (which the local cluster does not run) would lift it.
        """
        patch = {"spec": {"taints": None, "unschedulable": None}}
        node = self._request("PATCH", f"/api/v1/nodes/{name}", patch, content_type=MERGE_PATCH)
        return str(node["metadata"]["uid"])

    def patch_node_status(self, name: str, status: dict[str, Any]) -> None:
        path = f"/api/v1/nodes/{name}/status"
        self._request("PATCH", path, {"status": status}, content_type=STRATEGIC_MERGE_PATCH)

    def renew_lease(self, manifest: dict[str, Any]) -> None:
        """Renews the node's Lease (the heartbeat the node controller watches), creating it once."""
        leases = f"/apis/coordination.k8s.io/v1/namespaces/{NODE_LEASE_NAMESPACE}/leases"
        name = manifest["metadata"]["name"]
        try:
            patch = {"spec": manifest["spec"]}
            self._request("PATCH", f"{leases}/{name}", patch, content_type=MERGE_PATCH)
        except ApiException as error:
            if error.status != 404:
                raise
            self._request("POST", leases, manifest)
