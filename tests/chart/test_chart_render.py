"""The chart as helm renders it: lint, values schema, security defaults, RBAC, secrets, rollouts."""

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from export_operator.settings import RESERVED_EXPORTER_ENV
from local_cluster.product import CHART
from tests.chart.conftest import (
    CI_VALUES,
    MINIMAL_VALUES,
    Helm,
    RenderError,
    named,
    objects_of_kind,
)

pytestmark = pytest.mark.unit

REPOSITORY_CRDS = CHART.parents[1] / "crds"
PRODUCTION_VALUES = CI_VALUES / "production-values.yaml"
SERVICE_MONITOR_VALUES = CI_VALUES / "servicemonitor-values.yaml"
WITH_SERVICE_MONITOR_CRD = ("--api-versions", "monitoring.coreos.com/v1/ServiceMonitor")
PREFIX = "release-company-exports"
WEBHOOKS = f"{PREFIX}-webhooks"
PREPULL = f"{PREFIX}-exporter-prepull"
CA_DIRECTORY = "/etc/export-webhooks/ca"
PEM = "-----BEGIN CERTIFICATE-----\nMIIBdevelopmentCA\n-----END CERTIFICATE-----\n"
# The address ranges the dispatcher's egress rule keeps closed (the cluster and its neighbours).
PRIVATE_IPV4 = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "127.0.0.0/8",
    "100.64.0.0/10",
]


def _pod_specs(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        obj["metadata"]["name"]: obj["spec"]["template"]["spec"]
        for kind in ("Deployment", "DaemonSet")
        for obj in objects_of_kind(objects, kind)
    }


def _operator_settings(objects: list[dict[str, Any]]) -> dict[str, str]:
    settings: dict[str, str] = named(objects, "ConfigMap", "release-company-exports-operator")[
        "data"
    ]
    return settings


@pytest.mark.parametrize("values", [MINIMAL_VALUES, PRODUCTION_VALUES], ids=lambda p: p.stem)
def test_lint_is_clean(helm: Helm, values: Path) -> None:
    output = helm.run("lint", "--strict", str(CHART), "--values", str(values))
    assert "0 chart(s) failed" in output
    assert "[WARNING]" not in output
    assert "[ERROR]" not in output


def test_service_monitors_render_when_the_cluster_has_their_crd(helm: Helm) -> None:
    objects = helm.template(SERVICE_MONITOR_VALUES, extra=WITH_SERVICE_MONITOR_CRD)
    monitors = objects_of_kind(objects, "ServiceMonitor")
    assert {m["spec"]["endpoints"][0]["port"] for m in monitors} == {"http", "metrics"}
    assert {m["metadata"]["name"] for m in monitors} == {
        f"{PREFIX}-api",
        f"{PREFIX}-operator",
        WEBHOOKS,
    }
    # Each monitor finds a Service with its port: the dispatcher's is its metrics Service.
    services = objects_of_kind(objects, "Service")
    for monitor in monitors:
        selector = monitor["spec"]["selector"]["matchLabels"]
        port = monitor["spec"]["endpoints"][0]["port"]
        assert [
            s
            for s in services
            if selector.items() <= s["metadata"]["labels"].items()
            and port in [p["name"] for p in s["spec"]["ports"]]
        ], monitor["metadata"]["name"]
    with pytest.raises(RenderError, match="needs the Prometheus Operator's ServiceMonitor CRD"):
        helm.template(SERVICE_MONITOR_VALUES)


