"""A local OCI registry (the CNCF distribution registry), and pushing images and the chart to it.

Users install the product with `helm install ... oci://<registry>/charts/company-exports` and run
images from that same registry, so the local stack does the same: the chart is packaged, pushed
and installed from its `oci://` reference, which tests what users run (the packaged chart, its
followed CRD links and all) rather than the chart folder. No public registry is reachable here,
hence a registry of our own, built from its Go module by build-binaries.sh.

The registry listens on one address (127.0.0.1 by default; the stack gives it the machine's end of
the node's link, which the node's containerd pulls from), over plain HTTP (clients pass
`--plain-http` or `--tls-verify=false`), stores under the stack's root, allows deletes, and runs
no debug or metrics listener and no trace exporter.
"""

import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from local_cluster.binaries import ensure_binaries
from local_cluster.process import Launcher, Server, free_port_or

CHART_REPOSITORY = "charts"
# The storage driver the images are built with; every buildah command must name the same one.
BUILDAH = ("buildah", "--storage-driver", "overlay")
READY_TIMEOUT_SECONDS = 30.0
PUSH_TIMEOUT_SECONDS = 600
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class RegistryError(RuntimeError):
    """A push to the registry failed; the message holds the client's own words."""


@dataclass
class Registry:
    server: Server
    port: int
    host: str = "127.0.0.1"

    @property
    def address(self) -> str:
        """HOST:PORT, the way image references and `oci://` URLs name the registry."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def stop(self) -> None:
        self.server.stop()


@dataclass(frozen=True)
class ChartRef:
    """A chart in a registry, as `helm install` takes it: `url` plus `--version version`."""

    url: str
    version: str
    digest: str


def start_registry(
    launcher: Launcher, root: Path, port: int | None = None, host: str = "127.0.0.1"
) -> Registry:
    """Starts the registry with its data under `root/data`, listening on `host` only (the node's
    containerd pulls from there); returns once `GET /v2/` answers.

    Without `port`, a registry started under `root` before gets its earlier port back when that is
    free (image references name the port), else any free port.
    """
    root.mkdir(parents=True, exist_ok=True)
    config_file = root / "config.yml"
    earlier = json.loads(config_file.read_text())["http"] if config_file.exists() else {}
    if port is None:
        earlier_port = int(earlier["addr"].rsplit(":", 1)[1]) if "addr" in earlier else 0
        port = free_port_or(host, earlier_port)
    address = f"{host}:{port}"
    # The secret that signs upload sessions, kept across restarts of the same registry.
    secret = earlier.get("secret") or secrets.token_urlsafe(32)
    config = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text"},
        "storage": {
            "filesystem": {"rootdirectory": str(root / "data")},
            "delete": {"enabled": True},
        },
        # No `debug` section: the registry then starts no debug or metrics listener at all.
        "http": {
            "addr": address,
            "secret": secret,
            "headers": {"X-Content-Type-Options": ["nosniff"]},
        },
    }
    config_file.touch(mode=0o600)
    config_file.write_text(json.dumps(config, indent=2))  # JSON is YAML
    server = launcher.start(
        "registry",
        [*_without_registry_overrides(), ensure_binaries().registry, "serve", config_file],
        # Traces would go to an OTLP collector on localhost:4318 by default.
        env={"OTEL_TRACES_EXPORTER": "none"},
    )
    registry = Registry(server, port, host)
    server.wait_until(lambda: _answers(registry), timeout=READY_TIMEOUT_SECONDS)
    return registry


@contextmanager
def temporary_registry(root: Path) -> Iterator[Registry]:
    """A registry of its own under `root` for the length of the block; its data goes after."""
    launcher = Launcher(root / "logs")
    try:
        yield start_registry(launcher, root)
    finally:
        launcher.stop_all()
        shutil.rmtree(root / "data", ignore_errors=True)


def push_image(registry: Registry | str, local_ref: str, name: str, tag: str) -> str:
    """Pushes a local (buildah) image as NAME:TAG; returns `ADDRESS/NAME@sha256:...`.

    The digest is the one of the manifest as the registry stores it, which is what a Pod should
    name to run exactly this image.
    """
    address = _address(registry)
    with tempfile.TemporaryDirectory(prefix="company-exports-push-") as scratch:
        digest_file = Path(scratch) / "digest"
        _run(
            [*BUILDAH, "push", "--tls-verify=false", "--digestfile", str(digest_file),
             local_ref, f"docker://{address}/{name}:{tag}"],
            what=f"buildah could not push {local_ref} to {address}/{name}:{tag}",
        )  # fmt: skip
        digest = digest_file.read_text().strip()
    if not _DIGEST.fullmatch(digest):
        raise RegistryError(f"buildah wrote no digest for {local_ref}, but {digest!r}")
    return f"{address}/{name}@{digest}"


def push_chart(helm: Path, chart_dir: Path, registry: Registry | str, workdir: Path) -> ChartRef:
    """`helm package` of `chart_dir` into `workdir`, then `helm push` to oci://ADDRESS/charts."""
    address = _address(registry)
    chart = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
    name, version = str(chart["name"]), str(chart["version"])
    workdir.mkdir(parents=True, exist_ok=True)
    _run(
        [str(helm), "package", str(chart_dir), "--destination", str(workdir)],
        what=f"helm could not package {chart_dir}",
    )
    package = workdir / f"{name}-{version}.tgz"
    pushed = _run(
        [str(helm), "push", str(package), f"oci://{address}/{CHART_REPOSITORY}", "--plain-http"],
        what=f"helm could not push {package.name} to {address}",
    )
    found = _DIGEST.search(pushed)
    if not found:
        raise RegistryError(f"helm push named no digest: {pushed}")
    return ChartRef(f"oci://{address}/{CHART_REPOSITORY}/{name}", version, found[0])


def _address(registry: Registry | str) -> str:
    return registry if isinstance(registry, str) else registry.address


def _answers(registry: Registry) -> bool:
    """The registry API's base endpoint answers 200 (no authentication configured)."""
    try:
        with urllib.request.urlopen(f"{registry.url}/v2/", timeout=2) as response:  # noqa: S310
            status: int = response.status
            return status == 200
    except (urllib.error.URLError, OSError):
        return False


def _without_registry_overrides() -> list[str]:
    """`env -u NAME ...` for each REGISTRY_* variable of our environment: the registry would take
    them as overrides of its configuration (another address, another storage). `env` then execs
    the registry, which keeps the process id the launcher recorded."""
    names = sorted(key for key in os.environ if key.startswith("REGISTRY_"))
    return ["env", *(f"--unset={name}" for name in names)]


def _run(command: list[str], what: str) -> str:
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=PUSH_TIMEOUT_SECONDS, check=False
    )
    # helm notes each symbolic link it follows (the chart's CRDs); that is no error.
    output = "\n".join(
        line
        for line in (completed.stdout + completed.stderr).splitlines()
        if not line.startswith("walk.go")
    )
    if completed.returncode != 0:
        raise RegistryError(f"{what}: {output}")
    return output
