"""The chart installed into the local cluster the way `make up` installs it, and used through it.

As `make up` does, the images and the chart are pushed to the cluster's OCI registry and the chart
is installed and upgraded from its `oci://` reference.

The node runs the chart's Pods as containers of those images, each under its own service account
and with the chart's security settings, so what the API and the operator may do is what the
chart's RBAC grants: a missing permission fails the export below. The tests share one installation
and run in file order; the last uninstalls it.
"""

import gzip
import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from standardwebhooks import Webhook

from local_cluster.product import (
    CHART,
    DEMO_SPACE_NAME,
    NAMESPACE,
    RELEASE,
    ProductInstallError,
    install_product,
    wait_for_api,
)
from local_cluster.registry import CHART_REPOSITORY
from local_cluster.webhook_receiver import Received, Receiver
from tests.chart.conftest import CI_VALUES, MINIMAL_VALUES, Helm, service_account_client
from tests.conftest import KubeCluster
from tests.export_polling import answered
from tests.export_polling import wait_for_export as poll_export
from tests.kubectl import Kubectl
from tests.pod_scripts import INSPECT, REACH

pytestmark = pytest.mark.e2e

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
INSTANCE = f"app.kubernetes.io/instance={RELEASE}"
API_SA, OPERATOR_SA, EXPORTER_SA = (f"{RELEASE}-{name}" for name in ("api", "operator", "exporter"))
EXPORTS = "companyexports.exports.companies.dev"
# The seed's example day; the demo space (Europe/Berlin, UTC+1 in January) has companies on it.
ONE_DAY = {"start_date": "2024-01-15 00:00:00", "end_date": "2024-01-15 23:59:59"}
WEBHOOK_ENDPOINTS = "/public-api/v1/webhook-endpoints"
DAY_START_UTC = datetime.fromisoformat("2024-01-14T23:00:00+00:00")
DAY_END_UTC = datetime.fromisoformat("2024-01-15T23:00:00+00:00")  # 23:59:59 + 1 s, local time
EXPORT_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Installed:
    kube: KubeCluster
    api_url: str
    api_key: str
    env_file: Path
    chart_url: str
    chart_version: str

    def api(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        return httpx.Client(base_url=self.api_url, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def registry(kube: KubeCluster) -> str:
    """HOST:PORT of the cluster's registry, the one the node pulls from."""
    return kube.env["REGISTRY"]


@pytest.fixture(scope="module")
def installed(
    kube: KubeCluster,
    registry: str,
    tmp_path_factory: pytest.TempPathFactory,
    figures: list[str],
    helm: Helm,
) -> Installed:
    stack_root = tmp_path_factory.mktemp("make-up") / "stack"
    stack_root.mkdir()
    started = time.monotonic()
    added = install_product(stack_root, kube.env)
    figures.append(
        f"chart push, install from the registry, API ready, demo space: "
        f"{time.monotonic() - started:.1f} s"
    )
    chart = yaml.safe_load(helm.run("show", "chart", str(CHART)))
    return Installed(
        kube,
        added["API_URL"],
        added["API_KEY"],
        stack_root / "stack.env",
        f"oci://{registry}/{CHART_REPOSITORY}/{chart['name']}",
        str(chart["version"]),
    )


def _wait_for_export(api: httpx.Client, export_id: int) -> dict[str, Any]:
    return poll_export(api, export_id, timeout=EXPORT_TIMEOUT_SECONDS)


def _companies_of_the_day(database_url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT c.id, c.space_id, c.name, c.domain, c.created_at FROM companies c"
            " JOIN spaces s ON s.id = c.space_id"
            " WHERE s.name = %s AND c.created_at >= %s AND c.created_at < %s"
            " ORDER BY c.created_at, c.id",
            (DEMO_SPACE_NAME, DAY_START_UTC, DAY_END_UTC),
        ).fetchall()


def test_make_up_writes_the_api_url_and_key_beside_the_clusters_names(
    installed: Installed,
) -> None:
    lines = installed.env_file.read_text().splitlines()
    assert f"export API_URL={installed.api_url}" in lines
    assert f"export API_KEY={installed.api_key}" in lines
    assert installed.env_file.stat().st_mode & 0o077 == 0  # it holds a key


def test_the_release_is_the_chart_the_registry_holds(
    installed: Installed, registry: str, helm: Helm
) -> None:
    tags = httpx.get(f"http://{registry}/v2/{CHART_REPOSITORY}/company-exports/tags/list").json()
    assert tags["tags"] == [installed.chart_version]
    release = yaml.safe_load(
        helm.run(
            "get", "metadata", RELEASE, "--namespace", NAMESPACE, "-o", "yaml",
            kubeconfig=installed.kube.kubeconfig,
        )
    )  # fmt: skip
    assert (release["chart"], release["version"]) == ("company-exports", installed.chart_version)


def _stored_digest(registry: str, repository: str) -> str:
    """The digest of the one tag the registry holds for the repository."""
    (tag,) = httpx.get(f"http://{registry}/v2/{repository}/tags/list").json()["tags"]
    manifest = httpx.head(
        f"http://{registry}/v2/{repository}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES}
    )
    assert manifest.status_code == 200, manifest.text
    return str(manifest.headers["Docker-Content-Digest"])


def test_the_pods_and_the_jobs_name_the_pushed_images_by_digest(
    installed: Installed, registry: str, kubectl: Kubectl
) -> None:
    expected = {
        name: f"{registry}/{name}@{_stored_digest(registry, name)}"
        for name in ("company-exports", "company-exports-exporter")
    }
    pods = kubectl.json("get", "pods", "-n", NAMESPACE, "-l", INSTANCE)["items"]
    images = {
        container["image"]
        for pod in pods
        for container in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]
    }
    assert images == {expected["company-exports"]}
    settings = kubectl.json("get", "configmap", f"{RELEASE}-operator", "-n", NAMESPACE)["data"]
    assert settings["EXPORT_OPERATOR_EXPORTER_IMAGE"] == expected["company-exports-exporter"]


def test_notes_say_how_to_reach_the_api_and_create_a_key(installed: Installed, helm: Helm) -> None:
    notes = helm.run(
        "get", "notes", RELEASE, "--namespace", NAMESPACE, kubeconfig=installed.kube.kubeconfig
    )
    assert f"port-forward service/{RELEASE}-api" in notes
    assert "export-api-admin create-space" in notes
    assert "export-api-admin issue-key" in notes
    assert "/public-api/v1/companies/exports" in notes


def test_an_export_through_the_charts_api_matches_the_database(
    installed: Installed, kubectl: Kubectl, figures: list[str]
) -> None:
    started = time.monotonic()
    with installed.api() as api:
        created = api.post("/public-api/v1/companies/exports", json=ONE_DAY)
        assert created.status_code == 202, created.text
        export_id = created.json()["export_id"]
        result = _wait_for_export(api, export_id)
    elapsed = time.monotonic() - started
    assert result["status"] == "completed", result
    # Every time in the answer in one form, as Kubernetes writes its own: whole seconds, UTC.
    for field in ("created_at", "started_at", "completed_at"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", result[field]), result
    download = httpx.get(result["download_url"], timeout=30)
    assert download.status_code == 200
    assert len(download.content) == result["file_size"]
    # Lines end at "\n" only: names hold U+2028 and other breaks that splitlines() would split at.
    lines = gzip.decompress(download.content).decode("utf-8").split("\n")
    assert lines.pop() == ""
    exported = [json.loads(line) for line in lines]

    expected = _companies_of_the_day(installed.kube.env["DATABASE_URL"])
    assert len(expected) > 100  # the demo data covers the day well
    assert result["record_count"] == len(expected) == len(exported)
    assert [
        (c["id"], c["space_id"], c["name"], c["domain"], datetime.fromisoformat(c["created_at"]))
        for c in exported
    ] == [tuple(row) for row in expected]
    figures.append(
        f"chart e2e export: {len(exported)} companies, POST to completed {elapsed:.1f} s"
    )

    # The export ran under the exporter's identity, which has no token at all.
    pods = kubectl.json(
        "get", "pods", "-n", NAMESPACE, "-l", f"batch.kubernetes.io/job-name=export-{export_id}"
    )["items"]
    assert pods
    for pod in pods:
        assert pod["spec"]["serviceAccountName"] == EXPORTER_SA
        assert pod["spec"]["automountServiceAccountToken"] is False


def test_a_sharded_export_through_the_chart_passes_the_job_policy_and_matches(
    installed: Installed, kubectl: Kubectl, helm: Helm
) -> None:
    # Every estimate is above 1 row: the day's export runs as 2 shards and a coordinator, an
    # Indexed Job the operator creates under the chart's Job admission policy.
    with psycopg.connect(installed.kube.env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("ANALYZE companies")  # the estimate is the planner's: from statistics
    _upgrade(installed, helm, "operator.settings.shardRows=1", "operator.settings.maxShards=2")
    try:
        with installed.api() as api:
            created = api.post("/public-api/v1/companies/exports", json=ONE_DAY)
            assert created.status_code == 202, created.text
            export_id = created.json()["export_id"]
            result = _wait_for_export(api, export_id)
    finally:
        _upgrade(installed, helm, "operator.settings.shardRows=5000000")
    assert result["status"] == "completed", result
    job = kubectl.json("get", "job", "-n", NAMESPACE, f"export-{export_id}")
    export = kubectl.json("get", "companyexports", "-n", NAMESPACE, f"export-{export_id}")
    assert export["spec"]["estimatedRows"] > 1, "the demo data was analyzed: the API estimates"
    assert (job["spec"]["completionMode"], job["spec"]["completions"]) == ("Indexed", 3)
    pods = kubectl.json(
        "get", "pods", "-n", NAMESPACE, "-l", f"batch.kubernetes.io/job-name=export-{export_id}"
    )["items"]
    assert len(pods) == 3
    assert all(pod["spec"]["automountServiceAccountToken"] is False for pod in pods)
    download = httpx.get(result["download_url"], timeout=30)
    assert len(download.content) == result["file_size"]
    exported = [json.loads(line) for line in gzip.decompress(download.content).split(b"\n")[:-1]]
    expected = _companies_of_the_day(installed.kube.env["DATABASE_URL"])
    assert result["record_count"] == len(expected)
    assert [company["id"] for company in exported] == [row[0] for row in expected]


# A day after every demo company's updated_at; noon in Berlin (UTC+1 in March) is 11:00 UTC.
UPDATES_DAY = {"start_date": "2031-03-03 00:00:00", "end_date": "2031-03-03 23:59:59"}
UPDATES_NOON_UTC = datetime.fromisoformat("2031-03-03T11:00:00+00:00")


def _download_lines(api: httpx.Client, body: dict[str, str]) -> tuple[str, list[bytes]]:
    """Creates an export, waits for it and returns its resource's name and its file's lines."""
    created = api.post("/public-api/v1/companies/exports", json=body)
    assert created.status_code == 202, created.text
    export_id = created.json()["export_id"]
    result = _wait_for_export(api, export_id)
    assert result["status"] == "completed", result
    download = httpx.get(result["download_url"], timeout=30)
    return f"export-{export_id}", gzip.decompress(download.content).split(b"\n")[:-1]


def test_an_incremental_export_after_updating_some_companies_holds_exactly_those(
    installed: Installed, kubectl: Kubectl
) -> None:
    database_url = installed.kube.env["DATABASE_URL"]
    updated = [row[0] for row in _companies_of_the_day(database_url)][::40]
    with psycopg.connect(database_url, autocommit=True) as conn:
        for index, company_id in enumerate(updated):  # an order unlike the ids', with ties
            at = UPDATES_NOON_UTC + timedelta(minutes=index * 7 % 5)
            conn.execute("UPDATE companies SET updated_at = %s WHERE id = %s", (at, company_id))
        expected = [row[0] for row in conn.execute(
            "SELECT id FROM companies WHERE id = ANY(%s) ORDER BY updated_at, id", (updated,)
        )]  # fmt: skip
    with installed.api() as api:
        name, lines = _download_lines(api, {**UPDATES_DAY, "date_field": "updated_at"})
        _, day_lines = _download_lines(api, ONE_DAY)
    assert [json.loads(line)["id"] for line in lines] == expected
    line_of = {json.loads(line)["id"]: line for line in day_lines}
    assert lines == [line_of[company_id] for company_id in expected]  # byte for byte
    export = kubectl.json("get", "companyexports", "-n", NAMESPACE, name)
    assert export["spec"]["dateField"] == "updated_at"
    job = kubectl.json("get", "job", "-n", NAMESPACE, name)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert {"name": "EXPORT_DATE_FIELD", "value": "updated_at"} in container["env"]


def _probe_and_scrape_paths(kubectl: Kubectl) -> dict[str, list[str]]:
    """Per running Pod of the chart: `PORT/PATH` of every httpGet probe and metrics endpoint."""
    targets: dict[str, list[str]] = {}
    for pod in kubectl.json("get", "pods", "-n", NAMESPACE, "-l", INSTANCE)["items"]:
        if pod["status"].get("phase") != "Running":
            continue
        for container in pod["spec"]["containers"]:
            ports = {port["name"]: port["containerPort"] for port in container["ports"]}
            paths = targets.setdefault(pod["metadata"]["name"], [])
            for probe in ("livenessProbe", "readinessProbe"):
                target = container[probe]["httpGet"]
                paths.append(f"{ports[target['port']]}{target['path']}")
            paths.append(f"{ports.get('metrics', ports.get('http'))}/metrics")
    return targets


# Run inside the Pod (`kubectl exec`): GET each http://127.0.0.1:PORT/PATH, print status and type.
FETCH = """
import sys, urllib.request
for target in sys.argv[1:]:
    with urllib.request.urlopen(f"http://127.0.0.1:{target}", timeout=5) as response:
        body = response.read().decode()
        print(target, response.status, "# TYPE" in body)
"""


def test_probes_and_metrics_point_at_live_endpoints(installed: Installed, kubectl: Kubectl) -> None:
    targets = _probe_and_scrape_paths(kubectl)
    assert sum(len(paths) for paths in targets.values()) == 9  # API, operator, dispatcher
    for pod, paths in targets.items():
        fetched = kubectl("exec", "-n", NAMESPACE, pod, "--", "python", "-c", FETCH, *paths)
        for line, path in zip(fetched.stdout.splitlines(), paths, strict=True):
            target, status, typed = line.split()
            assert (target, status) == (path, "200"), pod
            assert typed == "True" or not path.endswith("/metrics"), (pod, path)
    # The kubelet runs those probes: every container is ready and none was restarted by them.
    for pod in kubectl.json("get", "pods", "-n", NAMESPACE, "-l", INSTANCE)["items"]:
        for status in pod["status"].get("containerStatuses", []):
            assert (status["ready"], status["restartCount"]) == (True, 0), status


@pytest.mark.parametrize(
    ("account", "verb", "resource", "allowed"),
    [
        (API_SA, "create", EXPORTS, True),
        (API_SA, "watch", EXPORTS, True),
        (API_SA, "delete", EXPORTS, True),
        (API_SA, "get", "secrets", False),
        (API_SA, "list", "pods", False),
        (API_SA, "create", "jobs.batch", False),
        (API_SA, "patch", f"{EXPORTS}/status", False),
        (OPERATOR_SA, "create", "jobs.batch", True),
        (OPERATOR_SA, "patch", f"{EXPORTS}/status", True),
        (OPERATOR_SA, "list", "pods", True),
        (OPERATOR_SA, "create", "events", True),
        (OPERATOR_SA, "patch", "kopfpeerings.kopf.dev", True),
        (OPERATOR_SA, "get", "secrets", False),
        (OPERATOR_SA, "create", EXPORTS, False),
        (OPERATOR_SA, "delete", "pods", False),
        (OPERATOR_SA, "create", "deployments.apps", False),
        (EXPORTER_SA, "get", EXPORTS, False),
        (EXPORTER_SA, "get", "pods", False),
        (EXPORTER_SA, "get", "secrets", False),
        (EXPORTER_SA, "get", "configmaps", False),
        (EXPORTER_SA, "create", "jobs.batch", False),
    ],
)
def test_each_component_may_do_only_its_job(
    installed: Installed, kubectl: Kubectl, account: str, verb: str, resource: str, allowed: bool
) -> None:
    # `can-i VERB RESOURCE/NAME` asks about an object of that name: a subresource is a flag.
    resource, _, subresource = resource.partition("/")
    answer = kubectl(
        "auth", "can-i", verb, resource, f"--subresource={subresource}", "-n", NAMESPACE,
        f"--as=system:serviceaccount:{NAMESPACE}:{account}", check=False,
    )  # fmt: skip
    assert answer.stdout.strip() == ("yes" if allowed else "no"), answer.stderr


def test_nothing_of_ours_may_act_in_another_namespace(
    installed: Installed, kubectl: Kubectl
) -> None:
    for account, verb, resource in (
        (API_SA, "create", EXPORTS),
        (OPERATOR_SA, "create", "jobs.batch"),
    ):
        answer = kubectl(
            "auth", "can-i", verb, resource, "-n", "default",
            f"--as=system:serviceaccount:{NAMESPACE}:{account}", check=False,
        )  # fmt: skip
        assert answer.stdout.strip() == "no"


@pytest.mark.parametrize("account", [API_SA, EXPORTER_SA])
def test_a_real_request_for_secrets_is_refused(
    installed: Installed, admin: client.ApiClient, account: str
) -> None:
    with service_account_client(admin, NAMESPACE, account) as api:
        with pytest.raises(ApiException) as refused:
            client.CoreV1Api(api).list_namespaced_secret(NAMESPACE)
        assert refused.value.status == 403
        if account == EXPORTER_SA:
            with pytest.raises(ApiException) as refused:
                client.CoreV1Api(api).list_namespaced_pod(NAMESPACE)
            assert refused.value.status == 403


@pytest.mark.parametrize(
    "values", [MINIMAL_VALUES, CI_VALUES / "production-values.yaml"], ids=lambda p: p.stem
)
def test_the_rendered_chart_passes_the_apiservers_validation(
    installed: Installed, helm: Helm, kubectl: Kubectl, values: Path
) -> None:
    # After the install: the CRDs it brought let the server validate the KopfPeering object too.
    namespace = "chart-validation"
    kubectl("create", "namespace", namespace, check=False)
    rendered = helm.run(
        "template", "validation", str(CHART), "--namespace", namespace, "--values", str(values)
    )
    applied = subprocess.run(
        [str(kubectl.binary), f"--kubeconfig={kubectl.kubeconfig}", "apply", "--dry-run=server",
         "--validate=strict", "-n", namespace, "-f", "-"],
        input=rendered, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert applied.returncode == 0, applied.stderr
    assert "(server dry run)" in applied.stdout
    assert "deployment.apps/validation-company-exports-api" in applied.stdout


def _running_pods(kubectl: Kubectl, namespace: str = NAMESPACE, selector: str = INSTANCE) -> Any:
    pods = kubectl.json("get", "pods", "-n", namespace, "-l", selector)["items"]
    return [pod for pod in pods if pod["status"].get("phase") == "Running"]


def test_every_pod_runs_as_65532_on_a_read_only_root_with_a_token_only_where_needed(
    installed: Installed, kubectl: Kubectl
) -> None:
    pods = _running_pods(kubectl)
    components = sorted(pod["metadata"]["labels"]["app.kubernetes.io/component"] for pod in pods)
    assert components == ["api", "operator", "webhooks"]
    for pod in pods:
        name = pod["metadata"]["name"]
        inspected = kubectl("exec", "-n", NAMESPACE, name, "--", "python", "-c", INSPECT)
        uid, gid, root, token, kubeconfig = inspected.stdout.split(maxsplit=4)
        assert (uid, gid) == ("65532", "65532"), name
        assert root == "errno-30", name  # EROFS: "Read-only file system"
        # The API and the operator use their token through in-cluster config, and nothing else;
        # the webhook dispatcher talks only to PostgreSQL and receivers: it has none.
        talks_to_kubernetes = pod["metadata"]["labels"]["app.kubernetes.io/component"] != "webhooks"
        assert (token, kubeconfig.strip()) == (str(talks_to_kubernetes), "False"), name
        assert pod["status"]["containerStatuses"][0]["imageID"].split("@")[1].startswith("sha256:")


def test_the_exporters_pod_has_no_token_and_a_read_only_root(
    installed: Installed, kubectl: Kubectl
) -> None:
    """An export Pod as the operator makes it, kept running: the same checks from inside it."""
    settings = kubectl.json("get", "configmap", f"{RELEASE}-operator", "-n", NAMESPACE)["data"]
    image = settings["EXPORT_OPERATOR_EXPORTER_IMAGE"]
    with installed.api() as api:
        created = api.post("/public-api/v1/companies/exports", json=ONE_DAY)
        export_id = created.json()["export_id"]
        assert _wait_for_export(api, export_id)["status"] == "completed"
    (pod,) = kubectl.json(
        "get", "pods", "-n", NAMESPACE, "-l", f"batch.kubernetes.io/job-name=export-{export_id}"
    )["items"]
    spec = pod["spec"]
    assert spec["containers"][0]["image"] == image
    assert spec["automountServiceAccountToken"] is False
    assert not any("serviceaccount" in mount["mountPath"] for mount in
                   spec["containers"][0].get("volumeMounts", []))  # fmt: skip
    security = spec["containers"][0]["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0


def _about(export_id: int) -> Callable[[Received], bool]:
    return lambda item: json.loads(item.body)["data"]["export_id"] == export_id


def test_a_finished_export_is_announced_to_a_receiver_by_the_installed_dispatcher(
    installed: Installed, receiver: Receiver, figures: list[str]
) -> None:
    """The chart's dispatcher Pod, allowed to reach the machine's address on the node's link and
    trusting the receiver's CA (as `make up` installs it), delivers a signed export.completed."""
    path = f"/ok/{uuid.uuid4().hex}/"
    with installed.api() as api:
        # Earlier tests' polls may have spent the demo space's status budget, which this spends.
        registered = answered(
            lambda: api.post(
                WEBHOOK_ENDPOINTS,
                json={"url": receiver.url(path), "events": ["export.completed"]},
            )
        )
        assert registered.status_code == 201, registered.text
        endpoint = registered.json()
        created = api.post("/public-api/v1/companies/exports", json=ONE_DAY)
        export_id = created.json()["export_id"]
        finished = _wait_for_export(api, export_id)
        assert finished["status"] == "completed"
    # Exports of the demo space that earlier tests left running may finish meanwhile and are
    # announced too: this export's delivery is the one to check.
    receiver.wait_for(path, 1, timeout=60, matching=_about(export_id))
    time.sleep(2)  # a duplicate would be a second attempt, sent at once
    (delivery,) = receiver.received(path, matching=_about(export_id))
    # From PostgreSQL, not the API: the export's polls spent this space's status budget.
    with psycopg.connect(installed.kube.env["DATABASE_URL"]) as conn:
        log = conn.execute(
            "SELECT id, event, export_id FROM webhook_deliveries "
            "WHERE endpoint_id = %s AND export_id = %s",
            (endpoint["id"], export_id),
        ).fetchall()
    event = Webhook(endpoint["secret"]).verify(delivery.body, delivery.headers)
    assert event["type"] == "export.completed"
    assert event["data"]["export_id"] == export_id
    assert event["data"]["record_count"] == finished["record_count"]
    assert event["data"]["file_size"] == finished["file_size"]
    assert (
        event["data"]["url"] == f"{installed.api_url}/public-api/v1/companies/exports/{export_id}"
    )
    assert log == [(delivery.webhook_id, "export.completed", export_id)]
    completed_at = datetime.fromisoformat(finished["completed_at"]).timestamp()
    figures.append(
        f"webhook, export completed to delivery at the receiver: {delivery.at - completed_at:.1f} s"
    )


def test_kubectl_logs_exec_and_port_forward_reach_the_api(
    installed: Installed, kubectl: Kubectl
) -> None:
    logs = kubectl("logs", "-n", NAMESPACE, f"deployment/{RELEASE}-api", "--tail=200").stdout
    assert '"event"' in logs or '"message"' in logs, logs[-2000:]
    with subprocess.Popen(
        [str(kubectl.binary), f"--kubeconfig={kubectl.kubeconfig}", "port-forward", "-n",
         NAMESPACE, f"service/{RELEASE}-api", ":80", "--address", "127.0.0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    ) as forward:  # fmt: skip
        try:
            assert forward.stdout is not None
            first = forward.stdout.readline()  # "Forwarding from 127.0.0.1:PORT -> 8000"
            port = int(first.split("127.0.0.1:", 1)[1].split()[0])
            response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            assert response.status_code == 200
        finally:
            forward.terminate()


def _client_pod(kubectl: Kubectl, namespace: str, name: str, image: str, labels: str) -> None:
    kubectl("run", name, "-n", namespace, f"--image={image}", f"--labels={labels}",
            "--restart=Never", "--command", "--", "python", "-c", SERVE)  # fmt: skip
    kubectl("wait", "-n", namespace, f"pod/{name}", "--for=condition=Ready", "--timeout=120s")


EXPORT_POD_LABELS = (
    "app.kubernetes.io/managed-by=company-exports-operator,app.kubernetes.io/component=exporter"
)
API_FROM = "networkPolicy.apiFrom[0]"
# A Pod that serves HTTP on 8080 until deleted (the policy tests' targets and clients).
SERVE = "import http.server; http.server.test(http.server.SimpleHTTPRequestHandler, port=8080)"


def _reachable(kubectl: Kubectl, namespace: str, client: str, *targets: str) -> dict[str, bool]:
    tried = kubectl("exec", "-n", namespace, client, "--", "python", "-c", REACH, *targets)
    return {target: said == "open" for target, said in json.loads(tried.stdout).items()}


def test_network_policies_are_enforced(
    installed: Installed, kubectl: Kubectl, helm: Helm, registry: str
) -> None:
    image = f"{registry}/company-exports@{_stored_digest(registry, 'company-exports')}"
    outsider = "policy-outsider"
    kubectl("create", "namespace", outsider)
    try:
        # Targets in the release namespace: one labelled as an export Pod (the chart's policy
        # lets nothing in), one that no policy selects.
        _client_pod(kubectl, NAMESPACE, "policy-export-like", image, EXPORT_POD_LABELS)
        _client_pod(kubectl, NAMESPACE, "policy-unselected", image, "test=policy")
        _client_pod(kubectl, outsider, "client", image, "test=policy")
        _client_pod(kubectl, outsider, "allowed-client", image, "exports-client=allowed")
        ips = {
            pod["metadata"]["name"]: pod["status"]["podIP"]
            for pod in kubectl.json("get", "pods", "-n", NAMESPACE)["items"]
        }
        (api_pod,) = [pod["status"]["podIP"] for pod in _running_pods(
            kubectl, selector=f"{INSTANCE},app.kubernetes.io/component=api")]  # fmt: skip
        export_like = f"{ips['policy-export-like']}:8080"
        unselected = f"{ips['policy-unselected']}:8080"
        api = f"{api_pod}:8000"
        reach = _reachable(kubectl, outsider, "client", export_like, unselected, api)
        assert reach == {export_like: False, unselected: True, api: True}

        # Only labelled clients, and the machine (the node port's users), may reach the API now.
        machine = installed.kube.node.network.host_address
        _upgrade(
            installed, helm,
            f"{API_FROM}.namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name={outsider}",
            f"{API_FROM}.podSelector.matchLabels.exports-client=allowed",
            f"networkPolicy.apiFrom[1].ipBlock.cidr={machine}/32",
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while _reachable(kubectl, outsider, "client", api)[api] and time.monotonic() < deadline:
            time.sleep(1)
        assert _reachable(kubectl, outsider, "client", api) == {api: False}
        assert _reachable(kubectl, outsider, "allowed-client", api) == {api: True}
        assert httpx.get(f"{installed.api_url}/readyz", timeout=10).status_code == 200
    finally:
        _upgrade(installed, helm, "networkPolicy.apiFrom=null")
        kubectl("delete", "namespace", outsider, "--wait=false")
        kubectl("delete", "pod", "-n", NAMESPACE, "policy-export-like", "policy-unselected",
                "--wait=false")  # fmt: skip


def test_a_wedged_api_is_restarted_by_its_liveness_probe(
    installed: Installed, kubectl: Kubectl, figures: list[str]
) -> None:
    (pod,) = _running_pods(kubectl, selector=f"{INSTANCE},app.kubernetes.io/component=api")
    status = pod["status"]["containerStatuses"][0]
    liveness = pod["spec"]["containers"][0]["livenessProbe"]
    window = liveness.get("periodSeconds", 10) * liveness.get("failureThreshold", 3)
    # A stopped process ignores SIGTERM: the kubelet kills it after the grace period.
    grace = pod["spec"]["terminationGracePeriodSeconds"]
    pids = installed.kube.node.container_pids(status["containerID"].split("://", 1)[1])
    assert pids
    started = time.monotonic()
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)  # wedged: alive, answering nothing
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{installed.api_url}/healthz", timeout=2)
    try:
        wait_for_api(installed.api_url, timeout=window + grace + 90)
    except ProductInstallError as error:
        state = kubectl(
            "describe", "pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=api"
        )
        raise AssertionError(f"{error}\n{state.stdout[-3000:]}") from error
    answered_after = time.monotonic() - started
    (after,) = _running_pods(kubectl, selector=f"{INSTANCE},app.kubernetes.io/component=api")
    assert after["metadata"]["name"] == pod["metadata"]["name"]
    assert after["status"]["containerStatuses"][0]["restartCount"] == status["restartCount"] + 1
    figures.append(
        f"liveness: a SIGSTOPped API answered again after {answered_after:.1f} s "
        f"(probe window {window} s, grace {grace} s, then the restart)"
    )


def _pod_names(kubectl: Kubectl) -> set[str]:
    pods = kubectl.json("get", "pods", "-n", NAMESPACE, "-l", INSTANCE)["items"]
    return {pod["metadata"]["name"] for pod in pods if not pod["metadata"].get("deletionTimestamp")}


def _upgrade(installed: Installed, helm: Helm, *settings: str) -> None:
    """`helm upgrade` from the registry, as a user upgrades."""
    arguments = [
        "upgrade",
        RELEASE,
        installed.chart_url,
        "--version",
        installed.chart_version,
        "--plain-http",
        "--namespace",
        NAMESPACE,
        "--reuse-values",
        "--wait",
        "--timeout",
        "180s",
    ]
    for setting in settings:
        arguments += ["--set", setting]
    helm.run(*arguments, kubeconfig=installed.kube.kubeconfig)


def test_pre_pulling_puts_the_exporters_image_on_the_node_and_holds_it(
    installed: Installed, helm: Helm, kubectl: Kubectl
) -> None:
    settings = kubectl.json("get", "configmap", f"{RELEASE}-operator", "-n", NAMESPACE)["data"]
    image = settings["EXPORT_OPERATOR_EXPORTER_IMAGE"]
    prepull = f"{INSTANCE},app.kubernetes.io/component=exporter-prepull"
    _upgrade(installed, helm, "exporter.prePull.enabled=true")
    try:
        # helm's --wait lets a DaemonSet be maxUnavailable (one) Pod short: wait for all of it.
        daemonset = f"daemonset/{RELEASE}-exporter-prepull"
        kubectl("rollout", "status", daemonset, "-n", NAMESPACE, "--timeout=120s")
        (pod,) = _running_pods(kubectl, selector=prepull)
        assert pod["spec"]["containers"][0]["image"] == image
        (node,) = kubectl.json("get", "nodes")["items"]
        on_node = {name for held in node["status"]["images"] for name in held["names"]}
        assert image in on_node
        name = pod["metadata"]["name"]
        inspected = kubectl("exec", "-n", NAMESPACE, name, "--", "python3", "-c", INSPECT)
        uid, gid, root, token, _ = inspected.stdout.split(maxsplit=4)
        assert (uid, gid, root, token) == ("65532", "65532", "errno-30", "False")
    finally:
        _upgrade(installed, helm, "exporter.prePull.enabled=false")
    assert kubectl.json("get", "daemonsets", "-n", NAMESPACE, "-l", INSTANCE)["items"] == []


def test_upgrade_rolls_the_deployments_only_when_a_setting_changes(
    installed: Installed, helm: Helm, kubectl: Kubectl, figures: list[str]
) -> None:
    before = _pod_names(kubectl)
    _upgrade(installed, helm)
    assert _pod_names(kubectl) == before

    started = time.monotonic()
    _upgrade(installed, helm, "api.settings.createLimit=7", "exporter.backoffLimit=3")
    for component in ("api", "operator"):
        kubectl(
            "rollout",
            "status",
            f"deployment/{RELEASE}-{component}",
            "-n",
            NAMESPACE,
            "--timeout=180s",
        )
    wait_for_api(installed.api_url)
    figures.append(
        f"chart upgrade with a changed setting, to API ready: {time.monotonic() - started:.1f} s"
    )
    after = _pod_names(kubectl)
    assert len(after) == 3
    # The API's and the operator's settings changed, the dispatcher's did not: it stays.
    assert after & before == {name for name in before if name.startswith(f"{RELEASE}-webhooks-")}
    assert len(after & before) == 1

    # The new API Pod runs with the new setting: its rate limit says so on every response.
    with installed.api() as api:
        created = api.post("/public-api/v1/companies/exports", json=ONE_DAY)
        assert created.status_code == 202, created.text
        assert created.headers["X-RateLimit-Limit"] == "7"
        assert _wait_for_export(api, created.json()["export_id"])["status"] == "completed"


def test_uninstall_leaves_only_the_crds_and_the_users_exports(
    installed: Installed, helm: Helm, kubectl: Kubectl
) -> None:
    exports_before = kubectl.json("get", EXPORTS, "-n", NAMESPACE)["items"]
    assert exports_before
    helm.run(
        "uninstall",
        RELEASE,
        "--namespace",
        NAMESPACE,
        "--wait",
        kubeconfig=installed.kube.kubeconfig,
    )

    kinds = "deployments,replicasets,services,configmaps,secrets,serviceaccounts,roles"
    namespaced = f"{kinds},rolebindings,networkpolicies,poddisruptionbudgets,kopfpeerings.kopf.dev"
    assert kubectl.json("get", namespaced, "-n", NAMESPACE, "-l", INSTANCE)["items"] == []
    cluster_scoped = "clusterroles,clusterrolebindings,validatingadmissionpolicies"
    cluster_scoped += ",validatingadmissionpolicybindings"
    assert kubectl.json("get", cluster_scoped, "-l", INSTANCE)["items"] == []
    deadline = time.monotonic() + 60
    while _pod_names(kubectl) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _pod_names(kubectl) == set()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{installed.api_url}/healthz", timeout=2)

    for crd in (EXPORTS, "kopfpeerings.kopf.dev", "clusterkopfpeerings.kopf.dev"):
        kubectl("get", "crd", crd)
    exports_after = kubectl.json("get", EXPORTS, "-n", NAMESPACE)["items"]
    assert {e["metadata"]["uid"] for e in exports_after} == {
        e["metadata"]["uid"] for e in exports_before
    }
