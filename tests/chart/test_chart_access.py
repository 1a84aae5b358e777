"""Who may read an export's download URL, and what a stolen operator token may still create.

The chart is installed as `make up` installs it (its own installation, uninstalled at the end,
so tests/chart/test_chart_install.py finds the namespace as a fresh cluster has it), and one
export completes through its API first: its CompanyExport then holds a live presigned
`downloadUrl`, its Job, Pod, logs and Events exist, so every check below could find a URL.

- Part of the story is Kubernetes' own: users are real client certificates of the cluster's CA,
  bound by RoleBindings in the release namespace to the built-in `view`, `edit` and `admin` roles
  (which kube-controller-manager fills by aggregation) or to the chart's `-view` role.
- The operator's requests are made with a real token of its ServiceAccount (TokenRequest), and
  sent as server-side dry runs: admission runs in full, nothing is stored.
"""

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from kubernetes import client, config

from export_contracts import resource
from export_contracts.resource import CompanyExportSpec
from export_operator.jobs import Owner, job_manifest
from export_operator.settings import OperatorSettings
from local_cluster.product import NAMESPACE, RELEASE, install_product
from tests.chart.conftest import Helm, service_account_client
from tests.conftest import KubeCluster
from tests.export_polling import wait_for_export
from tests.kubectl import Kubectl

pytestmark = pytest.mark.e2e

ONE_DAY = {"start_date": "2024-01-15 00:00:00", "end_date": "2024-01-15 23:59:59"}
# What gives a presigned URL away: SigV4's query parameter, and SigV2's.
SIGNATURES = ("X-Amz-Signature", "Signature=")
OPERATOR_SA = f"{RELEASE}-operator"
API_SA = f"{RELEASE}-api"
POLICY = f"{RELEASE}-operator-{NAMESPACE}-jobs"
# The chart's download role (the release name holds the chart's, so it is the prefix).
CHART_VIEW_ROLE = f"{RELEASE}-view"
RBAC_SETTLE_SECONDS = 30


@pytest.fixture(scope="module")
def installed(
    kube: KubeCluster, kubectl: Kubectl, helm: Helm, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """API_URL and API_KEY of the installed chart; exports and release removed afterwards."""
    added = install_product(tmp_path_factory.mktemp("access-stack"), kube.env)
    yield added
    # While the operator runs, so that its finalizer removes each file and Job.
    kubectl("delete", resource.PLURAL, "--all", "-n", NAMESPACE, "--timeout=120s")
    helm.run("uninstall", RELEASE, "--namespace", NAMESPACE, "--wait",
             kubeconfig=kube.kubeconfig)  # fmt: skip


@pytest.fixture(scope="module")
def completed(installed: dict[str, str], admin: client.ApiClient, kubectl: Kubectl) -> Any:
    """A CompanyExport completed through the chart's API, as the operator left it."""
    # The export runs with the Job policy in force: the operator's create and resume pass it.
    kubectl("get", "validatingadmissionpolicy", POLICY)
    kubectl("get", "validatingadmissionpolicybinding", POLICY)
    headers = {"Authorization": f"Bearer {installed['API_KEY']}"}
    with httpx.Client(base_url=installed["API_URL"], headers=headers, timeout=10) as api:
        created = api.post("/public-api/v1/companies/exports", json=ONE_DAY)
        assert created.status_code == 202, created.text
        export_id = created.json()["export_id"]
        assert wait_for_export(api, export_id, timeout=120)["status"] == "completed"
    export = _json(admin, "GET", _export_path(resource.resource_name(export_id)))
    # What a reader of the object gets: a URL that downloads the file.
    assert any(mark in export["status"]["downloadUrl"] for mark in SIGNATURES), export["status"]
    return export


def _call(
    api: client.ApiClient,
    method: str,
    path: str,
    body: Any = None,
    query: tuple[tuple[str, str], ...] = (),
    content_type: str = "application/json",
) -> tuple[int, str]:
    """Status and body of a request to the API server as the client's user."""
    request = api.param_serialize(
        method, path, query_params=list(query), body=body, auth_settings=["BearerToken"],
        header_params={"Accept": "application/json, */*", "Content-Type": content_type},
    )  # fmt: skip
    response = api.call_api(*request)
    data = response.read() or b""
    return response.status, data.decode()


def _json(api: client.ApiClient, method: str, path: str, body: Any = None) -> Any:
    """The answer of a request that must succeed, parsed."""
    status, text = _call(api, method, path, body)
    assert 200 <= status < 300, f"{method} {path}: {status} {text}"
    return json.loads(text)


def _export_path(name: str = "") -> str:
    path = f"/apis/{resource.API_VERSION}/namespaces/{NAMESPACE}/{resource.PLURAL}"
    return f"{path}/{name}" if name else path


@contextmanager
def _bound_user(
    kube: KubeCluster, admin: client.ApiClient, user: str, cluster_role: str
) -> Iterator[client.ApiClient]:
    """A client of `user` (a client certificate of the cluster's CA), bound to `cluster_role` in
    the release namespace for as long as the block runs."""
    bindings = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NAMESPACE}/rolebindings"
    binding = {
        "metadata": {"name": f"test-{user}"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": cluster_role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }  # fmt: skip
    _json(admin, "POST", bindings, binding)
    api = config.new_client_from_config(str(kube.control_plane.kubeconfig_for(user, user)))
    try:
        yield api
    finally:
        api.close()
        _json(admin, "DELETE", f"{bindings}/test-{user}")


def _wait_until_allowed(api: client.ApiClient, verb: str, group: str, plural: str) -> None:
    """Returns once the user may `verb` the resource: the binding and the aggregated role have
    reached the authorizer."""
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"namespace": NAMESPACE, "verb": verb, "group": group,
                                        "resource": plural}},
    }  # fmt: skip
    path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    deadline = time.monotonic() + RBAC_SETTLE_SECONDS
    while not _json(api, "POST", path, review)["status"].get("allowed"):
        assert time.monotonic() < deadline, f"may not {verb} {plural} after the binding"
        time.sleep(0.5)