def test_the_charts_crds_are_the_repositorys_files(helm: Helm, tmp_path: Path) -> None:
    # Links, not copies: nothing can drift. And helm packages the linked content.
    links = sorted((CHART / "crds").iterdir())
    assert [link.name for link in links] == sorted(p.name for p in REPOSITORY_CRDS.glob("*.yaml"))
    for link in links:
        assert link.is_symlink()
        assert link.resolve() == (REPOSITORY_CRDS / link.name).resolve()
    helm.run("package", str(CHART), "--destination", str(tmp_path))
    (package,) = tmp_path.glob("company-exports-*.tgz")
    with tarfile.open(package) as archive:
        for link in links:
            member = archive.extractfile(f"company-exports/crds/{link.name}")
            assert member is not None
            assert member.read() == (REPOSITORY_CRDS / link.name).read_bytes()
        assert not [name for name in archive.getnames() if "/ci/" in name]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("api.replica=3", "at '/api': additional properties 'replica' not allowed"),
        ("api.port=70000", "at '/api/port': maximum: got 70,000, want 65,535"),
        ("image.pullPolicy=Sometimes", "at '/image/pullPolicy': value must be one of"),
        ("s3.bucket=Not_A_Bucket", "at '/s3/bucket'"),
        ("database.url=mysql://db/exports", "at '/database/url'"),
        ("api.settings.downloadUrlLifetimeSeconds=30", "downloadUrlLifetimeSeconds': minimum"),
        ("exporter.backoffLimit=11", "at '/exporter/backoffLimit': maximum"),
        (
            "exporter.settings.EXPORT_SLICE_ROWS=5000",
            "at '/exporter/settings/EXPORT_SLICE_ROWS': got number, want string",
        ),
        (
            "exporter.settings.export-slice-rows=5000",
            "at '/exporter/settings': additional properties 'export-slice-rows' not allowed",
        ),
        ("operator.settings.logLevel=LOUD", "at '/operator/settings/logLevel'"),
        ("s3.bucket=", "s3.bucket is required"),
        ("database.url=", "database.url is required when database.existingSecret is empty"),
        (
            "operator.settings.maxRunning=2,operator.settings.maxRunningPerSpace=3",
            "operator.settings.maxRunningPerSpace must not exceed operator.settings.maxRunning",
        ),
        (
            "operator.replicas=2,operator.peering.enabled=false",
            "operator.replicas > 1 needs operator.peering.enabled=true",
        ),
        ("webhooks.settings.concurrency=-1", "at '/webhooks/settings/concurrency': minimum"),
        ("webhooks.settings.timeoutSeconds=121", "at '/webhooks/settings/timeoutSeconds': maximum"),
        ("webhooks.replica=2", "at '/webhooks': additional properties 'replica' not allowed"),
        ("webhooks.allowedNetworks={10.0.0.1}", "at '/webhooks/allowedNetworks/0'"),
        ("webhooks.caBundle=not-a-certificate", "at '/webhooks/caBundle'"),
        ("api.settings.publicUrl=https://exports.example/status", "at '/api/settings/publicUrl'"),
        ("api.settings.webhookEndpointsPerSpace=0", "webhookEndpointsPerSpace': minimum"),
        (
            "webhooks.terminationGracePeriodSeconds=10",
            "webhooks.terminationGracePeriodSeconds must be at least webhooks.settings.timeout",
        ),
    ],
)
def test_a_wrong_value_fails_with_a_message_that_names_it(
    helm: Helm, setting: str, message: str
) -> None:
    with pytest.raises(RenderError) as refused:
        helm.template(MINIMAL_VALUES, settings=(setting,))
    assert message in str(refused.value)


@pytest.mark.parametrize("name", sorted(RESERVED_EXPORTER_ENV))
def test_exporter_settings_refuse_what_the_operator_sets(helm: Helm, name: str) -> None:
    """Refused at install, not later by the operator's start: the chart's list is the operator's."""
    with pytest.raises(RenderError) as refused:
        helm.template(MINIMAL_VALUES, settings=(f"exporter.settings.{name}=x",))
    assert f"exporter.settings.{name}: the operator sets {name} on each export Job itself" in str(
        refused.value
    )


def test_exporter_settings_reach_the_operator_as_a_json_object(helm: Helm) -> None:
    assert _operator_settings(helm.template(MINIMAL_VALUES))["EXPORT_OPERATOR_EXPORTER_ENV"] == "{}"
    tuned = {"EXPORT_DATABASE_CONNECTIONS": "4", "EXPORT_PART_BYTES": "16777216", "X": 'a "b"'}
    arguments = [f"exporter.settings.{name}={value}" for name, value in tuned.items()]
    objects = helm.template(MINIMAL_VALUES, extra=("--set-string", ",".join(arguments)))
    assert json.loads(_operator_settings(objects)["EXPORT_OPERATOR_EXPORTER_ENV"]) == tuned


