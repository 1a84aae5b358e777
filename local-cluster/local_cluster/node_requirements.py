"""What a real node needs of the machine, checked before anything starts.

A machine without them (a laptop without root, a container without cgroups) gets one message that
lists what is missing and points at the kind path, which installs the same images and the same OCI
chart into a Kubernetes in Docker.
"""

import os
import shutil
from pathlib import Path

# Programs the node runs or calls, from Debian's packages (`make system-deps` installs them).
PROGRAMS = {
    "containerd": "containerd",
    "runc": "runc",
    "iptables": "iptables",
    "nft": "nftables",
    "ipset": "ipset",
    "ip": "iproute2",
    "unshare": "util-linux",
    "nsenter": "util-linux",
}
CNI_PLUGINS = Path("/usr/lib/cni")
CNI_PLUGIN_NAMES = ("bridge", "host-local", "loopback", "portmap")
KIND_HINT = (
    "On a machine with Docker instead, the kind path installs the same images and chart: "
    "`pytest --kind tests/kind` (see README, 'Kubernetes in Docker')."
)


class NodeRequirementsError(RuntimeError):
    """The machine cannot run a real node; the message lists why and what to do."""


def missing_machine_features() -> list[str]:
    """What no package install can add: root and the kernel's cgroups and bridge netfilter."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root: the node creates network namespaces, veth links and cgroups")
    if not Path("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists():
        missing.append("a cgroup v1 memory hierarchy at /sys/fs/cgroup/memory (Pod limits)")
    if not Path("/proc/sys/net/bridge/bridge-nf-call-iptables").exists():
        missing.append("the kernel's bridge netfilter (br_netfilter: Services and NetworkPolicies)")
    return missing


def missing_programs() -> list[str]:
    """The node's programs and CNI plugins that are not installed (`make system-deps` adds them)."""
    missing = [
        f"`{program}` (Debian package {package})"
        for program, package in PROGRAMS.items()
        if not shutil.which(program)
    ]
    missing += [
        f"the CNI plugin {CNI_PLUGINS / plugin} (containernetworking-plugins)"
        for plugin in CNI_PLUGIN_NAMES
        if not (CNI_PLUGINS / plugin).exists()
    ]
    return missing


def missing_requirements() -> list[str]:
    """Each unmet requirement, as a sentence that says what to do about it."""
    return missing_machine_features() + missing_programs()


def _refusal(missing: list[str]) -> NodeRequirementsError:
    return NodeRequirementsError(
        "this machine cannot run the local cluster's node; missing: "
        + "; ".join(missing)
        + ". Run `make system-deps` as root for the packages. "
        + KIND_HINT
    )


def check_node_requirements() -> None:
    missing = missing_requirements()
    if missing:
        raise _refusal(missing)


def main() -> None:
    """`make up`'s first step, before packages are installed or anything is built (stdlib only)."""
    missing = missing_machine_features()
    if missing:
        raise SystemExit(f"[make] {_refusal(missing)}")


if __name__ == "__main__":
    main()
