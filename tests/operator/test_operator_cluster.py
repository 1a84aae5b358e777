"""The operator on the local cluster: real apiserver, Job controller, node and S3.

Each test gets a namespace with the exporter's Secrets and starts `export-operator` for it; the
Job's Pod runs `fake_exporter.py`, which follows the exporter contract and fails, waits or
succeeds as a test plans. test_operator_exporter.py runs the real exporter.
"""

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from export_contracts.resource import ARCHIVED_LABEL, ConditionStatus, ExportReason, ExportState
from export_operator import cluster as cluster_module
from export_operator.cluster import Cluster, WatchCursor
from tests.operator.operator_harness import Harness, OperatorRun

pytestmark = pytest.mark.integration

COMPLETED = ExportState.COMPLETED
FAILED = ExportState.FAILED


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"range": {"start": "2024-01-16T00:00:00Z", "end": "2024-01-15T00:00:00Z"}},
         "range.end must be after start"),
        ({"requested": {"startDate": "2024-01-16 00:00:00", "endDate": "2024-01-15 00:00:00",
                        "timezone": "UTC"}},
         "requested.endDate must be after startDate"),
        ({"spaceId": 0}, "spec.spaceId"),
        ({"exportId": None}, "spec.exportId: Required value"),
        ({"requested": {"startDate": "2024-01-15", "endDate": "2024-01-16 00:00:00",
                        "timezone": "UTC"}},
         "spec.requested.startDate"),
    ],
)  # fmt: skip
def test_bad_objects_are_refused_by_the_crd(
    harness: Harness, bad: dict[str, object], message: str
) -> None:
    manifest = harness.export_manifest(9, 1)
    manifest["spec"].update(bad)
    if bad.get("exportId", 1) is None:
        del manifest["spec"]["exportId"]
    result = harness.kubectl("apply", "-f", "-", input_text=harness.to_yaml(manifest))
    assert result.returncode != 0
    assert message in result.stderr


def test_spec_is_immutable(harness: Harness) -> None:
    name = harness.create_export(10)
    result = harness.kubectl(
        "patch", "cexp", name, "--type=merge", "-p", '{"spec": {"spaceId": 99}}'
    )
    assert result.returncode != 0
    assert "spec is immutable" in result.stderr


def test_retry_then_success(harness: Harness) -> None:
    harness.start_operator()
    harness.plan(3, fail_attempts=1)
    name = harness.create_export(3)

    done = harness.wait_state(name, COMPLETED, FAILED, timeout=90)

    assert done.state is COMPLETED
    assert harness.attempts(3) == 2


def test_a_refused_job_is_created_seconds_after_the_refusal_ends(harness: Harness) -> None:
    # The API refuses the export's Job, as during an apiserver restart or an upgrade's moment when
    # the old replica's Jobs are refused by the new admission policy.
    lift_refusal = _refuse_jobs(harness)
    try:
        harness.start_operator()
        name = harness.create_export(21)
        # kopf's own retry would come a minute after the first refusal.
        harness.wait_for(lambda: len(_refusals(harness, name)) >= 2, "a second refusal", 30)
    finally:
        lift_refusal()
    done = harness.wait_state(name, COMPLETED, FAILED, timeout=30)

    assert done.state is COMPLETED
    first, second = _refusals(harness, name)[:2]
    assert "403: " in first
    assert "no Jobs here for now" in first
    assert "retrying in 1 s" in first
    assert "retrying in 2 s" in second


def _refuse_jobs(harness: Harness) -> Callable[[], None]:
    """Has the API refuse every Job created in the namespace (an admission policy, in force once
    a dry run is refused); returns what lifts the refusal."""
    admission = client.AdmissionregistrationV1Api(harness.core.api_client)
    name = f"{harness.namespace}-no-jobs"
    admission.create_validating_admission_policy({
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{
                "apiGroups": ["batch"], "apiVersions": ["v1"], "resources": ["jobs"],
                "operations": ["CREATE"],
            }]},
            "validations": [
                {"expression": "false", "message": "no Jobs here for now", "reason": "Forbidden"}
            ],
        },
    })  # fmt: skip
    admission.create_validating_admission_policy_binding({
        "metadata": {"name": name},
        "spec": {
            "policyName": name,
            "validationActions": ["Deny"],
            "matchResources": {"namespaceSelector": {
                "matchLabels": {"kubernetes.io/metadata.name": harness.namespace},
            }},
        },
    })  # fmt: skip
    harness.wait_for(lambda: _job_refused(harness), "the admission policy in force", 30)

    def lift() -> None:
        admission.delete_validating_admission_policy_binding(name)
        admission.delete_validating_admission_policy(name)

    return lift


