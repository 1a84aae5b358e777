"""The control plane: etcd (on 127.0.0.1), kube-apiserver (on the machine's end of the node's link,
where the node and its Pods reach it), kube-controller-manager and kube-scheduler."""

import ssl
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from local_cluster.binaries import Binaries
from local_cluster.kubeconfig import write_kubeconfig
from local_cluster.node_network import NodeNetwork
from local_cluster.pki import ClusterPki, issue_certificate
from local_cluster.process import Launcher, Server, free_port, free_port_or

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
    # Runs the chart's optional DaemonSet that pre-pulls the exporter's image (exporter.prePull).
    "daemonset-controller",
    # What a real node needs: Service endpoints for kube-proxy and CoreDNS, the CA bundle every
    # Pod's service-account volume projects.
    "endpointslice-controller",
    "endpoints-controller",
    "root-ca-certificate-publisher-controller",
    # Lifts the not-ready taint a kubelet registers its Node with, once the Node is Ready.
    "node-lifecycle-controller",
    # Fills the built-in view, edit and admin ClusterRoles from the roles labelled to aggregate
    # into them (the chart's CompanyExport roles among them); without it they grant nothing.
    "clusterrole-aggregation-controller",
    # Type-checks ValidatingAdmissionPolicies against the schemas of what they match (the chart's
    # policy for export Jobs) and reports mistakes in their status.
    "validatingadmissionpolicy-status-controller",
)


@dataclass
class ControlPlane:
    etcd: Server
    apiserver: Server
    controller_manager: Server
    scheduler: Server
    apiserver_port: int
    admin_kubeconfig: Path
    etcd_port: int
    network: NodeNetwork
    pki: ClusterPki

    @property
    def servers(self) -> list[Server]:
        """In the order they must stop: dependents first."""
        return [self.scheduler, self.controller_manager, self.apiserver, self.etcd]

    @property
    def server_url(self) -> str:
        return f"https://{self.network.host_address}:{self.apiserver_port}"

    def kubeconfig_for(self, name: str, user: str, group: str | None = None) -> Path:
        """A kubeconfig with a new client certificate for `user` (in `group`)."""
        return client_kubeconfig(self.pki, self.server_url, name, user, group)


def client_kubeconfig(
    pki: ClusterPki, server_url: str, name: str, user: str, group: str | None = None
) -> Path:
    """Writes `<pki>/<name>.kubeconfig` with a new client certificate for `user` (in `group`)."""
    certificate = issue_certificate(pki, name, user, group)
    return write_kubeconfig(
        pki.folder / f"{name}.kubeconfig",
        server=server_url,
        ca_cert=pki.ca_cert,
        user=user,
        client_cert=certificate.cert,
        client_key=certificate.key,
    )


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
    network: NodeNetwork,
    etcd_port: int,
    port: int | None = None,
) -> tuple[Server, int]:
    """Starts kube-apiserver on `port` (a restart reuses the old one, so kubeconfigs stay valid).

    It listens on the machine's end of the node's link only: the node, its Pods (through the
    `kubernetes` Service, which kube-proxy maps to this address) and local clients reach it there.
    """
    port = port or free_port()
    address = network.host_address
    serving = issue_certificate(
        pki, "apiserver", "kube-apiserver",
        addresses=(address, network.kubernetes_service_address, "127.0.0.1"),
        dns_names=("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                   "kubernetes.default.svc.cluster.local"),
    )  # fmt: skip
    # The apiserver's identity towards the kubelet (logs, exec, port-forward).
    kubelet_client = issue_certificate(
        pki, "apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters"
    )
    server = launcher.start(
        "kube-apiserver",
        [binaries.kube_apiserver, f"--etcd-servers=http://127.0.0.1:{etcd_port}",
         f"--secure-port={port}", f"--bind-address={address}", f"--advertise-address={address}",
         f"--tls-cert-file={serving.cert}", f"--tls-private-key-file={serving.key}",
         f"--client-ca-file={pki.ca_cert}", "--authorization-mode=Node,RBAC",
         "--enable-admission-plugins=NodeRestriction",
         f"--kubelet-client-certificate={kubelet_client.cert}",
         f"--kubelet-client-key={kubelet_client.key}",
         f"--kubelet-certificate-authority={pki.ca_cert}",
         "--kubelet-preferred-address-types=InternalIP",
         f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
         f"--service-account-key-file={pki.service_account_public_key}",
         f"--service-account-signing-key-file={pki.service_account_key}",
         f"--service-cluster-ip-range={network.service_cidr}", "--allow-privileged=false",
         "--service-node-port-range=30000-32767",
         "--enable-priority-and-fairness=false", "--profiling=false", "--v=1"],
    )  # fmt: skip
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    url = f"https://{address}:{port}/readyz"
    server.wait_until(lambda: _http_ok(url, context), timeout=90)
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


def start_scheduler(launcher: Launcher, binaries: Binaries, kubeconfig: Path) -> Server:
    return launcher.start(
        "kube-scheduler",
        [binaries.kube_scheduler, f"--kubeconfig={kubeconfig}",
         f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
         "--leader-elect=false", f"--secure-port={free_port()}", "--bind-address=127.0.0.1",
         "--v=1"],
    )  # fmt: skip


def start_control_plane(
    launcher: Launcher, binaries: Binaries, pki: ClusterPki, network: NodeNetwork, state_dir: Path
) -> ControlPlane:
    """Starts the servers in order and writes the admin kubeconfig."""
    etcd, etcd_port = start_etcd(launcher, binaries, state_dir / "etcd")
    # The port of an earlier run, when free: the `kubernetes` Service's endpoint, which the
    # apiserver does not move to a new port of the same address, and kubeconfigs keep working.
    port_file = state_dir / "apiserver.port"
    earlier = int(port_file.read_text()) if port_file.exists() else 0
    port = free_port_or(network.host_address, earlier)
    port_file.write_text(str(port))
    apiserver, port = start_apiserver(launcher, binaries, pki, network, etcd_port, port)
    server_url = f"https://{network.host_address}:{port}"
    kubeconfig = write_kubeconfig(
        state_dir / "admin.kubeconfig",
        server=server_url,
        ca_cert=pki.ca_cert,
        user="company-exports-admin",
        client_cert=pki.admin_cert,
        client_key=pki.admin_key,
    )
    controller_manager = start_controller_manager(launcher, binaries, pki, kubeconfig)
    scheduler = start_scheduler(
        launcher,
        binaries,
        client_kubeconfig(pki, server_url, "kube-scheduler", "system:kube-scheduler"),
    )
    return ControlPlane(
        etcd, apiserver, controller_manager, scheduler, port, kubeconfig, etcd_port, network, pki
    )


def _http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310
        return bool(response.status == 200)
