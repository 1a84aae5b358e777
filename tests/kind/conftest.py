"""The end-to-end flow on a kind cluster, where Docker and a network exist (`pytest --kind`).

Off by default: without `--kind` the tests of this folder are deselected (pytest counts them as
deselected, never as passed or skipped). With `--kind` they need Docker, a `kind` binary on PATH
(0.24 or newer: the chart requires Kubernetes 1.31) and the `kind` extra
(`pip install -e '.[kind]'`, which brings pytest-kind); when one is missing they fail and say which.

    .venv/bin/pytest tests/kind --kind      # or `pytest --kind` for the whole suite on kind too

The option itself is registered in tests/conftest.py, which pytest reads before any collection.
"""

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_cluster.binaries import Binaries

OPTION = "--kind"
CLUSTER_NAME = "company-exports"
# A node image of the Kubernetes minor the chart requires (kubeVersion >= 1.31).
NODE_IMAGE = os.environ.get("KIND_NODE_IMAGE", "kindest/node:v1.31.4")
REPOSITORY = Path(__file__).resolve().parents[2]
# The chart's image (API, operator, tools) and the slim exporter image the Jobs run, each a
# target of the root Dockerfile.
APP_IMAGE = "company-exports:kind"
EXPORTER_IMAGE = "company-exports-exporter:kind"
IMAGES = {APP_IMAGE: "app", EXPORTER_IMAGE: "exporter"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption(OPTION, default=False):
        return
    deselected = [item for item in items if item.get_closest_marker("kind")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("kind")]


def _missing_requirement() -> str | None:
    """What keeps a kind cluster from starting here, in words a user can act on; None if nothing."""
    if shutil.which("docker") is None:
        return "--kind needs Docker: the docker command is not on PATH"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, check=False)
    if info.returncode != 0:
        return f"--kind needs a running Docker daemon; `docker info` said: {info.stderr.strip()}"
    if shutil.which("kind") is None:
        return "--kind needs kind >= 0.24 on PATH (https://kind.sigs.k8s.io/docs/user/quick-start/)"
    return None


def _build(image: str, target: str) -> None:
    command = ["docker", "build", "--tag", image, "--target", target, str(REPOSITORY)]
    subprocess.run(command, check=True, timeout=1800)


@pytest.fixture(scope="session")
def loaded_kind() -> Iterator[Any]:
    """A kind cluster holding the product's two images (pytest-kind's KindCluster).

    Not pytest-kind's own `kind_cluster` fixture: this one checks what is missing first, says so,
    and builds and loads the images.
    """
    missing = _missing_requirement()
    if missing:
        pytest.fail(missing, pytrace=False)
    try:
        from pytest_kind import KindCluster  # type: ignore[import-not-found]  # 'kind' extra
    except ImportError:
        pytest.fail("--kind needs pytest-kind: pip install -e '.[kind]'", pytrace=False)
    cluster = KindCluster(
        CLUSTER_NAME,
        image=NODE_IMAGE,
        kind_path=Path(str(shutil.which("kind"))),
        kubectl_path=Binaries(Path()).kubectl,  # ours: pytest-kind would download an old one
    )
    cluster.create()
    try:
        for image, target in IMAGES.items():
            _build(image, target)
            cluster.load_docker_image(image)
        yield cluster
    finally:
        if os.environ.get("KEEP_KIND_CLUSTER") != "1":
            cluster.delete()