def _job_refused(harness: Harness) -> bool:
    job = {
        "metadata": {"name": "probe"},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "probe", "image": harness.exporter_image}],
        }}},
    }  # fmt: skip
    try:
        harness.batch.create_namespaced_job(harness.namespace, job, dry_run="All")
    except ApiException as error:
        return error.status == 403
    return False


def _refusals(harness: Harness, name: str) -> list[str]:
    """The messages of the Events that report the export's Job refused, oldest first."""
    said = "could not create the export's Job"
    return [message for _, message in harness.events(name) if said in message]


def test_bad_request_fails_at_once_with_the_exporters_message(harness: Harness) -> None:
    harness.start_operator()
    harness.plan(4, fail_attempts=-1, exit_code=64, message='{"error": "space 1 has no timezone"}')
    name = harness.create_export(4)

    failed = harness.wait_state(name, COMPLETED, FAILED)

    assert (failed.state, failed.reason) == (FAILED, ExportReason.BAD_REQUEST)
    assert failed.message is not None
    assert "space 1 has no timezone" in failed.message
    assert harness.attempts(4) == 1
    assert failed.conditions[0].status is ConditionStatus.FALSE
    assert ("BadRequest", failed.message) in harness.events(name)


def test_deadline_exceeded(harness: Harness) -> None:
    harness.start_operator(job_active_deadline_seconds=3)
    harness.plan(5, seconds=60)
    name = harness.create_export(5)

    failed = harness.wait_state(name, COMPLETED, FAILED, timeout=60)

    assert (failed.state, failed.reason) == (FAILED, ExportReason.DEADLINE_EXCEEDED)
    assert failed.message is not None
    assert "longer than 3 s" in failed.message


def test_an_exporter_over_its_memory_limit_fails_the_export_saying_so(harness: Harness) -> None:
    harness.start_operator(memory_limit="64Mi", memory_request="32Mi")
    harness.plan(8, allocate_mb=200)
    name = harness.create_export(8)
    failed = harness.wait_state(name, COMPLETED, FAILED, timeout=120)
    assert failed.state is FAILED
    assert failed.message is not None
    assert "OOMKilled" in failed.message
    assert "64Mi" in failed.message
    assert failed.object_key is None or not harness.object_exists(failed.object_key)
    # The kernel killed each attempt while it allocated: no start was ever followed by an end.
    events = [event for event, export_id, *_ in harness.runs() if export_id == 8]
    assert events
    assert set(events) == {"start"}


def test_pod_that_cannot_pull_its_image_fails_after_the_startup_timeout(harness: Harness) -> None:
    harness.start_operator(exporter_image="registry.invalid/no-such-exporter:1")
    name = harness.create_export(6)

    failed = harness.wait_state(name, COMPLETED, FAILED, timeout=60)

    assert (failed.state, failed.reason) == (FAILED, ExportReason.POD_CANNOT_START)
    assert failed.message is not None
    assert "ImagePullBackOff" in failed.message or "ErrImagePull" in failed.message
    harness.wait_gone(lambda: harness.job(name), f"Job {name}")


def test_missing_secret_fails_after_the_startup_timeout(harness: Harness) -> None:
    harness.start_operator(database_secret_name="no-such-secret")
    name = harness.create_export(7)

    failed = harness.wait_state(name, COMPLETED, FAILED, timeout=60)

    assert (failed.state, failed.reason) == (FAILED, ExportReason.POD_CANNOT_START)
    assert failed.message is not None
    assert "CreateContainerConfigError" in failed.message


