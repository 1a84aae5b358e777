"""The agent's Node: registered Ready, kept Ready by a Lease heartbeat, so nothing evicts its pods.

The node lifecycle controller marks a node Unknown (and taints it, which evicts pods) when neither
its Lease nor its Ready condition was renewed within the grace period (about 50 s): the agent
renews the Lease every `LEASE_RENEW_SECONDS` and rewrites the Ready condition every
`STATUS_SECONDS`, as the kubelet does.
"""

import logging
import os
import platform
import threading
from datetime import UTC, datetime
from typing import Any

from local_cluster.node_agent.api import NodeApi
from local_cluster.node_agent.environment import POD_IP, NodeCapacity
from local_cluster.node_agent.status import timestamp

log = logging.getLogger(__name__)

LEASE_SECONDS = 40
LEASE_RENEW_SECONDS = 10.0
STATUS_SECONDS = 60.0
MAX_PODS = 110


def node_capacity() -> NodeCapacity:
    """This machine's CPUs and memory, which the Node reports and resourceFieldRef falls back to."""
    memory_kib = 0
    with open("/proc/meminfo") as meminfo:  # noqa: PTH123 - a proc file, read line by line
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
                break
    storage = os.statvfs("/")
    return NodeCapacity(
        cpu=str(os.cpu_count() or 1),
        memory=f"{memory_kib}Ki",
        ephemeral_storage=f"{storage.f_blocks * storage.f_frsize // 1024}Ki",
    )


def node_manifest(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64" if platform.machine() == "x86_64" else "arm64",
                "node.kubernetes.io/instance-type": "local-process",
            },
        },
        "spec": {},
    }


def node_status(capacity: NodeCapacity, name: str) -> dict[str, Any]:
    beat = timestamp(datetime.now(UTC))
    resources = {
        "cpu": capacity.cpu,
        "memory": capacity.memory,
        "ephemeral-storage": capacity.ephemeral_storage,
        "pods": str(MAX_PODS),
    }

    def condition(kind: str, status: str, reason: str, message: str) -> dict[str, str]:
        return {
            "type": kind,
            "status": status,
            "reason": reason,
            "message": message,
            "lastHeartbeatTime": beat,
            "lastTransitionTime": beat,
        }

    return {
        "capacity": resources,
        "allocatable": resources,
        "conditions": [
            condition("Ready", "True", "KubeletReady", "local node agent is posting ready status"),
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "no pressure"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "no pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "no pressure"),
        ],
        "addresses": [
            {"type": "InternalIP", "address": POD_IP},
            {"type": "Hostname", "address": name},
        ],
        "nodeInfo": {
            "machineID": "",
            "systemUUID": "",
            "bootID": "",
            "kernelVersion": platform.release(),
            "osImage": "local processes",
            "containerRuntimeVersion": "local-process://1",
            "kubeletVersion": "v0.0.0-local-node-agent",
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": node_manifest(name)["metadata"]["labels"]["kubernetes.io/arch"],
        },
    }


def lease_manifest(name: str, node_uid: str) -> dict[str, Any]:
    renewed = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # MicroTime
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": name,
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "Node", "name": name, "uid": node_uid}
            ],
        },
        "spec": {
            "holderIdentity": name,
            "leaseDurationSeconds": LEASE_SECONDS,
            "renewTime": renewed,
        },
    }


class NodeHeartbeat:
    """Registers the Node and keeps it Ready from a daemon thread until `stop` is set."""

    def __init__(self, api: NodeApi, name: str, capacity: NodeCapacity) -> None:
        self._api, self._name, self._capacity = api, name, capacity
        self._node_uid = ""

    def register(self) -> None:
        """Creates the Node with a Ready status and its Lease; returns when both are written."""
        self._api.ensure_node(node_manifest(self._name))
        self._api.patch_node_status(self._name, node_status(self._capacity, self._name))
        self._node_uid = self._api.untaint_node(self._name)
        self._api.renew_lease(lease_manifest(self._name, self._node_uid))

    def run(self, stop: threading.Event) -> None:
        since_status = 0.0
        while not stop.wait(LEASE_RENEW_SECONDS):
            since_status += LEASE_RENEW_SECONDS
            try:
                self._api.renew_lease(lease_manifest(self._name, self._node_uid))
                if since_status >= STATUS_SECONDS:
                    self._api.patch_node_status(self._name, node_status(self._capacity, self._name))
                    since_status = 0.0
            except Exception:
                # A missed beat is retried at the next; the grace period covers several.
                log.warning("node heartbeat failed; retrying", exc_info=True)
