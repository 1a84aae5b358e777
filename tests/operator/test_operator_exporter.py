"""The operator with the real exporter (`company-exporter`) against PostgreSQL and S3."""

import gzip
import hashlib
import json
import os
import signal
import statistics
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from export_contracts.resource import ARCHIVED_LABEL, ConditionStatus, ExportReason, ExportState
from export_operator.jobs import JOB_NAME_LABEL
from tests.operator.conftest import CompanySpace
from tests.operator.operator_harness import Harness

pytestmark = pytest.mark.integration

COMPLETED = ExportState.COMPLETED
FAILED = ExportState.FAILED


def _conditions(job: dict[str, Any]) -> set[str]:
    """The types of the Job's conditions that are true."""
    conditions = (job.get("status") or {}).get("conditions") or []
    return {each["type"] for each in conditions if each["status"] == "True"}


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url) as response:  # noqa: S310 (the test's own S3 server)
        return bytes(response.read())


def test_happy_path_to_completed_with_a_working_download(
    harness: Harness, company_space: CompanySpace
) -> None:
    # A tuning setting of the exporter, passed through the operator to the Job's Pod.
    tuning = json.dumps({"EXPORT_DATABASE_CONNECTIONS": "3"})
    run = harness.start_operator(exporter_env=tuning, **harness.real_exporter())
    days = (company_space.first, company_space.last)
    name = harness.create_export(1, company_space.space_id, days)

    done = harness.wait_state(name, COMPLETED, FAILED)

    assert done.state is COMPLETED, done.message
    assert (done.reason, done.records) == (ExportReason.COMPLETED, company_space.companies)
    assert done.object_key is not None
    assert done.object_key.startswith(f"exports/{company_space.space_id}/")
    assert done.started_at
    assert done.completed_at
    assert done.queued_at
    assert done.expires_at == done.completed_at + timedelta(hours=24)
    assert done.download_url
    assert done.download_url_expires_at
    assert done.download_url_expires_at - datetime.now(UTC) <= timedelta(minutes=15)
    body = _download(done.download_url)
    assert (len(body), hashlib.sha256(body).hexdigest()) == (done.bytes, done.sha256)
    lines = gzip.decompress(body).splitlines()
    assert len(lines) == company_space.companies
    assert json.loads(lines[0])["created_at"].startswith(str(company_space.first))
    [condition] = done.conditions
    assert (condition.type, condition.status) == ("Succeeded", ConditionStatus.TRUE)
    assert done.observed_generation == condition.observed_generation == 1
    reasons = [reason for reason, _ in harness.events(name)]
    assert reasons == ["WaitingForSlot", "Running", "Completed"]
    job = harness.job(name)
    assert job is not None
    [owner] = job["metadata"]["owner_references"]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("CompanyExport", name, True)
    [pod] = harness.core.list_namespaced_pod(
        harness.namespace, label_selector=f"{JOB_NAME_LABEL}={name}"
    ).items
    env = {variable.name: variable.value for variable in pod.spec.containers[0].env}
    assert env["EXPORT_DATABASE_CONNECTIONS"] == "3"
    harness.wait_gone(
        lambda: 'company_exports{state="Completed"} 1.0' not in run.metrics(), "metrics lag"
    )
    assert "company_exports_records_count 1.0" in run.metrics()
    assert run.healthy()


