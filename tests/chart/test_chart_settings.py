"""The chart's environment is what the programs read: every variable it sets is a setting of the
program (the settings ignore unknown names, so a misspelt one would pass unnoticed), and the
settings built from it carry the chart's values through to the export Jobs the operator creates.
"""

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from export_api.settings import ApiSettings
from export_contracts.resource import CompanyExportSpec
from export_operator.jobs import Owner, job_manifest
from export_operator.settings import OperatorSettings
from export_webhooks.settings import DispatcherSettings
from tests.chart.conftest import MINIMAL_VALUES, Helm, named, objects_of_kind

pytestmark = pytest.mark.unit

PREFIX = "release-company-exports"
SPEC = CompanyExportSpec.model_validate(
    {
        "exportId": 7,
        "spaceId": 3,
        "requested": {
            "startDate": "2024-01-15 00:00:00",
            "endDate": "2024-01-15 23:59:59",
            "timezone": "Europe/Berlin",
        },
        "range": {"start": "2024-01-14T23:00:00Z", "end": "2024-01-15T23:00:00Z"},
    }
)


def _secret_value(objects: list[dict[str, Any]], reference: dict[str, str]) -> str:
    value: str = named(objects, "Secret", reference["name"])["stringData"][reference["key"]]
    return value


def _container_environment(objects: list[dict[str, Any]], component: str) -> dict[str, str]:
    """The main container's environment as the node would resolve it (envFrom, then env)."""
    deployment = named(objects, "Deployment", f"{PREFIX}-{component}")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    environment: dict[str, str] = {}
    for source in container["envFrom"]:
        environment.update(named(objects, "ConfigMap", source["configMapRef"]["name"])["data"])
    for variable in container["env"]:
        origin = variable.get("valueFrom", {})
        if "secretKeyRef" in origin:
            environment[variable["name"]] = _secret_value(objects, origin["secretKeyRef"])
        elif "fieldRef" in origin:
            environment[variable["name"]] = f"{PREFIX}-{component}-pod"
        else:
            environment[variable["name"]] = variable["value"]
    return environment


def _settings_names(model: type[BaseSettings], prefix: str) -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        names.add(f"{prefix}{name}".upper())
        choices = getattr(field.validation_alias, "choices", [])
        names.update(str(choice).upper() for choice in choices)
    return names


def _load(
    model: type[BaseSettings], environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Any:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return model()


@pytest.fixture
def objects(helm: Helm) -> list[dict[str, Any]]:
    return helm.template(
        MINIMAL_VALUES,
        settings=(
            "s3.endpointUrl=http://s3.example:8333",
            "api.settings.createLimit=9",
            "api.settings.downloadUrlLifetimeSeconds=600",
            "operator.settings.maxRunning=4",
            "operator.settings.maxRunningPerSpace=1",
            "exporter.backoffLimit=5",
            "api.settings.publicUrl=https://exports.example.com",
            "webhooks.settings.concurrency=16",
            "webhooks.settings.retryWindowSeconds=3600",
            "webhooks.allowedNetworks={10.96.0.0/12,fd00::/8}",
        ),
        # Strings, as the schema wants them: --set would make the number an integer.
        extra=("--set-string", "exporter.settings.EXPORT_DATABASE_CONNECTIONS=4"),
    )


def test_the_apis_environment_is_its_settings(
    objects: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    config_map = named(objects, "ConfigMap", f"{PREFIX}-api")["data"]
    assert set(config_map) <= _settings_names(ApiSettings, "")
    settings = _load(ApiSettings, _container_environment(objects, "api"), monkeypatch)
    assert settings.export_namespace == "exports"
    assert settings.create_limit == 9
    assert settings.download_url_lifetime_seconds == 600
    assert settings.export_bucket == "company-exports"
    assert settings.s3_endpoint_url == "http://s3.example:8333"
    assert str(settings.database_url).startswith("postgresql://exports:")
    assert settings.aws_secret_access_key.get_secret_value() == "example-secret-key"
    assert settings.public_url == "https://exports.example.com"
    assert settings.webhook_endpoints_per_space == 10
    assert [str(network) for network in settings.webhook_allowed_networks] == [
        "10.96.0.0/12",
        "fd00::/8",
    ]


def test_the_dispatchers_environment_is_its_settings(
    objects: list[dict[str, Any]], helm: Helm, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config_map = named(objects, "ConfigMap", f"{PREFIX}-webhooks")["data"]
    assert set(config_map) <= _settings_names(DispatcherSettings, "")
    environment = _container_environment(objects, "webhooks")
    assert not [name for name in environment if name.startswith(("AWS_", "EXPORT_", "S3_"))]
    settings = _load(DispatcherSettings, environment, monkeypatch)
    assert str(settings.database_url).startswith("postgresql://exports:")
    assert settings.webhook_concurrency == 16
    assert settings.webhook_endpoint_concurrency == 4
    assert settings.webhook_retry_window_seconds == 3600
    assert settings.metrics_port == 9102
    assert [str(network) for network in settings.webhook_allowed_networks] == [
        "10.96.0.0/12",
        "fd00::/8",
    ]
    assert settings.webhook_ca_bundle is None
    # With a CA bundle, the file WEBHOOK_CA_BUNDLE names is the certificates (as mounted).
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    values = tmp_path / "ca-values.yaml"
    values.write_text(yaml.safe_dump({"webhooks": {"caBundle": pem}}))
    with_bundle = helm.template(MINIMAL_VALUES, values)
    environment = _container_environment(with_bundle, "webhooks")
    assert set(environment) <= _settings_names(DispatcherSettings, "")
    mounted = tmp_path / "ca.crt"
    mounted.write_text(named(with_bundle, "ConfigMap", f"{PREFIX}-webhooks-ca")["data"]["ca.crt"])
    assert environment["WEBHOOK_CA_BUNDLE"].endswith("/ca.crt")
    environment["WEBHOOK_CA_BUNDLE"] = str(mounted)
    assert _load(DispatcherSettings, environment, monkeypatch).webhook_ca_bundle == mounted


def test_the_operators_environment_is_its_settings_and_reaches_the_export_jobs(
    objects: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    config_map = named(objects, "ConfigMap", f"{PREFIX}-operator")["data"]
    assert set(config_map) <= _settings_names(OperatorSettings, "EXPORT_OPERATOR_")
    settings = _load(OperatorSettings, _container_environment(objects, "operator"), monkeypatch)
    assert settings.namespace == "exports"
    assert settings.max_running == 4
    assert settings.max_running_per_space == 1
    assert settings.bucket == "company-exports"
    assert settings.exporter_env == {"EXPORT_DATABASE_CONNECTIONS": "4"}

    job = job_manifest(
        Owner("exports", "export-7", "uid-7"), SPEC, "exports/3/k.ndjson.gz", settings
    )
    pod = job["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == f"{PREFIX}-exporter"
    assert job["spec"]["backoffLimit"] == 5
    (container,) = pod["containers"]
    assert container["image"] == "company-exports-exporter:0.1.0"
    assert container["command"] == ["company-exporter"]
    assert {"name": "EXPORT_DATABASE_CONNECTIONS", "value": "4"} in container["env"]
    # Every Secret the Job references is one the chart creates, with that key in it.
    references = [
        variable["valueFrom"]["secretKeyRef"]
        for variable in container["env"]
        if "secretKeyRef" in variable.get("valueFrom", {})
    ]
    assert {ref["name"] for ref in references} == {
        secret["metadata"]["name"] for secret in objects_of_kind(objects, "Secret")
    }
    for reference in references:
        assert _secret_value(objects, reference)