def test_vanished_job_fails_the_export_after_the_grace_window(harness: Harness) -> None:
    harness.start_operator()
    harness.plan(8, seconds=60)
    name = harness.create_export(8)
    harness.wait_state(name, ExportState.PROCESSING)
    harness.batch.delete_namespaced_job(name, harness.namespace, propagation_policy="Background")

    failed = harness.wait_state(name, COMPLETED, FAILED, timeout=60)

    assert (failed.state, failed.reason) == (FAILED, ExportReason.JOB_LOST)


def test_delete_while_running_stops_the_job_and_leaves_no_file(harness: Harness) -> None:
    harness.start_operator()
    harness.plan(11, seconds=60)
    name = harness.create_export(11)
    running = harness.wait_state(name, ExportState.PROCESSING)
    assert running.object_key
    harness.wait_gone(lambda: not harness.runs(), "no exporter run")  # it runs now

    harness.kubectl("delete", "cexp", name, "--wait=false")

    harness.wait_gone(lambda: harness.get_export(name), f"export {name}")
    assert harness.job(name) is None
    assert not harness.object_exists(running.object_key)
    assert [event for event, *_ in harness.runs()] == ["start"]  # stopped, never finished


def test_concurrency_caps_hold_under_a_flood(harness: Harness, figures: list[str]) -> None:
    harness.start_operator(max_running=5, max_running_per_space=2)
    ids = range(100, 130)
    for export_id in ids:
        harness.plan(export_id, seconds=1.5)
    names = [harness.create_export(export_id, space_id=export_id % 3 + 1) for export_id in ids]

    for name in names:
        assert harness.wait_state(name, COMPLETED, FAILED, timeout=180).state is COMPLETED

    most, most_per_space = _peak_concurrency(harness.runs())
    figures.append(
        f"operator: 30 exports over 3 spaces, caps 5 total / 2 per space: peak {most} running, "
        f"per space {sorted(most_per_space.values())}; all Completed"
    )
    assert most <= 5
    assert max(most_per_space.values()) <= 2
    assert most >= 4  # the caps, not something else, limited the flood


def _peak_concurrency(runs: list[tuple[str, int, int, float]]) -> tuple[int, dict[int, int]]:
    """The most exporter processes that ran at once, in total and per space."""
    running: dict[int, int] = {}
    peak_space: dict[int, int] = {}
    total = peak = 0
    # Ends sort before starts at the same instant: a slot freed and taken is not an overlap.
    for event, _export, space, _at in sorted(runs, key=lambda r: (r[3], r[0] == "start")):
        step = 1 if event == "start" else -1
        total += step
        running[space] = running.get(space, 0) + step
        peak = max(peak, total)
        peak_space[space] = max(peak_space.get(space, 0), running[space])
    return peak, peak_space


def test_operator_killed_and_restarted_ends_every_export_once(harness: Harness) -> None:
    first = harness.start_operator(max_running=2, max_running_per_space=2)
    ids = range(200, 206)
    for export_id in ids:
        harness.plan(export_id, seconds=2)
    names = [harness.create_export(export_id) for export_id in ids]
    harness.wait_for(
        lambda: any(harness.status(name).state is ExportState.PROCESSING for name in names),
        "an export processing before the first operator is killed",
    )
    harness.kill(first)  # some exports Queued, some with Jobs running
    # A Job ends while no operator runs: its successor learns of it from the cluster alone.
    harness.wait_for(
        lambda: any(event == "end" for event, *_ in harness.runs()),
        "an exporter ending while no operator ran",
    )
    second = harness.start_operator("operator-2", max_running=2, max_running_per_space=2)
    harness.wait_state(names[2], ExportState.PROCESSING, COMPLETED, timeout=60)
    harness.kill(second)  # and once more, mid-run
    harness.start_operator("operator-3", max_running=2, max_running_per_space=2)

    finals = [harness.wait_state(name, COMPLETED, FAILED, timeout=120) for name in names]

    assert all(final.state is COMPLETED for final in finals)
    starts = [export for event, export, *_ in harness.runs() if event == "start"]
    assert sorted(starts) == list(ids)  # each exporter ran once: no Job twice
    for name, final in zip(names, finals, strict=True):
        completions = [reason for reason, _ in harness.events(name) if reason == "Completed"]
        assert completions == ["Completed"], name
        assert final.object_key
        assert harness.object_exists(final.object_key)
    stored = harness.kube_s3().list_objects_v2(Bucket=harness.bucket, Prefix="exports/1/")
    keys = {item["Key"] for item in stored.get("Contents", [])}
    assert {final.object_key for final in finals} <= keys
    assert len(harness.batch.list_namespaced_job(harness.namespace).items) == len(names)