def test_an_export_completes_when_its_exporter_exits_not_when_its_job_does(
    harness: Harness, company_space: CompanySpace
) -> None:
    """The result is read from the Pod as soon as the exporter exits. The Job controller, paused
    here from the Pod's creation on, would say Complete only later (~2 s on a running one: the
    kubelet's next pass marks the Pod Succeeded, then the controller batches Pod updates)."""
    harness.start_operator(**harness.real_exporter())
    days = (company_space.first, company_space.last)
    name = harness.create_export(1, company_space.space_id, days)
    harness.wait_for(
        lambda: (
            harness.core.list_namespaced_pod(
                harness.namespace, label_selector=f"{JOB_NAME_LABEL}={name}"
            ).items
        ),
        "the export's Pod is created",
    )
    controller_manager = harness.kube.control_plane.controller_manager.pid
    os.kill(controller_manager, signal.SIGSTOP)
    try:
        done = harness.wait_state(name, COMPLETED, FAILED)
        job = harness.job(name)
    finally:
        os.kill(controller_manager, signal.SIGCONT)

    assert done.state is COMPLETED, done.message
    assert done.records == company_space.companies
    assert job is not None
    assert "Complete" not in _conditions(job), job["status"]
    harness.wait_for(
        lambda: "Complete" in _conditions(harness.job(name) or {}),
        "the Job completes once its controller runs again",
    )
    assert harness.status(name).state is COMPLETED


