"""The Kubernetes API calls the node agent makes, on the `kubernetes` client, in the API's JSON.

Responses are read raw (`_preload_content=False`) and returned as the API's JSON dicts: the agent
parses the few fields it reads into its own models, and the client's model classes never see a
subresource answer they cannot deserialize (pods/binding answers with a Status, not a Binding).
"""

import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from local_cluster.node_agent.environment import decode_secret_data

log = logging.getLogger(__name__)

# Tokens for pods live as long as the kubelet asks (it asks for 3607 s; the apiserver then
# extends them to a year by default, and binds them to the pod so they die with it).
TOKEN_SECONDS = 3607
NODE_LEASE_NAMESPACE = "kube-node-lease"


_Model = TypeVar("_Model")


def _model(kind: type[_Model], manifest: dict[str, Any]) -> _Model:
    """The client's model of a manifest in the API's JSON."""
    built = kind.from_dict(manifest)  # type: ignore[attr-defined]
    if built is None:
        raise ValueError(f"cannot build a {kind.__name__} from {manifest!r}")
    return built  # type: ignore[no-any-return]


class PodGoneError(Exception):
    """The pod no longer exists, or a new pod with a different uid took its name."""


def is_status(error: Exception, *codes: int) -> bool:
    return isinstance(error, ApiException) and error.status in codes


class NodeApi:
    """One API client (the admin kubeconfig's identity) shared by all of the agent's threads."""

    def __init__(self, kubeconfig: str) -> None:
        self._client = config.new_client_from_config(kubeconfig)
        self.core = client.CoreV1Api(self._client)
        self.leases = client.CoordinationV1Api(self._client)

    @staticmethod
    def _json(response: Any) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(response.data)
        return document

    # --- pods -------------------------------------------------------------------------------

    def list_pods(self) -> tuple[list[dict[str, Any]], str]:
        """Every pod in the cluster and the list's resourceVersion to watch from."""
        listing = self._json(
            self.core.list_pod_for_all_namespaces(_preload_content=False, _request_timeout=30)
        )
        return listing.get("items") or [], listing["metadata"]["resourceVersion"]

    def watch_pods(self, resource_version: str, timeout_seconds: int) -> Iterator[dict[str, Any]]:
        """Raw watch events (`type`, `object`) from `resource_version`; raises 410 when too old."""
        stream = watch.Watch().stream(
            self.core.list_pod_for_all_namespaces,
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
        binding = client.V1Binding(
            metadata=client.V1ObjectMeta(name=name),
            target=client.V1ObjectReference(api_version="v1", kind="Node", name=node),
        )
        self.core.create_namespaced_pod_binding(name, namespace, binding, _preload_content=False)

    def patch_pod_status(self, namespace: str, name: str, uid: str, status: dict[str, Any]) -> None:
        """Replaces the fields of `status` it names (a JSON merge patch replaces lists whole).

        The uid in the patch makes it fail, rather than touch a newer pod of the same name.
        """
        body = {"metadata": {"uid": uid}, "status": status}
        try:
            self.core.patch_namespaced_pod_status(
                name,
                namespace,
                body,
                _content_type="application/merge-patch+json",
                _preload_content=False,
            )
        except ApiException as error:
            if error.status in (404, 409, 422) and self._uid_of(namespace, name) != uid:
                raise PodGoneError(f"{namespace}/{name}") from error
            raise

    def delete_pod_now(self, namespace: str, name: str, uid: str) -> None:
        """Deletes the pod with no grace period (its processes are gone), if it is still `uid`."""
        options = client.V1DeleteOptions(
            grace_period_seconds=0, preconditions=client.V1Preconditions(uid=uid)
        )
        try:
            self.core.delete_namespaced_pod(
                name, namespace, body=options, grace_period_seconds=0, _preload_content=False
            )
        except ApiException as error:
            if error.status not in (404, 409):
                raise

    def _uid_of(self, namespace: str, name: str) -> str | None:
        try:
            pod = self._json(self.core.read_namespaced_pod(name, namespace, _preload_content=False))
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        uid: str = pod["metadata"]["uid"]
        return uid

    # --- what containers need -----------------------------------------------------------------

    def secret(self, namespace: str, name: str) -> Mapping[str, str] | None:
        found = self._read(self.core.read_namespaced_secret, namespace, name)
        return None if found is None else decode_secret_data(found.get("data"))

    def config_map(self, namespace: str, name: str) -> Mapping[str, str] | None:
        found = self._read(self.core.read_namespaced_config_map, namespace, name)
        if found is None:
            return None
        return {**decode_secret_data(found.get("binaryData")), **(found.get("data") or {})}

    def service_account(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._read(self.core.read_namespaced_service_account, namespace, name)

    def request_token(self, namespace: str, account: str, pod_name: str, pod_uid: str) -> str:
        """A token for `account`, bound to the pod (invalid once the pod is deleted)."""
        request = client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(
                audiences=[],  # empty: the apiserver's own audiences
                expiration_seconds=TOKEN_SECONDS,
                bound_object_ref=client.V1BoundObjectReference(
                    api_version="v1", kind="Pod", name=pod_name, uid=pod_uid
                ),
            )
        )
        answer = self._json(
            self.core.create_namespaced_service_account_token(
                account, namespace, request, _preload_content=False
            )
        )
        token: str = answer["status"]["token"]
        return token

    def _read(self, read: Any, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self._json(read(name, namespace, _preload_content=False))
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    # --- the node -----------------------------------------------------------------------------

    def ensure_node(self, manifest: dict[str, Any]) -> None:
        """Creates the Node unless it exists (from an earlier run of the agent)."""
        try:
            self.core.create_node(_model(client.V1Node, manifest), _preload_content=False)
        except ApiException as error:
            if error.status != 409:
                raise

    def untaint_node(self, name: str) -> str:
        """Clears the node's taints and unschedulable flag; returns the node's uid.

        The apiserver's TaintNodesByCondition admission taints a new node not-ready, and only
        the node lifecycle controller (which the local cluster does not run) would lift it.
        """
        node = self._json(
            self.core.patch_node(
                name,
                {"spec": {"taints": None, "unschedulable": None}},
                _content_type="application/merge-patch+json",
                _preload_content=False,
            )
        )
        uid: str = node["metadata"]["uid"]
        return uid

    def patch_node_status(self, name: str, status: dict[str, Any]) -> None:
        self.core.patch_node_status(
            name,
            {"status": status},
            _content_type="application/strategic-merge-patch+json",
            _preload_content=False,
        )

    def renew_lease(self, manifest: dict[str, Any]) -> None:
        """Renews the node's Lease (the heartbeat the node controller watches), creating it once."""
        name = manifest["metadata"]["name"]
        try:
            self.leases.patch_namespaced_lease(
                name,
                NODE_LEASE_NAMESPACE,
                {"spec": manifest["spec"]},
                _content_type="application/merge-patch+json",
                _preload_content=False,
            )
        except ApiException as error:
            if error.status != 404:
                raise
            self.leases.create_namespaced_lease(
                NODE_LEASE_NAMESPACE, _model(client.V1Lease, manifest), _preload_content=False
            )
