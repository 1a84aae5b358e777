"""Reading the exporter's result and failures from a Job's Pods."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from export_operator.pods import cannot_start, exporter_result, last_failure, readable

pytestmark = pytest.mark.unit


def pod(
    name: str,
    phase: str,
    created: str = "2026-01-01T10:00:00Z",
    state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Job's Pod with the exporter container in `state` (e.g. {"terminated": {...}})."""
    statuses = [{"name": "exporter", "state": state}] if state is not None else []
    return {
        "metadata": {"name": name, "creationTimestamp": created},
        "status": {"phase": phase, "containerStatuses": statuses},
    }


RESULT = {
    "export_id": 42,
    "records": 10,
    "bytes": 321,
    "sha256": "a" * 64,
    "bucket": "exports",
    "object_key": "exports/3/abc.ndjson.gz",
}


def test_result_from_the_pod_that_succeeded() -> None:
    pods = [
        pod("p1", "Failed", state={"terminated": {"exitCode": 75, "message": "db down"}}),
        pod(
            "p2",
            "Succeeded",
            created="2026-01-01T10:01:00Z",
            state={"terminated": {"exitCode": 0, "message": json.dumps(RESULT)}},
        ),
    ]
    result = exporter_result(pods)
    assert result is not None
    assert (result.records, result.bytes) == (10, 321)


def test_the_result_is_read_once_the_exporter_exited_before_the_pod_is_marked_succeeded() -> None:
    said = {"terminated": {"exitCode": 0, "message": json.dumps(RESULT)}}
    result = exporter_result([pod("p", "Running", state=said)])
    assert result is not None
    assert result.records == 10
    assert exporter_result([pod("p", "Running", state={"running": {}})]) is None


@pytest.mark.parametrize("message", ["", "not json", json.dumps({**RESULT, "records": -1})])
def test_no_result_from_a_bad_message(message: str) -> None:
    pods = [pod("p", "Succeeded", state={"terminated": {"exitCode": 0, "message": message}})]
    assert exporter_result(pods) is None


def test_last_failure_is_the_newest_failed_pod() -> None:
    pods = [
        pod("old", "Failed", state={"terminated": {"exitCode": 75, "message": "first"}}),
        pod(
            "new",
            "Failed",
            created="2026-01-01T10:02:00Z",
            state={"terminated": {"exitCode": 64, "message": '{"error": "unknown space 3"}'}},
        ),
    ]
    assert last_failure(pods) == "exit code 64: unknown space 3"


def test_an_oom_kill_names_the_limit_and_what_to_raise() -> None:
    killed = pod("p", "Failed", state={"terminated": {"exitCode": 137, "reason": "OOMKilled"}})
    killed["spec"] = {
        "containers": [{"name": "exporter", "resources": {"limits": {"memory": "64Mi"}}}]
    }
    assert last_failure([killed]) == (
        "exit code 137: OOMKilled: the exporter went over its memory limit (64Mi); "
        "raise the chart's exporter.resources.limits.memory"
    )


def test_readable_keeps_one_short_line() -> None:
    trace = "Traceback (most recent call last):\n  File x\nValueError: secret"
    assert readable(trace) == "Traceback (most recent call last):"
    assert len(readable("x" * 2000)) == 500


def test_cannot_start_after_the_timeout_with_the_waiting_reason() -> None:
    waiting = {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}
    pods = [pod("p", "Pending", state=waiting)]
    created = datetime(2026, 1, 1, 10, tzinfo=UTC)
    timeout = timedelta(seconds=60)
    assert cannot_start(pods, created + timedelta(seconds=59), timeout) is None
    stuck = cannot_start(pods, created + timedelta(seconds=61), timeout)
    assert stuck is not None
    assert (stuck.pod, stuck.reason, stuck.message) == (
        "p",
        "ImagePullBackOff",
        "Back-off pulling image",
    )


def test_a_running_pod_is_not_stuck() -> None:
    pods = [pod("p", "Running", state={"running": {}})]
    assert cannot_start(pods, datetime(2027, 1, 1, tzinfo=UTC), timedelta(seconds=1)) is None


def test_a_sharded_export_reports_the_coordinators_result_not_a_shards() -> None:
    shard_report = {"export_id": 42, "shard": 2, "records": 4, "parts": 1, "bytes": 5242880}
    said = {"exitCode": 0, "message": json.dumps(RESULT)}
    coordinator = pod("c", "Succeeded", state={"terminated": said})
    said = {"exitCode": 0, "message": json.dumps(shard_report)}
    shard = pod("s", "Succeeded", created="2026-01-01T10:05:00Z", state={"terminated": said})
    coordinator["metadata"]["annotations"] = {"batch.kubernetes.io/job-completion-index": "0"}
    shard["metadata"]["annotations"] = {"batch.kubernetes.io/job-completion-index": "2"}

    result = exporter_result([coordinator, shard])  # the shard ended last

    assert result is not None
    assert result.records == 10
    assert exporter_result([shard]) is None
