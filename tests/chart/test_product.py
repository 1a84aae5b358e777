"""`make up`'s last step, in pieces that need no cluster: the chart's local values, the env file."""

import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from local_cluster.product import API_NODE_PORT, api_url, local_values, update_env_file
from local_cluster.webhook_receiver import receiver_pki
from tests.chart.conftest import Helm, named

pytestmark = pytest.mark.unit

BASE_ENV = {
    "KUBECONFIG": "/stack/admin.kubeconfig",
    "DATABASE_URL": "postgresql://exports:pw@127.0.0.1:5433/exports",
    "S3_ENDPOINT_URL": "http://127.0.0.1:8333",
    "AWS_ACCESS_KEY_ID": "AKIALOCAL",
    "AWS_SECRET_ACCESS_KEY": "local secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "EXPORT_BUCKET": "company-exports",
    "NODE_ADDRESS": "10.200.0.2",
    "HOST_ADDRESS": "10.200.0.1",
}


@pytest.fixture
def stack_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a stack, its receivers' CA a real certificate."""
    ca = receiver_pki(tmp_path / "webhook-receiver").ca_cert
    return {**BASE_ENV, "WEBHOOK_CA_BUNDLE": str(ca)}


@pytest.fixture
def local_objects(helm: Helm, tmp_path: Path, stack_env: dict[str, str]) -> list[dict[str, Any]]:
    """The chart rendered with the local stack's values."""
    values_file = tmp_path / "values.json"
    values_file.write_text(json.dumps(local_values(stack_env)))
    return helm.template(values_file)


def test_the_local_values_install_one_api_behind_a_node_port(
    local_objects: list[dict[str, Any]], stack_env: dict[str, str]
) -> None:
    objects = local_objects
    api = named(objects, "Deployment", "release-company-exports-api")
    assert api["spec"]["replicas"] == 1
    service = named(objects, "Service", "release-company-exports-api")["spec"]
    assert service["type"] == "NodePort"
    assert service["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP", "nodePort": 30080}
    ]
    assert api_url(stack_env) == f"http://10.200.0.2:{API_NODE_PORT}"
    database = named(objects, "Secret", "release-company-exports-database")
    assert database["stringData"] == {"DATABASE_URL": stack_env["DATABASE_URL"]}


def test_the_local_values_let_webhooks_reach_the_stacks_receivers(
    local_objects: list[dict[str, Any]], stack_env: dict[str, str]
) -> None:
    objects = local_objects
    dispatcher = named(objects, "ConfigMap", "release-company-exports-webhooks")["data"]
    api = named(objects, "ConfigMap", "release-company-exports-api")["data"]
    assert (
        dispatcher["WEBHOOK_ALLOWED_NETWORKS"] == api["WEBHOOK_ALLOWED_NETWORKS"] == "10.200.0.1/32"
    )
    ca = named(objects, "ConfigMap", "release-company-exports-webhooks-ca")["data"]
    assert list(ca.values()) == [Path(stack_env["WEBHOOK_CA_BUNDLE"]).read_text()]
    assert api["PUBLIC_URL"] == f"http://10.200.0.2:{API_NODE_PORT}"


def test_a_cluster_ip_service_has_no_node_port(
    helm: Helm, tmp_path: Path, stack_env: dict[str, str]
) -> None:
    values_file = tmp_path / "values.json"
    values = local_values(stack_env)
    values["api"]["service"] = {"type": "ClusterIP", "nodePort": 30080}
    values_file.write_text(json.dumps(values))
    service = named(helm.template(values_file), "Service", "release-company-exports-api")["spec"]
    assert (service["type"], "nodePort" in service["ports"][0]) == ("ClusterIP", False)


def test_the_env_file_gains_the_api_and_keeps_the_clusters_names(tmp_path: Path) -> None:
    env_file = tmp_path / "stack.env"
    env_file.write_text("export KUBECONFIG=/stack/admin.kubeconfig\nexport API_KEY=old\n")
    update_env_file(env_file, {"API_URL": "http://127.0.0.1:8000", "API_KEY": "cexp_a b"})
    assert env_file.read_text().splitlines() == [
        "export KUBECONFIG=/stack/admin.kubeconfig",
        "export API_URL=http://127.0.0.1:8000",
        f"export API_KEY={shlex.quote('cexp_a b')}",
    ]
    assert env_file.stat().st_mode & 0o777 == 0o600
    sourced = subprocess.run(
        ["bash", "-c", f"source {env_file} && echo \"$API_KEY\""],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert sourced.stdout == "cexp_a b\n"
