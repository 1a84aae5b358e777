"""Helpers of the chart's tests: helm (built by local-cluster/build-binaries.sh), kubectl, and
clients that act as one of the chart's service accounts."""

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config

from local_cluster.binaries import ensure_binaries
from local_cluster.product import CHART
from tests.conftest import KubeCluster
from tests.kubectl import Kubectl

CI_VALUES = CHART / "ci"
MINIMAL_VALUES = CI_VALUES / "default-values.yaml"


class RenderError(Exception):
    """helm refused the values; the message is what helm told the user."""


@dataclass(frozen=True)
class Helm:
    binary: Path

    def run(self, *arguments: str, kubeconfig: Path | None = None) -> str:
        command = [str(self.binary), *arguments]
        if kubeconfig is not None:
            command += ["--kubeconfig", str(kubeconfig)]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=180)
        # helm notes each symbolic link it follows (the CRDs); only the rest says what went wrong.
        errors = "\n".join(
            line for line in completed.stderr.splitlines() if not line.startswith("walk.go")
        )
        if completed.returncode != 0:
            raise RenderError(errors)
        return completed.stdout

    def template(
        self, *values: Path, settings: tuple[str, ...] = (), extra: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        """The chart's objects for these values files and `--set` strings, parsed."""
        arguments = ["template", "release", str(CHART), "--namespace", "exports"]
        for file in values:
            arguments += ["--values", str(file)]
        for setting in settings:
            arguments += ["--set", setting]
        rendered = self.run(*arguments, *extra)
        return [doc for doc in yaml.safe_load_all(rendered) if doc]


@pytest.fixture(scope="session")
def helm() -> Helm:
    return Helm(ensure_binaries().helm)


def objects_of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    for obj in objects_of_kind(objects, kind):
        if obj["metadata"]["name"] == name:
            return obj
    raise AssertionError(f"no {kind} {name} among {[o['metadata']['name'] for o in objects]}")


def service_account_client(
    admin: client.ApiClient, namespace: str, account: str
) -> client.ApiClient:
    """A client holding a fresh token of the account (TokenRequest), as its Pod or a thief of
    that Pod's token would."""
    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=600)
    )
    core = client.CoreV1Api(admin)
    issued = core.create_namespaced_service_account_token(account, namespace, request)
    assert issued.status is not None
    configuration = client.Configuration()
    configuration.host = admin.configuration.host
    configuration.ssl_ca_cert = admin.configuration.ssl_ca_cert
    configuration.api_key = {"authorization": f"Bearer {issued.status.token}"}
    return client.ApiClient(configuration)


@pytest.fixture(scope="module")
def kubectl(kube: KubeCluster) -> Kubectl:
    return Kubectl.of(kube.kubeconfig)


@pytest.fixture(scope="module")
def admin(kube: KubeCluster) -> Iterator[client.ApiClient]:
    api: client.ApiClient = config.new_client_from_config(str(kube.kubeconfig))
    yield api
    api.close()
