"""etcd, kube-apiserver and kube-controller-manager on 127.0.0.1: envtest plus the controllers."""

import ssl
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from local_cluster.binaries import Binaries
from local_cluster.kubeconfig import write_kubeconfig
from local_cluster.pki import ClusterPki
from local_cluster.process import Launcher, Server, free_port

SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
# The controllers the product and its tests rely on: Jobs run and finish, owners collect their
# children, finished Jobs expire, Deployments roll, namespaces delete, service accounts get tokens.
CONTROLLERS = (
    "job-controller",
    "garbage-collector-controller",
    "ttl-after-finished-controller",
    "deployment-controller",
    "replicaset-controller",
    "namespace-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "pod-garbage-collector-controller",
    "disruption-controller",
    "cronjob-controller",
)


@dataclass
class ControlPlane:
    etcd: Server
    apiserver: Server
    controller_manager: Server
    apiserver_port: int
    admin_kubeconfig: Path
    etcd_port: int

    @property
    def servers(self) -> list[Server]:
        """In the order they must stop: dependents first."""
        return [self.controller_manager, self.apiserver, self.etcd]

    @property
    def server_url(self) -> str:
        return f"https://127.0.0.1:{self.apiserver_port}"


def start_etcd(launcher: Launcher, binaries: Binaries, data_dir: Path) -> tuple[Server, int]:
    client_port, peer_port = free_port(), free_port()
    server = launcher.start(
        "etcd",
        [binaries.etcd, f"--data-dir={data_dir}", f"--listen-client-urls=http://127.0.0.1:{client_port}",
         f"--advertise-client-urls=http://127.0.0.1:{client_port}",
         f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
         f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
         f"--initial-cluster=default=http://127.0.0.1:{peer_port}",
         "--unsafe-no-fsync=true", "--log-level=warn"],
    )  # fmt: skip
    server.wait_until(lambda: _http_ok(f"http://127.0.0.1:{client_port}/health"), timeout=30)
    return server, client_port


def start_apiserver(
    launcher: Launcher,
    binaries: Binaries,
    pki: ClusterPki,
    etcd_port: int,
    port: int | None = None,
) -> tuple[Server, int]:
    """Starts kube-apiserver on `port` (a restart reuses the old one, so kubeconfigs stay valid)."""
    port = port or free_port()
    server = launcher.start(
        "kube-apiserver",
        [binaries.kube_apiserver, f"--etcd-servers=http://127.0.0.1:{etcd_port}",
         f"--secure-port={port}", "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
         f"--tls-cert-file={pki.apiserver_cert}", f"--tls-private-key-file={pki.apiserver_key}",
         f"--client-ca-file={pki.ca_cert}", "--authorization-mode=RBAC",
         f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
         f"--service-account-key-file={pki.service_account_public_key}",
         f"--service-account-signing-key-file={pki.service_account_key}",
         "--service-cluster-ip-range=10.0.0.0/24", "--allow-privileged=true",
         "--endpoint-reconciler-type=none", "--enable-priority-and-fairness=false",
         "--profiling=false", "--v=1"],
    )  # fmt: skip
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    server.wait_until(lambda: _http_ok(f"https://127.0.0.1:{port}/readyz", context), timeout=90)
    return server, port


def start_controller_manager(
    launcher: Launcher, binaries: Binaries, pki: ClusterPki, kubeconfig: Path
) -> Server:
    return launcher.start(
        "kube-controller-manager",
        [binaries.kube_controller_manager, f"--kubeconfig={kubeconfig}",
         f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
         "--leader-elect=false", f"--controllers={','.join(CONTROLLERS)}",
         f"--service-account-private-key-file={pki.service_account_key}",
         f"--root-ca-file={pki.ca_cert}", "--use-service-account-credentials=false",
         f"--secure-port={free_port()}", "--bind-address=127.0.0.1", "--v=1"],
    )  # fmt: skip


def start_control_plane(
    launcher: Launcher, binaries: Binaries, pki: ClusterPki, state_dir: Path
) -> ControlPlane:
    """Starts the three servers in order and writes the admin kubeconfig."""
    etcd, etcd_port = start_etcd(launcher, binaries, state_dir / "etcd")
    apiserver, port = start_apiserver(launcher, binaries, pki, etcd_port)
    kubeconfig = write_kubeconfig(
        state_dir / "admin.kubeconfig",
        server=f"https://127.0.0.1:{port}",
        ca_cert=pki.ca_cert,
        user="company-exports-admin",
        client_cert=pki.admin_cert,
        client_key=pki.admin_key,
    )
    controller_manager = start_controller_manager(launcher, binaries, pki, kubeconfig)
    return ControlPlane(etcd, apiserver, controller_manager, port, kubeconfig, etcd_port)


def _http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310
        return bool(response.status == 200)
