"""What a Job's Pods say: the exporter's result, why it failed, why it cannot start.

Pure functions over Pod dicts (the Kubernetes wire form), unit-tested without a cluster.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from export_contracts.exporter import ExporterResult
from export_operator.jobs import CONTAINER_NAME, JOB_NAME_LABEL

# Set by the Job controller on each Pod of an Indexed Job.
COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
# A person reads the message in `kubectl describe`; a longer one is cut here.
MESSAGE_LIMIT = 500


def _exporter_status(pod: dict[str, Any]) -> dict[str, Any]:
    for status in pod.get("status", {}).get("containerStatuses") or []:
        if status.get("name") == CONTAINER_NAME:
            return dict(status)
    return {}


def _terminated(pod: dict[str, Any]) -> dict[str, Any]:
    return dict(_exporter_status(pod).get("state", {}).get("terminated") or {})


def _newest_first(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(pods, key=lambda pod: pod["metadata"]["creationTimestamp"], reverse=True)


def completion_index(pod: dict[str, Any]) -> int:
    """The Pod's index in an Indexed Job; 0 for the Pod of a one-Pod Job."""
    annotations = pod.get("metadata", {}).get("annotations") or {}
    return int(annotations.get(COMPLETION_INDEX_ANNOTATION, "0"))


def job_name(pod: dict[str, Any]) -> str | None:
    """The name of the Job the Pod runs for (the Job controller's label)."""
    return (pod.get("metadata", {}).get("labels") or {}).get(JOB_NAME_LABEL)


def exporter_result(pods: list[dict[str, Any]]) -> ExporterResult | None:
    """The result the exporter wrote into its termination message, from the Pod whose exporter
    exited 0 (a sharded export's coordinator, index 0; a shard reports only its own part).

    The exit is enough: the upload is complete by then, and the kubelet marks the Pod Succeeded
    only on its next pass, about a second later."""
    for pod in _newest_first([pod for pod in pods if completion_index(pod) == 0]):
        terminated = _terminated(pod)
        if terminated.get("exitCode") == 0:
            try:
                return ExporterResult.model_validate_json(terminated.get("message") or "")
            except ValidationError:
                return None
    return None


def readable(text: str) -> str:
    """One line a person can act on: the first line of the text, cut to MESSAGE_LIMIT.

    A JSON message is read for its `error` or `message` field; a traceback never gets past its
    first line.
    """
    text = text.strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        text = str(parsed.get("error") or parsed.get("message") or "")
    first_line = text.splitlines()[0] if text else ""
    return first_line[:MESSAGE_LIMIT]


def last_failure(pods: list[dict[str, Any]]) -> str | None:
    """What the newest failed Pod's exporter said (exit code and its message); for a container
    the kernel killed at its memory limit (Kubernetes' reason OOMKilled), that and what to do."""
    for pod in _newest_first(pods):
        terminated = _terminated(pod)
        if terminated.get("exitCode") not in (None, 0):
            said = readable(terminated.get("message") or "")
            if terminated.get("reason") == "OOMKilled":
                said = (
                    f"OOMKilled: the exporter went over its memory limit ({_memory_limit(pod)}); "
                    "raise the chart's exporter.resources.limits.memory"
                )
            code = terminated["exitCode"]
            return f"exit code {code}: {said}" if said else f"exit code {code}"
    return None


def _memory_limit(pod: dict[str, Any]) -> str:
    for container in pod.get("spec", {}).get("containers") or []:
        if container.get("name") == CONTAINER_NAME:
            return str(container.get("resources", {}).get("limits", {}).get("memory", "none set"))
    return "none set"


@dataclass(frozen=True)
class StartFailure:
    """A Pod that never got its container running."""

    pod: str
    reason: str
    message: str


def cannot_start(
    pods: list[dict[str, Any]], now: datetime, timeout: timedelta
) -> StartFailure | None:
    """A Pod still Pending `timeout` after its creation, with the reason it waits."""
    for pod in pods:
        if pod.get("status", {}).get("phase", "Pending") != "Pending":
            continue
        created = datetime.fromisoformat(pod["metadata"]["creationTimestamp"])
        if now - created < timeout:
            continue
        waiting = _exporter_status(pod).get("state", {}).get("waiting") or {}
        return StartFailure(
            pod=pod["metadata"]["name"],
            reason=str(waiting.get("reason") or "Pending"),
            message=readable(str(waiting.get("message") or "")),
        )
    return None
