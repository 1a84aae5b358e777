"""The Job manifest and how a Job's status is read."""

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from export_contracts.date_field import DateField
from export_contracts.exporter import ExitCode, ExporterParameters
from export_contracts.resource import CompanyExportSpec
from export_operator.jobs import (
    JobPhase,
    JobView,
    Owner,
    job_manifest,
    object_key,
    owner_name,
    shard_count,
)
from export_operator.settings import RESERVED_EXPORTER_ENV, OperatorSettings

pytestmark = pytest.mark.unit


@pytest.fixture
def manifest(
    owner: Owner, spec: CompanyExportSpec, operator_settings: OperatorSettings
) -> dict[str, Any]:
    return job_manifest(owner, spec, "exports/3/abc.ndjson.gz", operator_settings)


def _container(manifest: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = manifest["spec"]["template"]["spec"]["containers"][0]
    return container


def test_job_is_named_after_and_owned_by_the_export(manifest: dict[str, Any]) -> None:
    meta = manifest["metadata"]
    assert (meta["namespace"], meta["name"]) == ("tenant-a", "export-42")
    [ref] = meta["ownerReferences"]
    assert ref["kind"] == "CompanyExport"
    assert (ref["uid"], ref["controller"], ref["blockOwnerDeletion"]) == ("uid-42", True, True)
    assert meta["labels"]["exports.companies.dev/space-id"] == "3"
    assert meta["labels"]["app.kubernetes.io/managed-by"] == "company-exports-operator"
    assert manifest["spec"]["template"]["metadata"]["labels"] == meta["labels"]


def test_job_starts_suspended_with_its_limits(manifest: dict[str, Any]) -> None:
    spec = manifest["spec"]
    assert spec["suspend"] is True
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"]) == (2, 3600)
    assert spec["ttlSecondsAfterFinished"] >= 3600
    assert spec["template"]["spec"]["restartPolicy"] == "Never"


def test_pod_failure_policy_fails_at_once_on_bad_request(manifest: dict[str, Any]) -> None:
    first = manifest["spec"]["podFailurePolicy"]["rules"][0]
    assert first["action"] == "FailJob"
    assert first["onExitCodes"] == {
        "containerName": "exporter",
        "operator": "In",
        "values": [int(ExitCode.BAD_REQUEST)],
    }


def test_pod_is_locked_down(manifest: dict[str, Any]) -> None:
    pod_spec = manifest["spec"]["template"]["spec"]
    assert pod_spec["automountServiceAccountToken"] is False
    assert pod_spec["securityContext"]["runAsNonRoot"] is True
    security = _container(manifest)["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert set(_container(manifest)["resources"]) == {"requests", "limits"}


def test_pod_has_no_volumes(manifest: dict[str, Any]) -> None:
    # A Pod with any volume starts ~0.3 s later: the kubelet polls its mounts every 300 ms.
    assert "volumes" not in manifest["spec"]["template"]["spec"]
    assert "volumeMounts" not in _container(manifest)


def test_parameters_are_env_and_credentials_only_secret_references(
    manifest: dict[str, Any],
) -> None:
    env = {e["name"]: e for e in _container(manifest)["env"]}
    parameters = ExporterParameters.model_validate(
        {
            "export_id": env["EXPORT_ID"]["value"],
            "space_id": env["SPACE_ID"]["value"],
            "range_start": env["RANGE_START"]["value"],
            "range_end": env["RANGE_END"]["value"],
            "bucket": env["EXPORT_BUCKET"]["value"],
            "object_key": env["OBJECT_KEY"]["value"],
        }
    )
    assert parameters.range_start == datetime(2024, 1, 14, 23, tzinfo=UTC)
    assert parameters.object_key == "exports/3/abc.ndjson.gz"
    for name in ("DATABASE_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert set(env[name]) == {"name", "valueFrom"}, name
        assert "secretKeyRef" in env[name]["valueFrom"]
    path = _container(manifest)["terminationMessagePath"]
    assert env["TERMINATION_MESSAGE_PATH"]["value"] == path


def test_exporter_command_comes_from_settings(
    owner: Owner, spec: CompanyExportSpec, operator_settings: OperatorSettings
) -> None:
    custom = operator_settings.model_copy(update={"exporter_command": ["python", "/x.py"]})
    manifest = job_manifest(owner, spec, "k", custom)
    assert _container(manifest)["command"] == ["python", "/x.py"]


def test_exporter_settings_follow_the_operators_own_variables(
    owner: Owner, spec: CompanyExportSpec, operator_settings: OperatorSettings
) -> None:
    exporter_env = {"LOG_LEVEL": "DEBUG", "EXPORT_DATABASE_CONNECTIONS": "4"}
    custom = operator_settings.model_copy(update={"exporter_env": exporter_env})
    env = _container(job_manifest(owner, spec, "k", custom))["env"]
    assert env[-2:] == [
        {"name": "EXPORT_DATABASE_CONNECTIONS", "value": "4"},
        {"name": "LOG_LEVEL", "value": "DEBUG"},
    ]


def test_the_reserved_names_are_exactly_what_the_operator_sets(manifest: dict[str, Any]) -> None:
    # A variable added to the Job without reserving it could be overridden by exporter_env.
    assert {e["name"] for e in _container(manifest)["env"]} == set(RESERVED_EXPORTER_ENV)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("DATABASE_URL", "cannot set DATABASE_URL, which the operator sets on each export Job"),
        ("OBJECT_KEY", "cannot set OBJECT_KEY, which the operator sets"),
        ("S3_ENDPOINT_URL", "remove it (to change it, set S3_ENDPOINT_URL on the operator)"),
        ("export_slice_rows", "'export_slice_rows' is not a valid variable name"),
        ("1ST", "'1ST' is not a valid variable name"),
        ("A-B", "'A-B' is not a valid variable name"),
    ],
)
def test_exporter_settings_refuse_a_reserved_or_invalid_name(name: str, message: str) -> None:
    with pytest.raises(ValidationError, match="EXPORT_OPERATOR_EXPORTER_ENV") as refused:
        OperatorSettings(bucket="exports", exporter_env={"LOG_LEVEL": "DEBUG", name: "pa55word"})
    assert message in str(refused.value)
    # Only the offending name, and never its value: it may be a secret put there by mistake.
    assert "LOG_LEVEL" not in str(refused.value)
    assert "pa55word" not in str(refused.value)


def test_object_key_is_grouped_by_space() -> None:
    assert object_key(3, "f00") == "exports/3/f00.ndjson.gz"


def _job(manifest: dict[str, Any], **status: Any) -> dict[str, Any]:
    job = {**manifest, "status": status}
    job["metadata"] = {
        **manifest["metadata"],
        "uid": "job-uid",
        "creationTimestamp": "2026-01-01T10:00:00Z",
    }
    return job


def _condition(kind: str, reason: str = "") -> dict[str, str]:
    return {
        "type": kind,
        "status": "True",
        "reason": reason,
        "lastTransitionTime": "2026-01-01T10:05:00Z",
    }


@pytest.mark.parametrize(
    ("suspend", "status", "phase"),
    [
        (True, {}, JobPhase.SUSPENDED),
        (False, {"startTime": "2026-01-01T10:01:00Z", "active": 1}, JobPhase.RUNNING),
        (False, {"conditions": [_condition("Complete")]}, JobPhase.SUCCEEDED),
        (False, {"conditions": [_condition("Failed", "DeadlineExceeded")]}, JobPhase.FAILED),
        (True, {"conditions": [_condition("Failed", "DeadlineExceeded")]}, JobPhase.FAILED),
    ],
)
def test_job_phase(
    manifest: dict[str, Any], suspend: bool, status: dict[str, Any], phase: JobPhase
) -> None:
    job = _job(manifest, **status)
    job["spec"] = {**job["spec"], "suspend": suspend}
    view = JobView.of(job)
    assert view.phase is phase
    assert view.occupies_slot is (phase is JobPhase.RUNNING)


def test_job_view_reads_owner_space_key_and_failure(manifest: dict[str, Any]) -> None:
    job = _job(manifest, conditions=[_condition("Failed", "PodFailurePolicy")])
    view = JobView.of(job)
    assert (view.owner_uid, view.space_id) == ("uid-42", 3)
    assert view.object_key == "exports/3/abc.ndjson.gz"
    assert view.failure_reason == "PodFailurePolicy"
    assert view.finished_at == datetime(2026, 1, 1, 10, 5, tzinfo=UTC)
    assert owner_name(job) == "export-42"


@pytest.mark.parametrize(
    ("estimated_rows", "settings", "shards"),
    [
        (None, {}, 1),  # created by hand, without an estimate
        (5_000_000, {}, 1),  # not above the threshold
        (5_000_001, {}, 2),
        (12_000_000, {}, 3),
        (100_000_000, {}, 4),  # max_shards
        (100_000_000, {"max_shards": 16, "max_running_per_space": 6}, 5),  # the space's Pods
        (100_000_000, {"max_running_per_space": 2}, 1),  # room for one shard: no sharding
        (30, {"shard_rows": 10, "max_shards": 1}, 1),  # sharding off
    ],
)
def test_shards_come_from_the_estimate_within_the_caps(
    spec: CompanyExportSpec,
    estimated_rows: int | None,
    settings: dict[str, int],
    shards: int,
) -> None:
    operator_settings = OperatorSettings(bucket="exports", **settings)
    assert shard_count(estimated_rows, operator_settings) == shards


def test_a_large_export_runs_as_an_indexed_job_of_shards_and_a_coordinator(
    owner: Owner, spec: CompanyExportSpec, operator_settings: OperatorSettings
) -> None:
    large = spec.model_copy(update={"estimated_rows": 12_000_000})
    manifest = job_manifest(owner, large, "exports/3/abc.ndjson.gz", operator_settings)

    job = manifest["spec"]
    assert (job["completionMode"], job["completions"], job["parallelism"]) == ("Indexed", 4, 4)
    # A failed shard is retried alone; one failing for good fails the Job (and the export).
    assert (job["backoffLimitPerIndex"], job["maxFailedIndexes"]) == (2, 0)
    assert "backoffLimit" not in job
    assert job["suspend"] is True
    env = {each["name"]: each.get("value") for each in _container(manifest)["env"]}
    assert env["EXPORT_SHARDS"] == "3"
    assert JobView.of({**manifest, "metadata": {**manifest["metadata"], "uid": "u",
                       "creationTimestamp": "2026-01-01T00:00:00Z"}}).pods == 4  # fmt: skip


def test_the_job_carries_the_date_field(
    owner: Owner,
    spec: CompanyExportSpec,
    operator_settings: OperatorSettings,
    manifest: dict[str, Any],
) -> None:
    incremental = spec.model_copy(update={"date_field": DateField.UPDATED_AT})
    updated = job_manifest(owner, incremental, "exports/3/abc.ndjson.gz", operator_settings)
    env = {each["name"]: each.get("value") for each in _container(updated)["env"]}
    assert env["EXPORT_DATE_FIELD"] == "updated_at"
    default = {each["name"]: each.get("value") for each in _container(manifest)["env"]}
    assert default["EXPORT_DATE_FIELD"] == "created_at"


def test_a_small_export_runs_in_one_pod(manifest: dict[str, Any]) -> None:
    assert "completionMode" not in manifest["spec"]
    env = {each["name"]: each.get("value") for each in _container(manifest)["env"]}
    assert env["EXPORT_SHARDS"] == "1"
