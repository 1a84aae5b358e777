"""The export's Job: the manifest the operator creates, and what a Job's status says.

Pure functions over plain dicts (the Kubernetes wire form), unit-tested without a cluster.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from export_contracts import resource
from export_contracts.exporter import PARAMETER_ENV, ExitCode, ExporterParameters
from export_operator.settings import OperatorSettings

CONTAINER_NAME = "exporter"
# Set by the Job controller on its Pods; selects a Job's Pods.
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"


@dataclass(frozen=True, slots=True)
class Owner:
    """The CompanyExport a Job belongs to."""

    namespace: str
    name: str
    uid: str


def object_key(space_id: int, file_id: str) -> str:
    """The file's S3 key: random (never derived from the export id), grouped by space."""
    return f"exports/{space_id}/{file_id}.ndjson.gz"


def job_labels(spec: resource.CompanyExportSpec) -> dict[str, str]:
    return {
        **resource.labels(spec.space_id, spec.export_id),
        resource.MANAGED_BY_LABEL: resource.MANAGED_BY,
        "app.kubernetes.io/component": "exporter",
    }


def shard_count(estimated_rows: int | None, settings: OperatorSettings) -> int:
    """How many shards read an export: 1 (one Pod) unless its estimate passes the threshold;
    then one per `shard_rows` rows, capped by `max_shards` and by the per-space cap, which must
    also fit the coordinator's Pod."""
    if not estimated_rows or estimated_rows <= settings.shard_rows:
        return 1
    wanted = math.ceil(estimated_rows / settings.shard_rows)
    shards = min(wanted, settings.max_shards, settings.max_running_per_space - 1)
    return shards if shards > 1 else 1


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _container_env(
    parameters: ExporterParameters, settings: OperatorSettings
) -> list[dict[str, Any]]:
    values = parameters.model_dump(mode="json")
    env: list[dict[str, Any]] = [
        {"name": PARAMETER_ENV[field], "value": str(values[field])} for field in PARAMETER_ENV
    ]
    if settings.s3_endpoint_url:
        env.append({"name": "S3_ENDPOINT_URL", "value": settings.s3_endpoint_url})
    env += [
        {"name": "AWS_DEFAULT_REGION", "value": settings.s3_region},
        # The node reads the termination message from this path; the exporter learns it here.
        {"name": "TERMINATION_MESSAGE_PATH", "value": settings.termination_message_path},
        _secret_env("DATABASE_URL", settings.database_secret_name, settings.database_secret_key),
        _secret_env("AWS_ACCESS_KEY_ID", settings.s3_secret_name, settings.s3_access_key_id_key),
        _secret_env(
            "AWS_SECRET_ACCESS_KEY", settings.s3_secret_name, settings.s3_secret_access_key_key
        ),
    ]
    # The exporter's own settings last, sorted: the same settings give the same manifest.
    env += [{"name": k, "value": v} for k, v in sorted(settings.exporter_env.items())]
    return env


def _container(parameters: ExporterParameters, settings: OperatorSettings) -> dict[str, Any]:
    return {
        "name": CONTAINER_NAME,
        "image": settings.exporter_image,
        "imagePullPolicy": settings.image_pull_policy,
        "command": list(settings.exporter_command),
        "env": _container_env(parameters, settings),
        "resources": {
            "requests": {"cpu": settings.cpu_request, "memory": settings.memory_request},
            "limits": {"cpu": settings.cpu_limit, "memory": settings.memory_limit},
        },
        "terminationMessagePath": settings.termination_message_path,
        "terminationMessagePolicy": "File",
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def _pod_failure_policy() -> dict[str, Any]:
    """Fail at once when the exporter says the request can never succeed; retry anything else."""
    return {
        "rules": [
            {
                "action": "FailJob",
                "onExitCodes": {
                    "containerName": CONTAINER_NAME,
                    "operator": "In",
                    "values": [int(ExitCode.BAD_REQUEST)],
                },
            },
            # A Pod evicted or preempted is not the export's fault: retry without counting it.
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
        ]
    }


def _sharded(shards: int, settings: OperatorSettings) -> dict[str, Any]:
    """The Indexed Job's fields: Pod 0 coordinates, Pods 1..shards read, all at once.

    A failed Pod is retried alone, up to the backoff limit for its index; one index failing for
    good fails the Job, which stops the others (the coordinator then aborts the upload).
    """
    return {
        "completionMode": "Indexed",
        "completions": shards + 1,
        "parallelism": shards + 1,
        "backoffLimitPerIndex": settings.job_backoff_limit,
        "maxFailedIndexes": 0,
    }


def job_manifest(
    owner: Owner,
    spec: resource.CompanyExportSpec,
    key: str,
    settings: OperatorSettings,
) -> dict[str, Any]:
    """The Job that runs the exporter for one export: one Pod, or a sharded export's Indexed Job.

    Named after the export, so creating it twice finds the first; created suspended, so the
    admission step alone decides when it runs.
    """
    shards = shard_count(spec.estimated_rows, settings)
    parameters = ExporterParameters(
        export_id=spec.export_id,
        space_id=spec.space_id,
        range_start=spec.range.start,
        range_end=spec.range.end,
        date_field=spec.column,
        bucket=settings.bucket,
        object_key=key,
        shards=shards,
    )
    labels = job_labels(spec)
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "runAsGroup": 65532,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [_container(parameters, settings)],
        # No volumes: the exporter writes only its termination message (which the kubelet mounts
        # itself), and a Pod with any volume waits for the kubelet's mount check, which polls
        # every 300 ms: ~0.28 s more on every export's start.
    }
    if settings.service_account_name:
        pod_spec["serviceAccountName"] = settings.service_account_name
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": owner.name,
            "namespace": owner.namespace,
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": resource.API_VERSION,
                    "kind": resource.KIND,
                    "name": owner.name,
                    "uid": owner.uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "suspend": True,
            **(
                _sharded(shards, settings)
                if shards > 1
                else {"backoffLimit": settings.job_backoff_limit}
            ),
            "activeDeadlineSeconds": settings.job_active_deadline_seconds,
            "ttlSecondsAfterFinished": settings.job_ttl_seconds_after_finished,
            "podFailurePolicy": _pod_failure_policy(),
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