def test_kubectl_get_shows_space_state_records_size(
    harness: Harness, company_space: CompanySpace
) -> None:
    harness.start_operator(**harness.real_exporter())
    name = harness.create_export(2, company_space.space_id, (company_space.first,) * 2)
    done = harness.wait_state(name, COMPLETED, FAILED)
    assert done.state is COMPLETED, done.message

    plain = harness.kubectl("get", "cexp").stdout.splitlines()
    assert plain[0].split() == ["NAME", "SPACE", "STATE", "RECORDS", "SIZE", "AGE"]
    row = [name, str(company_space.space_id), "Completed", str(done.records), str(done.bytes)]
    assert plain[1].split()[:5] == row
    wide = harness.kubectl("get", "exports", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[6:10] == ["COMPLETED", "JOB", "MESSAGE", "ESTIMATED"]
    assert wide[1].split()[7] == name


def test_unknown_space_is_a_bad_request_that_fails_at_once(harness: Harness) -> None:
    harness.start_operator(**harness.real_exporter())
    name = harness.create_export(3, space_id=987_654)

    failed = harness.wait_state(name, COMPLETED, FAILED)

    assert (failed.state, failed.reason) == (FAILED, ExportReason.BAD_REQUEST)
    assert failed.message is not None
    assert "space 987654 does not exist" in failed.message
    assert failed.conditions[0].status is ConditionStatus.FALSE
    assert ("BadRequest", failed.message) in harness.events(name)
    job = harness.job(name)
    assert job is not None
    assert job["status"]["failed"] == 1  # no retry


def test_delete_after_completion_deletes_the_file(
    harness: Harness, company_space: CompanySpace
) -> None:
    harness.start_operator(**harness.real_exporter())
    name = harness.create_export(4, company_space.space_id, (company_space.first,) * 2)
    done = harness.wait_state(name, COMPLETED, FAILED)
    assert done.object_key
    assert harness.object_exists(done.object_key)

    harness.kubectl("delete", "cexp", name)

    harness.wait_gone(lambda: harness.get_export(name), f"export {name}")
    assert not harness.object_exists(done.object_key)
    harness.wait_gone(lambda: harness.job(name), f"Job {name}")


def test_retention_expires_the_file(harness: Harness, company_space: CompanySpace) -> None:
    harness.start_operator(retention_seconds=2, sweep_seconds=1, **harness.real_exporter())
    name = harness.create_export(5, company_space.space_id, (company_space.first,) * 2)
    done = harness.wait_state(name, COMPLETED, FAILED)
    assert done.object_key

    expired = harness.wait_state(name, ExportState.EXPIRED, timeout=30)

    assert expired.reason is ExportReason.EXPIRED
    assert expired.download_url is None
    assert expired.records == done.records
    assert not harness.object_exists(done.object_key)
    assert [r for r, _ in harness.events(name)][-1] == "Expired"


def test_after_retention_and_grace_only_archived_exports_leave_the_cluster(
    harness: Harness, company_space: CompanySpace
) -> None:
    harness.start_operator(
        retention_seconds=2,
        delete_grace_seconds=2,
        sweep_seconds=1,
        **harness.real_exporter(),
    )
    day = (company_space.first,) * 2
    archived, kept = (harness.create_export(n, company_space.space_id, day) for n in (6, 7))
    done = {name: harness.wait_state(name, COMPLETED, FAILED) for name in (archived, kept)}
    assert all(status.state is COMPLETED for status in done.values()), done
    harness.kubectl("label", "cexp", archived, f"{ARCHIVED_LABEL}=true")

    harness.wait_gone(lambda: harness.get_export(archived), f"archived export {archived}", 30)
    assert not harness.object_exists(str(done[archived].object_key))
    # Not archived (the API could not reach PostgreSQL): Expired, but kept past the grace.
    harness.wait_state(kept, ExportState.EXPIRED, timeout=30)
    completed_at = done[kept].completed_at
    assert completed_at is not None
    past_grace = completed_at + timedelta(seconds=2 + 2 + 3)  # retention, grace, 3 sweeps
    time.sleep(max(0.0, (past_grace - datetime.now(UTC)).total_seconds()))
    assert harness.get_export(kept) is not None

    harness.kubectl("label", "cexp", kept, f"{ARCHIVED_LABEL}=true")
    harness.wait_gone(lambda: harness.get_export(kept), f"export {kept} once archived", 30)


def _archived_export(
    harness: Harness, company_space: CompanySpace, export_id: int
) -> tuple[str, str]:
    """A completed export, then archived: its name and its file's key."""
    name = harness.create_export(export_id, company_space.space_id, (company_space.first,) * 2)
    done = harness.wait_state(name, COMPLETED, FAILED)
    assert done.state is COMPLETED
    assert done.object_key
    harness.kubectl("label", "cexp", name, f"{ARCHIVED_LABEL}=true")
    return name, done.object_key


def test_an_archived_export_deleted_loses_its_file_and_job_then_goes_at_once(
    harness: Harness, company_space: CompanySpace
) -> None:
    """Archived exports are outside kopf's watch: the operator's own watch of them does the
    finalizer's work."""
    harness.start_operator(**harness.real_exporter())
    name, object_key = _archived_export(harness, company_space, 8)
    harness.kubectl("delete", "cexp", name, "--wait=false")

    harness.wait_gone(lambda: harness.get_export(name), f"archived export {name}", 20)
    assert not harness.object_exists(object_key)
    harness.wait_gone(lambda: harness.job(name), f"Job {name}")


def test_an_archived_export_deleted_while_the_operator_was_down_goes_when_it_starts(
    harness: Harness, company_space: CompanySpace
) -> None:
    """A deletion no watch saw: the operator's listing of archived exports at start finds it."""
    run = harness.start_operator(**harness.real_exporter())
    name, object_key = _archived_export(harness, company_space, 9)
    harness.kill(run)
    harness.kubectl("delete", "cexp", name, "--wait=false")
    assert harness.get_export(name) is not None  # held by the finalizer

    harness.start_operator("restarted", **harness.real_exporter())
    harness.wait_gone(lambda: harness.get_export(name), f"archived export {name}", 30)
    assert not harness.object_exists(object_key)


def test_time_from_create_to_completed(
    harness: Harness, company_space: CompanySpace, figures: list[str]
) -> None:
    """A small export (one day of one space), ten times one after another: the median."""
    harness.start_operator(**harness.real_exporter())
    seconds = []
    for export_id in range(10, 20):
        started = time.monotonic()
        name = harness.create_export(export_id, company_space.space_id, (company_space.first,) * 2)
        done = harness.wait_state(name, COMPLETED, FAILED)
        seconds.append(time.monotonic() - started)
        assert done.state is COMPLETED, done.message
    median = statistics.median(seconds)
    figures.append(
        f"operator: create -> Completed, small export (median of 10): {median:.2f} s "
        f"(min {min(seconds):.2f}, max {max(seconds):.2f})"
    )
    assert median < 30