@pytest.mark.parametrize("values", [MINIMAL_VALUES, PRODUCTION_VALUES], ids=lambda p: p.stem)
def test_every_pod_and_container_is_locked_down(helm: Helm, values: Path) -> None:
    pods = _pod_specs(helm.template(values))
    pre_pulling = {PREPULL} if values == PRODUCTION_VALUES else set()
    assert set(pods) == {f"{PREFIX}-api", f"{PREFIX}-operator", WEBHOOKS, *pre_pulling}
    for name, pod in pods.items():
        security = pod["securityContext"]
        assert security["runAsNonRoot"] is True, name
        assert security["runAsUser"] != 0, name
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in pod.get("initContainers", []) + pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, container["name"]
            assert context["allowPrivilegeEscalation"] is False, container["name"]
            assert context["capabilities"] == {"drop": ["ALL"]}, container["name"]
            assert container["resources"]["requests"], container["name"]
            assert container["resources"]["limits"]["memory"], container["name"]
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
        if name == PREPULL:  # an idle process: no health to report
            continue
        for container in pod["containers"]:
            assert container["livenessProbe"], name
            assert container["readinessProbe"], name


def test_each_component_has_its_own_identity_and_the_exporter_none(helm: Helm) -> None:
    objects = helm.template(MINIMAL_VALUES)
    accounts = {sa["metadata"]["name"]: sa for sa in objects_of_kind(objects, "ServiceAccount")}
    assert set(accounts) == {
        "release-company-exports-api",
        "release-company-exports-operator",
        "release-company-exports-exporter",
        "release-company-exports-webhooks",
    }
    assert all(sa["automountServiceAccountToken"] is False for sa in accounts.values())
    pods = _pod_specs(objects)
    for component in ("api", "operator"):
        pod = pods[f"release-company-exports-{component}"]
        assert pod["serviceAccountName"] == f"release-company-exports-{component}"
        assert pod["automountServiceAccountToken"] is True
    # The dispatcher never talks to Kubernetes: its own account, no token, no role.
    dispatcher = pods[WEBHOOKS]
    assert dispatcher["serviceAccountName"] == WEBHOOKS
    assert dispatcher["automountServiceAccountToken"] is False
    settings = _operator_settings(objects)
    assert settings["EXPORT_OPERATOR_SERVICE_ACCOUNT_NAME"] == "release-company-exports-exporter"
    bound = {
        subject["name"]
        for binding in objects_of_kind(objects, "RoleBinding")
        + objects_of_kind(objects, "ClusterRoleBinding")
        for subject in binding["subjects"]
    }
    assert bound == {"release-company-exports-api", "release-company-exports-operator"}


def test_no_role_grants_secrets_or_wildcards(helm: Helm) -> None:
    objects = helm.template(PRODUCTION_VALUES)
    roles = objects_of_kind(objects, "Role") + objects_of_kind(objects, "ClusterRole")
    for role in roles:
        for rule in role["rules"]:
            assert "secrets" not in rule["resources"], role["metadata"]["name"]
            assert "*" not in rule["resources"] + rule["verbs"] + rule["apiGroups"]
    api = named(objects, "Role", "release-company-exports-api")
    assert api["rules"] == [
        {
            "apiGroups": ["exports.companies.dev"],
            "resources": ["companyexports"],
            "verbs": ["get", "list", "watch", "create", "delete", "patch"],
        }
    ]


