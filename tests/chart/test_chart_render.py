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


def _pod_specs(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        obj["metadata"]["name"]: obj["spec"]["template"]["spec"]
        for obj in objects_of_kind(objects, "Deployment")
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
    for name, pod in _pod_specs(helm.template(values)).items():
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
    }
    assert all(sa["automountServiceAccountToken"] is False for sa in accounts.values())
    pods = _pod_specs(objects)
    for component in ("api", "operator"):
        pod = pods[f"release-company-exports-{component}"]
        assert pod["serviceAccountName"] == f"release-company-exports-{component}"
        assert pod["automountServiceAccountToken"] is True
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
    assert budgets == {"release-company-exports-api", "release-company-exports-operator"}


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
    )
    objects = helm.template(MINIMAL_VALUES, large)
    assert _operator_settings(objects)["EXPORT_OPERATOR_RETENTION_SECONDS"] == "2000000"
    api = named(objects, "ConfigMap", "release-company-exports-api")["data"]
    assert api["STATUS_LIMIT"] == "1000000"