def _get(api: client.ApiClient, path: str) -> str:
    """The raw body of a GET that must succeed, as any client of the user reads it."""
    status, text = _call(api, "GET", path)
    assert status == 200, f"GET {path}: {status} {text}"
    return text


def _namespaced_collections(api: client.ApiClient) -> dict[tuple[str, str], str]:
    """(group, resource) -> its collection path in the release namespace, for every namespaced
    resource the API server serves and lists (discovery, preferred versions)."""
    versions = [("", "/api/v1")] + [
        (group["name"], f"/apis/{group['preferredVersion']['groupVersion']}")
        for group in _json(api, "GET", "/apis")["groups"]
    ]
    collections = {}
    for group, prefix in versions:
        for served in _json(api, "GET", prefix)["resources"]:
            if served["namespaced"] and "/" not in served["name"] and "list" in served["verbs"]:
                path = f"{prefix}/namespaces/{NAMESPACE}/{served['name']}"
                collections[(group, served["name"])] = path
    return collections


def _listable(rules: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(group, resource) pairs a rules review lets the user list, without subresources."""
    found = set()
    for rule in rules:
        if rule.get("resourceNames") or not {"list", "*"} & set(rule["verbs"]):
            continue
        for group in rule.get("apiGroups") or [""]:
            found |= {(group, name) for name in rule.get("resources", []) if "/" not in name}
    return found


def _signatures(text: str) -> list[str]:
    return [mark for mark in SIGNATURES if mark in text]


def _credentials(kube: KubeCluster) -> dict[str, str]:
    """What the chart's Secrets hold that must show nowhere else: the S3 secret key and the
    database password (random per session)."""
    password = urlsplit(kube.env["DATABASE_URL"]).password
    assert password
    return {"S3 secret key": kube.env["AWS_SECRET_ACCESS_KEY"], "database password": password}


def test_view_cannot_get_or_list_exports(
    kube: KubeCluster, admin: client.ApiClient, completed: Any
) -> None:
    name = completed["metadata"]["name"]
    every_namespace = f"/apis/{resource.API_VERSION}/{resource.PLURAL}"
    with _bound_user(kube, admin, "export-viewer", "view") as viewer:
        _wait_until_allowed(viewer, "list", "", "pods")  # the binding is in force
        for path in (_export_path(name), f"{_export_path(name)}/status", _export_path(),
                     every_namespace):  # fmt: skip
            status, text = _call(viewer, "GET", path)
            assert status == 403, f"GET {path}: {status} {text[:300]}"


def test_nothing_view_reads_in_the_namespace_holds_a_download_url_or_a_credential(
    kube: KubeCluster, admin: client.ApiClient, completed: Any, figures: list[str]
) -> None:
    # Still there and still signed: the URL exists while everything else is read.
    live = _json(admin, "GET", _export_path(completed["metadata"]["name"]))
    assert _signatures(live["status"]["downloadUrl"])
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": NAMESPACE},
    }
    with _bound_user(kube, admin, "export-viewer", "view") as viewer:
        _wait_until_allowed(viewer, "list", "", "pods")
        rules = _json(viewer, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
                      review)["status"]["resourceRules"]  # fmt: skip
        granted = _listable(rules)
        collections = _namespaced_collections(viewer)
        readable = {key: path for key, path in collections.items() if key in granted}
        # The walk covers where an export leaves traces; a view role that grants nothing (no
        # aggregation) would pass every check below.
        assert {("", "pods"), ("", "events"), ("batch", "jobs"), ("", "configmaps")} <= set(
            readable
        )
        assert (resource.GROUP, resource.PLURAL) not in readable

        credentials = _credentials(kube)

        def leaks(text: str) -> list[str]:
            return _signatures(text) + [
                name for name, value in credentials.items() if value in text
            ]

        found = {}
        for (group, plural), path in sorted(readable.items()):
            found[f"{plural}.{group}" if group else plural] = leaks(_get(viewer, path))
        # Logs too (`view` may read pods/log): the operator's, the API's and its migrations',
        # the exporter's.
        pods = json.loads(_get(viewer, readable[("", "pods")]))["items"]
        components = {pod["metadata"]["labels"].get("app.kubernetes.io/component") for pod in pods}
        assert {"api", "operator", "exporter"} <= components
        for pod in pods:
            for container in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]:
                path = f"{readable[('', 'pods')]}/{pod['metadata']['name']}/log"
                status, log = _call(viewer, "GET", path, query=(("container", container["name"]),))
                assert status == 200, f"GET {path}: {status} {log[:300]}"
                found[f"log {pod['metadata']['name']}/{container['name']}"] = leaks(log)
    assert {where: marks for where, marks in found.items() if marks} == {}
    logs = len(found) - len(readable)
    figures.append(
        f"view in the release namespace: {len(readable)} resources and {logs} logs read, "
        "no download URL or credential"
    )


@pytest.mark.parametrize("cluster_role", ["edit", "admin", CHART_VIEW_ROLE])
def test_edit_admin_and_the_charts_download_role_read_exports_and_their_url(
    kube: KubeCluster, admin: client.ApiClient, completed: Any, cluster_role: str
) -> None:
    with _bound_user(kube, admin, f"export-{cluster_role}", cluster_role) as reader:
        _wait_until_allowed(reader, "list", resource.GROUP, resource.PLURAL)
        listed = _json(reader, "GET", _export_path())
    (mine,) = [e for e in listed["items"] if e["metadata"]["uid"] == completed["metadata"]["uid"]]
    assert _signatures(mine["status"]["downloadUrl"])


# --- the operator's token and the Job admission policy ------------------------------------------


@pytest.fixture
def operator_settings(
    kube: KubeCluster, kubectl: Kubectl, monkeypatch: pytest.MonkeyPatch
) -> OperatorSettings:
    """The installed operator's settings: its ConfigMap and the S3 variables of its Pod."""
    data = kubectl.json("get", "configmap", OPERATOR_SA, "-n", NAMESPACE)["data"]
    s3 = ("EXPORT_BUCKET", "S3_ENDPOINT_URL", "AWS_DEFAULT_REGION")
    for name, value in {**data, **{name: kube.env[name] for name in s3}}.items():
        monkeypatch.setenv(name, value)
    return OperatorSettings()


@pytest.fixture
def operator_job(completed: Any, operator_settings: OperatorSettings) -> dict[str, Any]:
    """A Job exactly as the operator makes it for the completed export, under a name of its own."""
    meta = completed["metadata"]
    spec = CompanyExportSpec.model_validate(completed["spec"])
    job = job_manifest(
        Owner(NAMESPACE, meta["name"], meta["uid"]),
        spec,
        f"exports/{spec.space_id}/policy-probe.ndjson.gz",
        operator_settings,
    )
    job["metadata"]["name"] = f"policy-probe-{uuid.uuid4().hex[:8]}"
    return job


@pytest.fixture
def as_operator(admin: client.ApiClient, installed: dict[str, str]) -> Iterator[client.ApiClient]:
    """A client holding a real token of the installed operator's ServiceAccount."""
    with service_account_client(admin, NAMESPACE, OPERATOR_SA) as api:
        yield api


def _dry_run_create(api: client.ApiClient, job: dict[str, Any]) -> tuple[int, str]:
    """Creates the Job as a server-side dry run: admission runs in full, nothing is stored."""
    jobs = f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs"
    return _call(api, "POST", jobs, job, query=(("dryRun", "All"),))


def _container(job: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = job["spec"]["template"]["spec"]["containers"][0]
    return container


def _another_image(job: dict[str, Any]) -> None:
    _container(job)["image"] = "busybox:1.37"


def _a_host_path(job: dict[str, Any]) -> None:
    job["spec"]["template"]["spec"]["volumes"] = [{"name": "host", "hostPath": {"path": "/etc"}}]
    _container(job)["volumeMounts"] = [{"name": "host", "mountPath": "/host"}]


def _another_secret(job: dict[str, Any]) -> None:
    _container(job)["env"].append(
        {"name": "EXPORT_SLICE_ROWS",
         "valueFrom": {"secretKeyRef": {"name": "someone-elses-secret", "key": "password"}}}
    )  # fmt: skip


def _a_shell(job: dict[str, Any]) -> None:
    _container(job)["command"] = ["python", "-c", "import os; os.system('id')"]


def _privilege_escalation(job: dict[str, Any]) -> None:
    _container(job)["securityContext"]["allowPrivilegeEscalation"] = True


def _host_network(job: dict[str, Any]) -> None:
    job["spec"]["template"]["spec"]["hostNetwork"] = True


def _a_token(job: dict[str, Any]) -> None:
    job["spec"]["template"]["spec"]["automountServiceAccountToken"] = True


def _the_operators_identity(job: dict[str, Any]) -> None:
    job["spec"]["template"]["spec"]["serviceAccountName"] = OPERATOR_SA


def _another_endpoint(job: dict[str, Any]) -> None:
    env = _container(job)["env"]
    env[:] = [e for e in env if e["name"] != "S3_ENDPOINT_URL"]
    env.append({"name": "S3_ENDPOINT_URL", "value": "http://192.0.2.1:9000"})


def _without_our_labels(job: dict[str, Any]) -> None:
    del job["spec"]["template"]["metadata"]["labels"][resource.MANAGED_BY_LABEL]


REFUSALS: list[tuple[Callable[[dict[str, Any]], None], str]] = [
    (_another_image, "refused the image busybox:1.37"),
    (_a_host_path, "refused the hostPath volume(s) host (/etc)"),
    (_another_secret, "refused the Secret(s) someone-elses-secret"),
    (_a_shell, "refused a command, args, lifecycle hook or probe"),
    (_privilege_escalation, "refused a container without allowPrivilegeEscalation: false"),
    (_host_network, "refused hostNetwork, hostPID or hostIPC"),
    (_a_token, "refused a Pod that mounts a service-account token"),
    (_the_operators_identity, f"refused the service account {OPERATOR_SA}"),
    (_another_endpoint, "refused a changed value of S3_ENDPOINT_URL"),
    (_without_our_labels, "refused a Job without the labels"),
]


def test_the_operators_own_jobs_pass_the_policy(
    as_operator: client.ApiClient, operator_job: dict[str, Any]
) -> None:
    # The refusals below change one thing each of this very Job.
    status, text = _dry_run_create(as_operator, operator_job)
    assert status == 201, text
    assert json.loads(text)["metadata"]["name"] == operator_job["metadata"]["name"]


@pytest.mark.parametrize(("change", "said"), REFUSALS, ids=[c.__name__[1:] for c, _ in REFUSALS])
def test_the_operators_token_cannot_create_another_job(
    as_operator: client.ApiClient,
    operator_job: dict[str, Any],
    change: Callable[[dict[str, Any]], None],
    said: str,
) -> None:
    change(operator_job)
    status, text = _dry_run_create(as_operator, operator_job)
    assert status == 403, text
    message = json.loads(text)["message"]
    assert f"ValidatingAdmissionPolicy '{POLICY}'" in message
    assert said in message, message


def test_the_policy_binds_the_operator_only(
    admin: client.ApiClient, operator_job: dict[str, Any]
) -> None:
    """The same hostPath Job from the cluster's admin passes: the refusal above is the policy's,
    aimed at the operator's account, not some other part of admission."""
    _a_host_path(operator_job)
    status, text = _dry_run_create(admin, operator_job)
    assert status == 201, text
    assert json.loads(text)["spec"]["template"]["spec"]["volumes"][-1]["hostPath"]["path"] == "/etc"


def test_resuming_a_job_made_under_earlier_values_passes(
    admin: client.ApiClient, as_operator: client.ApiClient, operator_job: dict[str, Any]
) -> None:
    """A Job queued before an upgrade changed the exporter image (made here by the admin) is
    still resumed by the operator: its Pod template is as it was admitted, so an update that
    leaves the template alone is not held to today's values."""
    _another_image(operator_job)
    # Nowhere to run, should the operator resume it for real before it is deleted.
    operator_job["spec"]["template"]["spec"]["nodeSelector"] = {"test": "nowhere"}
    jobs = f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs"
    name = operator_job["metadata"]["name"]
    _json(admin, "POST", jobs, operator_job)
    try:
        status, text = _call(
            as_operator, "PATCH", f"{jobs}/{name}", {"spec": {"suspend": False}},
            query=(("dryRun", "All"),), content_type="application/merge-patch+json",
        )  # fmt: skip
        assert status == 200, text
        assert json.loads(text)["spec"]["suspend"] is False
    finally:
        _json(admin, "DELETE", f"{jobs}/{name}", {"propagationPolicy": "Background"})


def test_the_api_server_type_checks_every_rule_of_the_policy(
    kubectl: Kubectl, completed: Any
) -> None:
    deadline = time.monotonic() + RBAC_SETTLE_SECONDS
    while True:
        policy = kubectl.json("get", "validatingadmissionpolicy", POLICY)
        status = policy.get("status", {})
        if status.get("observedGeneration") == policy["metadata"]["generation"]:
            break
        assert time.monotonic() < deadline, f"the policy was not type-checked: {status}"
        time.sleep(0.5)
    assert status.get("typeChecking", {}).get("expressionWarnings", []) == []


# --- the API's token: patches of exports narrowed to the archived label -------------------------


@pytest.fixture
def as_api(admin: client.ApiClient, installed: dict[str, str]) -> Iterator[client.ApiClient]:
    """A client holding a real token of the installed API's ServiceAccount."""
    with service_account_client(admin, NAMESPACE, API_SA) as api:
        yield api


def _dry_run_patch(api: client.ApiClient, export: Any, patch: dict[str, Any]) -> tuple[int, str]:
    path = (
        f"/apis/{resource.GROUP}/{resource.VERSION}/namespaces/{NAMESPACE}/"
        f"{resource.PLURAL}/{export['metadata']['name']}"
    )
    return _call(api, "PATCH", path, patch, query=(("dryRun", "All"),),
                 content_type="application/merge-patch+json")  # fmt: skip


def test_the_apis_token_may_label_an_export_archived_and_nothing_more(
    as_api: client.ApiClient, completed: Any
) -> None:
    archived = {"metadata": {"labels": {resource.ARCHIVED_LABEL: "true"}}}
    assert _dry_run_patch(as_api, completed, archived)[0] == 200
    refusals = [
        ({"metadata": {"labels": {resource.SPACE_LABEL: "999999"}}}, "may only add the label"),
        ({"metadata": {"labels": {resource.ARCHIVED_LABEL: "no"}}}, "may only be set to"),
        ({"metadata": {"finalizers": None}}, "annotations or finalizers"),
        ({"metadata": {"annotations": {"x": "y"}}}, "annotations or finalizers"),
    ]
    for patch, said in refusals:
        status, text = _dry_run_patch(as_api, completed, patch)
        assert status == 403, (patch, text)
        assert said in json.loads(text)["message"], text