def test_existing_secrets_are_referenced_and_none_created(helm: Helm) -> None:
    objects = helm.template(PRODUCTION_VALUES)
    assert objects_of_kind(objects, "Secret") == []
    api = _pod_specs(objects)["release-company-exports-api"]["containers"][0]
    references = {
        env["name"]: env["valueFrom"]["secretKeyRef"]
        for env in api["env"]
        if "valueFrom" in env and "secretKeyRef" in env["valueFrom"]
    }
    assert references == {
        "DATABASE_URL": {"name": "exports-database", "key": "url"},
        "AWS_ACCESS_KEY_ID": {"name": "exports-s3", "key": "AWS_ACCESS_KEY_ID"},
        "AWS_SECRET_ACCESS_KEY": {"name": "exports-s3", "key": "AWS_SECRET_ACCESS_KEY"},
    }
    settings = _operator_settings(objects)
    assert settings["EXPORT_OPERATOR_DATABASE_SECRET_NAME"] == "exports-database"
    assert settings["EXPORT_OPERATOR_DATABASE_SECRET_KEY"] == "url"
    assert settings["EXPORT_OPERATOR_S3_SECRET_NAME"] == "exports-s3"
    assert "s3cret" not in yaml.safe_dump_all(objects)


def test_given_credentials_go_into_secrets_not_into_pod_specs(helm: Helm) -> None:
    objects = helm.template(MINIMAL_VALUES)
    assert {s["metadata"]["name"] for s in objects_of_kind(objects, "Secret")} == {
        "release-company-exports-database",
        "release-company-exports-s3",
    }
    others = [obj for obj in objects if obj["kind"] != "Secret"]
    assert "s3cret" not in yaml.safe_dump_all(others)
    assert "example-secret-key" not in yaml.safe_dump_all(others)


def _checksums(helm: Helm, *settings: str) -> dict[str, str]:
    return {
        name: deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        for deployment in objects_of_kind(
            helm.template(MINIMAL_VALUES, settings=settings), "Deployment"
        )
        for name in [deployment["metadata"]["name"]]
    }


def test_a_changed_setting_changes_the_pod_templates_that_read_it(helm: Helm) -> None:
    before = _checksums(helm)
    assert _checksums(helm) == before  # rendering is deterministic: no rollout without a change
    api_change = _checksums(helm, "api.settings.createLimit=9")
    assert api_change["release-company-exports-api"] != before["release-company-exports-api"]
    assert (
        api_change["release-company-exports-operator"] == before["release-company-exports-operator"]
    )
    operator_change = _checksums(helm, "exporter.backoffLimit=5")
    assert (
        operator_change["release-company-exports-operator"]
        != before["release-company-exports-operator"]
    )
    tuning = _checksums(helm, "exporter.settings.LOG_LEVEL=DEBUG")
    assert tuning["release-company-exports-operator"] != before["release-company-exports-operator"]
    secret_change = _checksums(helm, "database.url=postgresql://u:other@db/exports")
    assert secret_change["release-company-exports-api"] != before["release-company-exports-api"]
    assert secret_change[WEBHOOKS] != before[WEBHOOKS]
    assert api_change[WEBHOOKS] == before[WEBHOOKS]
    assert _checksums(helm, "webhooks.settings.concurrency=8")[WEBHOOKS] != before[WEBHOOKS]
    # The allowed networks are the API's setting too: both roll.
    networks = _checksums(helm, "webhooks.allowedNetworks={10.0.0.0/8}")
    assert networks[WEBHOOKS] != before[WEBHOOKS]
    assert networks[f"{PREFIX}-api"] != before[f"{PREFIX}-api"]


def test_the_operator_runs_export_jobs_with_the_charts_image_and_settings(helm: Helm) -> None:
    objects = helm.template(PRODUCTION_VALUES)
    settings = _operator_settings(objects)
    assert settings["EXPORT_OPERATOR_NAMESPACE"] == "exports"
    assert (
        settings["EXPORT_OPERATOR_EXPORTER_IMAGE"]
        == "registry.example/acme/company-exports-exporter:0.1.0"
    )
    assert settings["EXPORT_OPERATOR_EXPORTER_COMMAND"] == '["company-exporter"]'
    assert settings["EXPORT_OPERATOR_STANDALONE"] == "false"
    assert settings["EXPORT_OPERATOR_MAX_RUNNING"] == "20"
    peering = objects_of_kind(objects, "KopfPeering")
    assert [p["metadata"]["name"] for p in peering] == ["company-exports"]
    budgets = {p["metadata"]["name"] for p in objects_of_kind(objects, "PodDisruptionBudget")}
    assert budgets == {
        "release-company-exports-api",
        "release-company-exports-operator",
        "release-company-exports-webhooks",
    }