class JobPhase(StrEnum):
    SUSPENDED = "Suspended"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _true_condition(job: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for condition in job.get("status", {}).get("conditions") or []:
        if condition.get("type") == kind and condition.get("status") == "True":
            return dict(condition)
    return None


@dataclass(frozen=True)
class JobView:
    """The facts about an export Job that the operator acts on."""

    namespace: str
    name: str
    uid: str
    owner_uid: str | None
    space_id: int | None
    created_at: datetime
    phase: JobPhase
    deleting: bool
    started_at: datetime | None
    finished_at: datetime | None
    object_key: str | None
    failure_reason: str | None = None
    failure_message: str | None = None
    pods: int = 1  # Pods it runs at once: a sharded export's shards and coordinator
    failed_indexes: frozenset[int] = frozenset()  # of an Indexed Job: the Pods that failed for good

    @property
    def occupies_slot(self) -> bool:
        """Counts against the admission caps: admitted and neither finished nor being deleted."""
        return self.phase is JobPhase.RUNNING and not self.deleting

    @classmethod
    def of(cls, job: dict[str, Any]) -> "JobView":
        meta, spec, status = job["metadata"], job.get("spec", {}), job.get("status") or {}
        failed = _true_condition(job, "Failed")
        if _true_condition(job, "Complete"):
            phase = JobPhase.SUCCEEDED
        elif failed:
            phase = JobPhase.FAILED
        elif spec.get("suspend"):
            phase = JobPhase.SUSPENDED
        else:
            phase = JobPhase.RUNNING
        space = (meta.get("labels") or {}).get(resource.SPACE_LABEL, "")
        return cls(
            namespace=meta["namespace"],
            name=meta["name"],
            uid=meta["uid"],
            owner_uid=_controller_uid(meta),
            space_id=int(space) if space.isdigit() else None,
            created_at=datetime.fromisoformat(meta["creationTimestamp"]),
            phase=phase,
            deleting=bool(meta.get("deletionTimestamp")),
            started_at=_parse_time(status.get("startTime")),
            finished_at=_parse_time(status.get("completionTime"))
            or _parse_time((failed or {}).get("lastTransitionTime")),
            object_key=_env_value(job, PARAMETER_ENV["object_key"]),
            failure_reason=(failed or {}).get("reason"),
            failure_message=(failed or {}).get("message"),
            pods=int(spec.get("parallelism") or 1),
            failed_indexes=_indexes(status.get("failedIndexes") or ""),
        )


def _indexes(listed: str) -> frozenset[int]:
    """The Job's form of a set of indexes, "1,3-5", read."""
    indexes: set[int] = set()
    for interval in filter(None, listed.split(",")):
        first, _, last = interval.partition("-")
        indexes.update(range(int(first), int(last or first) + 1))
    return frozenset(indexes)


def _controller_uid(meta: dict[str, Any]) -> str | None:
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller") and ref.get("kind") == resource.KIND:
            return str(ref["uid"])
    return None


def _env_value(job: dict[str, Any], name: str) -> str | None:
    containers = job.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
    for container in containers:
        for env in container.get("env") or []:
            if env.get("name") == name and "value" in env:
                return str(env["value"])
    return None


def owner_name(job: dict[str, Any]) -> str | None:
    """The name of the CompanyExport that controls this Job, if any."""
    for ref in job["metadata"].get("ownerReferences") or []:
        if ref.get("controller") and ref.get("kind") == resource.KIND:
            return str(ref["name"])
    return None
