"""The local OCI registry: images pushed with buildah and the chart pushed with helm come back
exactly as pushed, and the registry listens on 127.0.0.1 only."""

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from local_cluster.binaries import ensure_binaries
from local_cluster.process import Launcher
from local_cluster.product import CHART
from local_cluster.registry import (
    BUILDAH,
    Registry,
    push_chart,
    push_image,
    start_registry,
    temporary_registry,
)
from tests.chart.conftest import MINIMAL_VALUES

pytestmark = pytest.mark.integration

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    # A folder of its own: the session's cluster runs a registry under servers_root/registry.
    with temporary_registry(tmp_path_factory.mktemp("registry")) as started:
        yield started


@pytest.fixture(scope="module")
def tiny_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A one-file image made from scratch in buildah's local storage; removed afterwards."""
    folder = tmp_path_factory.mktemp("tiny-image")
    (folder / "hello.txt").write_text(f"hello from {uuid.uuid4()}\n")
    reference = f"localhost/company-exports-test-tiny:{uuid.uuid4().hex[:12]}"
    container = _buildah("from", "scratch").strip()
    try:
        _buildah("copy", container, str(folder / "hello.txt"), "/hello.txt")
        _buildah("commit", "--quiet", container, reference)
    finally:
        _buildah("rm", container)
    yield reference
    _buildah("rmi", reference)


def _buildah(*arguments: str) -> str:
    completed = subprocess.run(
        [*BUILDAH, *arguments], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, f"buildah {' '.join(arguments)}: {completed.stderr}"
    return completed.stdout


def _helm(*arguments: str) -> str:
    completed = subprocess.run(
        [str(ensure_binaries().helm), *arguments],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, f"helm {' '.join(arguments)}: {completed.stderr}"
    return completed.stdout


def test_a_pushed_image_is_named_by_the_digest_the_registry_serves(
    registry: Registry, tiny_image: str, figures: list[str]
) -> None:
    started = time.monotonic()
    pushed = push_image(registry, tiny_image, "tests/tiny", "v1")
    figures.append(f"registry: push of a one-file image: {time.monotonic() - started:.2f} s")
    name, digest = pushed.split("@")
    assert name == f"{registry.address}/tests/tiny"

    response = httpx.get(
        f"{registry.url}/v2/tests/tiny/manifests/v1", headers={"Accept": MANIFEST_TYPES}
    )
    assert response.status_code == 200
    assert response.headers["Docker-Content-Digest"] == digest
    by_digest = httpx.get(
        f"{registry.url}/v2/tests/tiny/manifests/{digest}", headers={"Accept": MANIFEST_TYPES}
    )
    assert by_digest.content == response.content


def test_pushing_the_same_image_again_gives_the_same_digest(
    registry: Registry, tiny_image: str
) -> None:
    first = push_image(registry, tiny_image, "tests/again", "v1")
    assert push_image(registry, tiny_image, "tests/again", "v1") == first
    # Another tag of the same image is the same manifest.
    second_tag = push_image(registry, tiny_image, "tests/again", "v2")
    assert second_tag == first


def test_the_registry_deletes_a_manifest(registry: Registry, tiny_image: str) -> None:
    digest = push_image(registry, tiny_image, "tests/deleted", "v1").split("@")[1]
    manifest = f"{registry.url}/v2/tests/deleted/manifests/{digest}"
    assert httpx.delete(manifest).status_code == 202
    assert httpx.get(manifest, headers={"Accept": MANIFEST_TYPES}).status_code == 404


def test_the_registry_listens_on_loopback_only(registry: Registry) -> None:
    listening = _listening_addresses(registry.server.pid)
    # One listener: the API on its port; no debug or metrics listener, nothing on a wildcard.
    assert listening == [f"127.0.0.1:{registry.port}"]


def _listening_addresses(pid: int) -> list[str]:
    """Local addresses of the TCP sockets `pid` listens on, from `ss`."""
    listing = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3] for line in listing.splitlines() if f"pid={pid}," in line]


def test_the_pushed_chart_is_the_chart(
    registry: Registry, tmp_path: Path, figures: list[str]
) -> None:
    started = time.monotonic()
    chart = push_chart(ensure_binaries().helm, CHART, registry, tmp_path / "package")
    figures.append(
        f"registry: helm package + push of the chart: {time.monotonic() - started:.2f} s"
    )
    assert chart.url == f"oci://{registry.address}/charts/company-exports"
    assert chart.digest.startswith("sha256:")

    shown = _helm("show", "chart", chart.url, "--version", chart.version, "--plain-http")
    assert "name: company-exports" in shown.splitlines()
    assert f"version: {chart.version}" in shown.splitlines()

    pulled = tmp_path / "pulled"
    pulled.mkdir()
    _helm(
        "pull", chart.url, "--version", chart.version, "--plain-http", "--destination", str(pulled)
    )
    package = pulled / f"company-exports-{chart.version}.tgz"
    arguments = ("--namespace", "exports", "--values", str(MINIMAL_VALUES), "--include-crds")
    from_registry = _helm("template", "release", str(package), *arguments)
    from_folder = _helm("template", "release", str(CHART), *arguments)
    assert "kind: CustomResourceDefinition" in from_registry  # the CRD links were followed
    assert from_registry == from_folder


def test_a_restarted_registry_keeps_its_port_and_its_images(
    servers_root: Path, tiny_image: str
) -> None:
    launcher = Launcher(servers_root / "logs")
    root = servers_root / "registry-restarted"
    try:
        first = start_registry(launcher, root)
        pushed = push_image(first, tiny_image, "tests/kept", "v1")
        first.stop()
        again = start_registry(launcher, root)
        assert again.port == first.port
        digest = pushed.split("@")[1]
        response = httpx.get(
            f"{again.url}/v2/tests/kept/manifests/v1", headers={"Accept": MANIFEST_TYPES}
        )
        assert response.headers["Docker-Content-Digest"] == digest
    finally:
        launcher.stop_all()