def _transitions(run: OperatorRun) -> int:
    """How many export transitions this operator process wrote (its JSON log says)."""
    return run.server.log_path.read_text().count('"message": "export state changed"')


def test_two_replicas_only_one_acts_and_the_other_takes_over(harness: Harness) -> None:
    harness.create_peering("company-exports")
    # Fixed priorities, the first replica's lower: alone, it resumes; once the second appears, it
    # must pause and say so. (A replica that loses from its start stays paused without a word.)
    standby = harness.start_operator("replica-1", standalone="false", priority=1)
    harness.wait_for(
        lambda: standby.server.has_logged("Resuming operations"), "the first replica acting"
    )
    active = harness.start_operator("replica-2", standalone="false", priority=2)
    harness.wait_for(
        lambda: standby.server.has_logged("Pausing operations in favour of"),
        "the replica of lower priority pausing (kopf peering)",
    )
    names = [harness.create_export(export_id) for export_id in (300, 301, 302)]
    for name in names:
        assert harness.wait_state(name, COMPLETED, FAILED).state is COMPLETED

    # 3 exports x Queued, Processing, Completed, all by the replica of higher priority. (The log
    # line follows the status write, so it may trail the state the test saw.)
    harness.wait_for(lambda: _transitions(active) >= 9, "the active replica's nine transitions")
    assert [_transitions(standby), _transitions(active)] == [0, 9]
    active.server.stop()  # a graceful stop removes its peering record

    name = harness.create_export(303)
    assert harness.wait_state(name, COMPLETED, FAILED, timeout=60).state is COMPLETED
    harness.wait_for(lambda: _transitions(standby) >= 3, "the standby's three transitions")
    assert _transitions(standby) == 3


def test_the_watch_of_archived_exports_lists_them_resumes_and_lists_again_when_forgotten(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator's own watch of archived exports (outside kopf's): it starts with a listing of
    them all, a second watch resumes where the first ended, and a version the server has forgotten
    (410) sends it back to a listing."""
    monkeypatch.setattr(cluster_module, "ARCHIVED_WATCH_SECONDS", 2)
    monkeypatch.setattr(cluster_module, "ARCHIVED_PAGE", 2)
    cluster = Cluster(harness.custom.api_client, harness.namespace)
    listed = [harness.create_export(n) for n in (30, 31, 32)]
    harness.create_export(33)  # not archived: in neither the listing nor the watch
    for name in listed:
        harness.kubectl("label", "cexp", name, f"{ARCHIVED_LABEL}=true")
    cursor = WatchCursor()
    assert _names(cluster.archived_changes(cursor)) == [("ADDED", name) for name in listed]
    listed_at = cursor.resource_version
    assert listed_at is not None

    added = harness.create_export(34)
    harness.kubectl("label", "cexp", added, f"{ARCHIVED_LABEL}=true")
    harness.kubectl("label", "cexp", listed[0], f"{ARCHIVED_LABEL}-")
    assert _names(cluster.archived_changes(cursor)) == [("ADDED", added), ("DELETED", listed[0])]
    assert cursor.resource_version != listed_at

    forgotten = WatchCursor("1")
    assert _names(cluster.archived_changes(forgotten)) == []
    assert forgotten.resource_version is None
    assert _names(cluster.archived_changes(forgotten)) == [
        ("ADDED", name) for name in sorted([*listed[1:], added])
    ]


def _names(events: Iterable[tuple[str, dict[str, Any]]]) -> list[tuple[str, str]]:
    return [(kind, body["metadata"]["name"]) for kind, body in events]