def test_an_empty_exporter_repository_runs_the_jobs_with_the_charts_image(helm: Helm) -> None:
    objects = helm.template(PRODUCTION_VALUES, settings=("exporter.image.repository=",))
    settings = _operator_settings(objects)
    assert (
        settings["EXPORT_OPERATOR_EXPORTER_IMAGE"] == "registry.example/acme/company-exports:0.1.0"
    )
    api = _pod_specs(objects)["release-company-exports-api"]["containers"][0]
    assert api["image"] == "registry.example/acme/company-exports:0.1.0"


def test_digests_pin_the_images_and_replace_the_tags(helm: Helm) -> None:
    app, exporter = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    objects = helm.template(
        PRODUCTION_VALUES,
        settings=(f"image.digest={app}", f"exporter.image.digest={exporter}", "image.tag=v9"),
    )
    api = _pod_specs(objects)["release-company-exports-api"]["containers"][0]
    assert api["image"] == f"registry.example/acme/company-exports@{app}"
    assert (
        _operator_settings(objects)["EXPORT_OPERATOR_EXPORTER_IMAGE"]
        == f"registry.example/acme/company-exports-exporter@{exporter}"
    )


def test_a_digest_that_is_not_sha256_is_refused(helm: Helm) -> None:
    with pytest.raises(RenderError, match="digest"):
        helm.template(PRODUCTION_VALUES, settings=("image.digest=latest",))


def test_single_replicas_get_no_disruption_budget_that_would_block_drains(helm: Helm) -> None:
    objects = helm.template(MINIMAL_VALUES, settings=("api.replicas=1",))
    assert objects_of_kind(objects, "PodDisruptionBudget") == []


def test_export_pods_accept_no_traffic(helm: Helm) -> None:
    policy = named(
        helm.template(MINIMAL_VALUES), "NetworkPolicy", "release-company-exports-exporter"
    )
    assert policy["spec"]["ingress"] == []
    assert policy["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/managed-by": "company-exports-operator",
        "app.kubernetes.io/component": "exporter",
    }


