"""A pod's API identity: a kubeconfig holding a token of the pod's service account.

A container process gets `KUBECONFIG` pointing at this file instead of the in-cluster token mount,
so `kubernetes.config.load_kube_config()` (and kopf) act as the pod's service account and RBAC
applies to what the pod does. The server and CA come from the agent's own (admin) kubeconfig.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from local_cluster.node_agent.manifest import Pod


@dataclass(frozen=True)
class ClusterEndpoint:
    server: str
    certificate_authority_data: str | None
    certificate_authority: str | None


def cluster_endpoint(admin_kubeconfig: Path) -> ClusterEndpoint:
    """The current context's API server and CA in `admin_kubeconfig`."""
    document: dict[str, Any] = yaml.safe_load(admin_kubeconfig.read_text())
    contexts = {entry["name"]: entry["context"] for entry in document.get("contexts") or []}
    clusters = {entry["name"]: entry["cluster"] for entry in document.get("clusters") or []}
    current = document.get("current-context") or next(iter(contexts), None)
    if current is None or current not in contexts:
        raise ValueError(
            f"{admin_kubeconfig} has no current context; pass a kubeconfig that kubectl can use"
        )
    cluster = clusters[contexts[current]["cluster"]]
    authority = cluster.get("certificate-authority")
    if authority is not None:
        # Relative paths in a kubeconfig are relative to the kubeconfig's folder.
        authority = str((admin_kubeconfig.parent / authority).resolve())
    return ClusterEndpoint(cluster["server"], cluster.get("certificate-authority-data"), authority)


def automounts_token(pod: Pod, service_account: dict[str, Any] | None) -> bool:
    """The pod's setting wins over the service account's; the default is to mount."""
    if pod.spec.automount_service_account_token is not None:
        return pod.spec.automount_service_account_token
    if service_account is not None:
        return bool(service_account.get("automountServiceAccountToken", True))
    return True


def write_pod_kubeconfig(path: Path, endpoint: ClusterEndpoint, pod: Pod, token: str) -> Path:
    """Writes (mode 0600) a kubeconfig for the pod's service account in the pod's namespace."""
    cluster: dict[str, str] = {"server": endpoint.server}
    if endpoint.certificate_authority_data:
        cluster["certificate-authority-data"] = endpoint.certificate_authority_data
    elif endpoint.certificate_authority:
        cluster["certificate-authority"] = endpoint.certificate_authority
    user = f"system:serviceaccount:{pod.metadata.namespace}:{pod.service_account}"
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": cluster}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [
            {
                "name": "pod",
                "context": {"cluster": "local", "user": user, "namespace": pod.metadata.namespace},
            }
        ],
        "current-context": "pod",
    }
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path
