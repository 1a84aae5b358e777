"""`local-cluster up|down|status|env|images|webhook-receiver`: the local stack from a shell (what
`make up` runs).

`images` builds the product's two images with buildah (what `make images` runs) and prints them.
`webhook-receiver` serves an HTTPS receiver where the stack's dispatcher may deliver, and prints
each delivery, until interrupted.
"""

import argparse
import contextlib
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

from local_cluster import stack
from local_cluster.image_build import ImageBuildError, build_images
from local_cluster.node import NodeStartError
from local_cluster.node_network import NodeNetworkError
from local_cluster.node_requirements import NodeRequirementsError
from local_cluster.process import ServerStartError
from local_cluster.product import ProductInstallError, install_product
from local_cluster.webhook_receiver import receiver_pki, running_receiver

DEFAULT_ROOT = Path(".local")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="local-cluster", description=__doc__)
    parser.add_argument(
        "command",
        choices=["up", "down", "status", "env", "images", "webhook-receiver"],
        help="what to do with the stack; images: build the product's images; webhook-receiver: "
        "receive the running stack's webhooks",
    )
    parser.add_argument(
        "--root", type=Path, default=DEFAULT_ROOT, help=f"state folder (default {DEFAULT_ROOT})"
    )
    parser.add_argument(
        "--without-product",
        action="store_true",
        help="up: only the cluster and servers, without installing the chart and the demo space",
    )
    parser.add_argument(
        "--port", type=int, default=8443, help="webhook-receiver: its port (default 8443)"
    )
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[local-cluster] %(message)s")
    if arguments.command == "images":
        return _images()
    root: Path = arguments.root.resolve()
    if arguments.command == "up":
        return _up(root, with_product=not arguments.without_product)
    if arguments.command == "webhook-receiver":
        return _webhook_receiver(root, arguments.port)
    return {"down": _down, "status": _status, "env": _env}[arguments.command](root)


def _up(root: Path, with_product: bool) -> int:
    if any(server.is_running() for server in stack.recorded_servers(root)):
        print(f"the stack under {root} is already running; `make down` stops it")
        return 0
    print(
        f"starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler, a node "
        f"(containerd, kubelet, kube-proxy, CoreDNS, kube-router's firewall), PostgreSQL, S3 and "
        f"an OCI registry in {root}"
    )
    try:
        running = stack.up(root)
    except (ServerStartError, NodeRequirementsError, NodeNetworkError, NodeStartError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"cluster and servers up in {running.started_in_seconds:.1f} s; logs in {root / 'logs'}")
    print(nodes_table(running.env.KUBECONFIG))
    if with_product:
        try:
            install_product(root, running.env.as_dict())
        except ProductInstallError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    print(f"environment: source {stack.env_file(root)}")
    return 0


def nodes_table(kubeconfig: str) -> str:
    """`kubectl get nodes -o wide`: the node, its address, version and container runtime."""
    kubectl = Path(sys.executable).with_name("kubectl")
    listed = subprocess.run(
        [str(kubectl), f"--kubeconfig={kubeconfig}", "get", "nodes", "-o", "wide"],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    return listed.stdout or listed.stderr


def _images() -> int:
    repo_root = Path(__file__).resolve().parents[2]
    try:
        images = build_images(repo_root, lambda line: print(line, flush=True))
    except ImageBuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for image in images:
        print(f"{image.local_ref}  {image.size_bytes / 2**20:.1f} MiB")
    return 0


def _down(root: Path) -> int:
    stopped = stack.down(root)
    print(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")
    return 0


def _status(root: Path) -> int:
    servers = stack.recorded_servers(root)
    if not servers:
        print("not running")
        return 1
    for server in servers:
        state = "running" if server.is_running() else "STOPPED"
        print(f"{server.name:26} pid {server.pid:<8} {state:8} log {server.log_path}")
    return 0 if all(server.is_running() for server in servers) else 1


def _env(root: Path) -> int:
    env_file = stack.env_file(root)
    if not env_file.exists():
        print("not running: `make up` first", file=sys.stderr)
        return 1
    print(env_file.read_text(), end="")
    return 0


def _webhook_receiver(root: Path, port: int) -> int:
    if not (root / "network.json").exists():
        print("not running: `make up` first", file=sys.stderr)
        return 1
    pki = receiver_pki(stack.receiver_folder(root))
    with running_receiver(pki, (stack.host_address(root),), port) as receiver:
        print(
            f"receiving on {receiver.url('/')} (any path answers 204; /fail-N/... fails N times); "
            f"register it with POST /public-api/v1/webhook-endpoints. Ctrl-C stops.",
            flush=True,
        )
        shown = 0
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                for item in receiver.received()[shown:]:
                    print(json.dumps({"webhook-id": item.webhook_id, "body": item.body.decode()}))
                    shown += 1
                sys.stdout.flush()
                time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