def test_pre_pulling_is_off_by_default_and_holds_the_export_jobs_image_when_on(
    helm: Helm,
) -> None:
    assert objects_of_kind(helm.template(MINIMAL_VALUES), "DaemonSet") == []
    digest = "sha256:" + "c" * 64
    objects = helm.template(
        PRODUCTION_VALUES,
        settings=(
            f"exporter.image.digest={digest}",
            "exporter.prePull.nodeSelector.pool=exports",
            "exporter.prePull.tolerations[0].key=dedicated",
            "exporter.prePull.tolerations[0].operator=Exists",
        ),
    )
    pod = named(objects, "DaemonSet", PREPULL)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == _operator_settings(objects)["EXPORT_OPERATOR_EXPORTER_IMAGE"]
    assert container["image"].endswith(f"@{digest}")
    assert container["command"][:2] == ["python3", "-c"]
    assert "SIGTERM" in container["command"][2]  # PID 1 stops at once on a rollout
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == f"{PREFIX}-exporter"
    assert pod["nodeSelector"] == {"pool": "exports"}
    assert pod["tolerations"] == [{"key": "dedicated", "operator": "Exists"}]
    policy = named(objects, "NetworkPolicy", PREPULL)["spec"]
    daemonset = named(objects, "DaemonSet", PREPULL)
    assert policy["podSelector"] == daemonset["spec"]["selector"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["ingress"] == []  # no rule: nothing in
    # Nor out, though these values give the chart's other Pods egress rules.
    assert named(objects, "NetworkPolicy", f"{PREFIX}-exporter")["spec"]["egress"]
    assert "egress" not in policy


def test_helm_template_needs_no_cluster() -> None:
    # The chart must render offline (CI lint jobs have no cluster): no lookup() of live objects.
    templates = "\n".join(p.read_text() for p in (CHART / "templates").rglob("*.yaml"))
    assert "lookup" not in templates


def test_large_integer_settings_render_as_plain_integers(helm: Helm, tmp_path: Path) -> None:
    """YAML numbers reach templates as floats: without `int64`, 1000000 would render "1e+06"."""
    large = tmp_path / "large-values.yaml"
    large.write_text(
        "operator:\n  settings:\n    retentionSeconds: 2000000\n"
        "api:\n  settings:\n    statusLimit: 1000000\n"
        "webhooks:\n  settings:\n    retryWindowSeconds: 604800\n"
    )
    objects = helm.template(MINIMAL_VALUES, large)
    assert _operator_settings(objects)["EXPORT_OPERATOR_RETENTION_SECONDS"] == "2000000"
    api = named(objects, "ConfigMap", "release-company-exports-api")["data"]
    assert api["STATUS_LIMIT"] == "1000000"
    webhooks = named(objects, "ConfigMap", WEBHOOKS)["data"]
    assert webhooks["WEBHOOK_RETRY_WINDOW_SECONDS"] == "604800"  # not 6.048e+05
    assert webhooks["WEBHOOK_BACKOFF_MAX_SECONDS"] == "3600"


def _dispatcher(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The dispatcher's Pod spec."""
    return _pod_specs(objects)[WEBHOOKS]


def _component_objects(objects: list[dict[str, Any]], component: str) -> list[str]:
    return [
        f"{obj['kind']}/{obj['metadata']['name']}"
        for obj in objects
        if obj["metadata"].get("labels", {}).get("app.kubernetes.io/component") == component
        or obj["metadata"]["name"].startswith(f"{PREFIX}-{component}")
    ]


def test_the_dispatcher_runs_with_its_settings_the_database_and_nothing_else(helm: Helm) -> None:
    objects = helm.template(
        MINIMAL_VALUES,
        settings=(
            "webhooks.settings.concurrency=64",
            "webhooks.settings.endpointConcurrency=2",
            "webhooks.settings.logLevel=DEBUG",
        ),
    )
    pod = _dispatcher(objects)
    (container,) = pod["containers"]
    assert container["command"] == ["export-webhooks"]
    assert container["image"] == "company-exports:0.1.0"
    assert container["envFrom"] == [{"configMapRef": {"name": WEBHOOKS}}]
    # The database URL by reference, and no S3 or Kubernetes credentials at all.
    assert container["env"] == [
        {
            "name": "DATABASE_URL",
            "valueFrom": {"secretKeyRef": {"name": f"{PREFIX}-database", "key": "DATABASE_URL"}},
        }
    ]
    assert pod["automountServiceAccountToken"] is False
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    assert pod["terminationGracePeriodSeconds"] == 30
    assert container["ports"] == [{"name": "metrics", "containerPort": 9102, "protocol": "TCP"}]
    for probe in (container["livenessProbe"], container["readinessProbe"]):
        assert probe["httpGet"] == {"path": "/metrics", "port": "metrics"}
    assert named(objects, "ConfigMap", WEBHOOKS)["data"] == {
        "LOG_LEVEL": "DEBUG",
        "METRICS_PORT": "9102",
        "WEBHOOK_CONCURRENCY": "64",
        "WEBHOOK_ENDPOINT_CONCURRENCY": "2",
        "WEBHOOK_CONNECT_TIMEOUT_SECONDS": "5",
        "WEBHOOK_TIMEOUT_SECONDS": "15",
        "WEBHOOK_BACKOFF_SECONDS": "5",
        "WEBHOOK_BACKOFF_MAX_SECONDS": "3600",
        "WEBHOOK_RETRY_WINDOW_SECONDS": "86400",
        "WEBHOOK_POLL_SECONDS": "1",
        "WEBHOOK_ALLOWED_NETWORKS": "",
    }
    deployment = named(objects, "Deployment", WEBHOOKS)
    assert deployment["spec"]["replicas"] == 1
    assert "checksum/config" in deployment["spec"]["template"]["metadata"]["annotations"]
    metrics = named(objects, "Service", f"{WEBHOOKS}-metrics")
    assert metrics["spec"]["ports"][0]["port"] == 9102
    # No role is bound to it (test_each_component_has_its_own_identity: only the API's and the
    # operator's accounts are subjects).


def test_the_api_gets_its_public_url_and_endpoint_cap(helm: Helm) -> None:
    default = named(helm.template(MINIMAL_VALUES), "ConfigMap", f"{PREFIX}-api")["data"]
    assert default["PUBLIC_URL"] == ""
    assert default["WEBHOOK_ENDPOINTS_PER_SPACE"] == "10"
    objects = helm.template(
        PRODUCTION_VALUES, settings=("api.settings.webhookEndpointsPerSpace=3",)
    )
    api = named(objects, "ConfigMap", f"{PREFIX}-api")["data"]
    assert api["PUBLIC_URL"] == "https://exports.acme.example"
    assert api["WEBHOOK_ENDPOINTS_PER_SPACE"] == "3"


def test_allowed_networks_reach_the_api_and_the_dispatcher(helm: Helm) -> None:
    objects = helm.template(
        MINIMAL_VALUES, settings=("webhooks.allowedNetworks={10.96.0.0/12,fd00::/8}",)
    )
    api = named(objects, "ConfigMap", f"{PREFIX}-api")["data"]
    dispatcher = named(objects, "ConfigMap", WEBHOOKS)["data"]
    assert api["WEBHOOK_ALLOWED_NETWORKS"] == "10.96.0.0/12,fd00::/8"
    assert dispatcher["WEBHOOK_ALLOWED_NETWORKS"] == "10.96.0.0/12,fd00::/8"
    default = helm.template(MINIMAL_VALUES)
    assert named(default, "ConfigMap", f"{PREFIX}-api")["data"]["WEBHOOK_ALLOWED_NETWORKS"] == ""


def test_a_ca_bundle_is_mounted_read_only_and_named_by_webhook_ca_bundle(
    helm: Helm, tmp_path: Path
) -> None:
    values = tmp_path / "ca-values.yaml"
    values.write_text(yaml.safe_dump({"webhooks": {"caBundle": PEM}}))
    objects = helm.template(MINIMAL_VALUES, values)
    bundle = named(objects, "ConfigMap", f"{WEBHOOKS}-ca")
    assert bundle["data"] == {"ca.crt": PEM}
    setting = named(objects, "ConfigMap", WEBHOOKS)["data"]["WEBHOOK_CA_BUNDLE"]
    assert setting == f"{CA_DIRECTORY}/ca.crt"
    pod = _dispatcher(objects)
    assert {"name": "ca-bundle", "configMap": {"name": f"{WEBHOOKS}-ca"}} in pod["volumes"]
    (container,) = pod["containers"]
    mount = {"name": "ca-bundle", "mountPath": CA_DIRECTORY, "readOnly": True}
    assert mount in container["volumeMounts"]
    # The mounted file is the ConfigMap's key, under the directory WEBHOOK_CA_BUNDLE names.
    assert setting == f"{mount['mountPath']}/{next(iter(bundle['data']))}"
    # The bundle is part of the dispatcher's configuration: a new one rolls its Pods.
    plain = named(helm.template(MINIMAL_VALUES), "Deployment", WEBHOOKS)
    assert (
        named(objects, "Deployment", WEBHOOKS)["spec"]["template"]["metadata"]["annotations"]
        != plain["spec"]["template"]["metadata"]["annotations"]
    )
    # Without one: the public authorities, and nothing mounted.
    default = helm.template(MINIMAL_VALUES)
    assert "WEBHOOK_CA_BUNDLE" not in named(default, "ConfigMap", WEBHOOKS)["data"]
    assert f"ConfigMap/{WEBHOOKS}-ca" not in _component_objects(default, "webhooks")


def test_disabled_webhooks_render_no_dispatcher_objects(helm: Helm, tmp_path: Path) -> None:
    values = tmp_path / "off-values.yaml"
    values.write_text(
        yaml.safe_dump(
            {"webhooks": {"enabled": False, "replicas": 3, "caBundle": PEM}},
        )
    )
    everything = (SERVICE_MONITOR_VALUES, PRODUCTION_VALUES, values)
    objects = helm.template(*everything, extra=WITH_SERVICE_MONITOR_CRD)
    assert _component_objects(objects, "webhooks") == []
    assert f"{PREFIX}-api" in _pod_specs(objects)
    # The API still checks URLs against the (empty) list when endpoints are registered.
    assert named(objects, "ConfigMap", f"{PREFIX}-api")["data"]["WEBHOOK_ALLOWED_NETWORKS"] == ""
    enabled = helm.template(*everything[:2], extra=WITH_SERVICE_MONITOR_CRD)
    assert sorted(_component_objects(enabled, "webhooks")) == [
        f"ConfigMap/{WEBHOOKS}",
        f"Deployment/{WEBHOOKS}",
        f"NetworkPolicy/{WEBHOOKS}",
        f"PodDisruptionBudget/{WEBHOOKS}",
        f"Service/{WEBHOOKS}-metrics",
        f"ServiceAccount/{WEBHOOKS}",
        f"ServiceMonitor/{WEBHOOKS}",
    ]


def test_metrics_port_zero_turns_off_the_dispatchers_metrics_and_probes(helm: Helm) -> None:
    objects = helm.template(
        SERVICE_MONITOR_VALUES, settings=("webhooks.metricsPort=0",), extra=WITH_SERVICE_MONITOR_CRD
    )
    assert named(objects, "ConfigMap", WEBHOOKS)["data"]["METRICS_PORT"] == "0"
    (container,) = _dispatcher(objects)["containers"]
    assert not {"ports", "livenessProbe", "readinessProbe"} & set(container)
    assert sorted(_component_objects(objects, "webhooks")) == [
        f"ConfigMap/{WEBHOOKS}",
        f"Deployment/{WEBHOOKS}",
        f"NetworkPolicy/{WEBHOOKS}",
        f"ServiceAccount/{WEBHOOKS}",
    ]
    assert named(objects, "NetworkPolicy", WEBHOOKS)["spec"]["ingress"] == []


def test_the_dispatcher_accepts_only_metrics_and_reaches_only_public_addresses(
    helm: Helm,
) -> None:
    # Unrestricted egress: the dispatcher's policy only limits who scrapes it.
    policy = named(helm.template(MINIMAL_VALUES), "NetworkPolicy", WEBHOOKS)["spec"]
    assert policy["policyTypes"] == ["Ingress"]
    assert policy["ingress"] == [{"ports": [{"port": 9102, "protocol": "TCP"}]}]

    objects = helm.template(
        PRODUCTION_VALUES, settings=("webhooks.allowedNetworks={10.96.0.0/12,fd00::/8}",)
    )
    policy = named(objects, "NetworkPolicy", WEBHOOKS)["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "webhooks"
    monitoring = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
    }
    assert policy["ingress"] == [
        {"ports": [{"port": 9102, "protocol": "TCP"}], "from": [monitoring]}
    ]
    dns, database, internet, allowed = policy["egress"]
    assert {port["port"] for port in dns["ports"]} == {53}
    assert database == {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}  # networkPolicy.egress
    # Any TCP port (a URL may name one) to every address but the private ranges.
    assert internet["ports"] == [{"protocol": "TCP"}]
    ipv4, ipv6 = (peer["ipBlock"] for peer in internet["to"])
    assert ipv4 == {"cidr": "0.0.0.0/0", "except": PRIVATE_IPV4}
    assert ipv6["cidr"] == "::/0"
    assert {"::1/128", "fc00::/7", "fe80::/10"} <= set(ipv6["except"])
    assert allowed == {
        "ports": [{"protocol": "TCP"}],
        "to": [{"ipBlock": {"cidr": "10.96.0.0/12"}}, {"ipBlock": {"cidr": "fd00::/8"}}],
    }
    # The other components get no internet: DNS and the given rules only.
    for component in ("api", "operator", "exporter"):
        others = named(objects, "NetworkPolicy", f"{PREFIX}-{component}")["spec"]["egress"]
        assert others[1:] == [database], component
