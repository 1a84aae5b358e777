"""Sharded exports on the real node: an Indexed Job of the real exporter image, shard Pods and
their coordinator, the file joined from their parts; a shard Pod deleted and replaced alone; a
shard failing for good; the admission caps counting every Pod.

The operator's threshold is lowered (500 rows per shard) so the 2,000-company space runs as
3 shards (EXPORT_OPERATOR_MAX_SHARDS). To hold an export mid-way, a test locks the `spaces` table:
the coordinator's first query (does the space exist?) waits, so no plan is posted and the shard
Pods wait for one, running.
"""

import gzip
import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from export_contracts.resource import ExportReason, ExportState
from export_operator.jobs import JOB_NAME_LABEL
from export_operator.pods import completion_index
from export_storage import shard_board
from tests.operator.conftest import CompanySpace
from tests.operator.operator_harness import Harness

pytestmark = pytest.mark.integration

COMPLETED, FAILED, PROCESSING = ExportState.COMPLETED, ExportState.FAILED, ExportState.PROCESSING
SHARDING = {"shard_rows": 500, "max_shards": 3, "max_running": 8, "max_running_per_space": 5}


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url) as response:  # noqa: S310 (the test's own S3 server)
        return bytes(response.read())


def _pods(harness: Harness, name: str) -> list[dict[str, Any]]:
    pods = harness.core.list_namespaced_pod(
        harness.namespace, label_selector=f"{JOB_NAME_LABEL}={name}"
    ).items
    return [harness.core.api_client.sanitize_for_serialization(pod) for pod in pods]


def _running_by_index(harness: Harness, name: str) -> dict[int, str]:
    """uid of each running Pod of the Job, by completion index."""
    return {
        completion_index(pod): pod["metadata"]["uid"]
        for pod in _pods(harness, name)
        if pod["status"].get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp")
    }


@contextmanager
def spaces_locked(database_url: str) -> Iterator[None]:
    """Until the block ends, a coordinator waits at its first query, before any plan."""
    with psycopg.connect(database_url) as conn, conn.transaction():
        # A stale reader (an exporter of an earlier test whose Pod went without closing its
        # connection) fails the test in a minute rather than hanging it.
        conn.execute("SET LOCAL lock_timeout = '60s'")
        conn.execute("LOCK TABLE spaces IN ACCESS EXCLUSIVE MODE")
        yield


def _nothing_in_s3(harness: Harness, key: str) -> None:
    s3 = harness.kube_s3()
    assert not harness.object_exists(key)
    assert "Contents" not in s3.list_objects_v2(Bucket=harness.bucket, Prefix=shard_board(key))
    uploads = s3.list_multipart_uploads(Bucket=harness.bucket, Prefix=key).get("Uploads", [])
    assert [each for each in uploads if each["Key"] == key] == []


def test_a_large_export_runs_sharded_and_inflates_to_the_one_pod_file(
    harness: Harness, company_space: CompanySpace
) -> None:
    harness.start_operator(**SHARDING, **harness.real_exporter())
    days = (company_space.first, company_space.last)
    sharded = harness.create_export(1, company_space.space_id, days, estimated_rows=2_000)
    single = harness.create_export(2, company_space.space_id, days)  # no estimate: one Pod

    done = harness.wait_state(sharded, COMPLETED, FAILED, timeout=120)
    alone = harness.wait_state(single, COMPLETED, FAILED, timeout=120)

    assert done.state is COMPLETED, done.message
    assert alone.state is COMPLETED, alone.message
    job = harness.job(sharded)
    assert job is not None
    assert (job["spec"]["completion_mode"], job["spec"]["completions"]) == ("Indexed", 4)
    pods = _pods(harness, sharded)
    assert sorted(completion_index(pod) for pod in pods) == [0, 1, 2, 3]
    shard_reports = [
        json.loads(pod["status"]["containerStatuses"][0]["state"]["terminated"]["message"])
        for pod in pods
        if completion_index(pod) > 0
    ]
    assert sum(report["records"] for report in shard_reports) == company_space.companies
    assert done.records == alone.records == company_space.companies
    assert done.download_url
    assert alone.download_url
    body = _download(done.download_url)
    assert len(body) == done.bytes
    assert gzip.decompress(body) == gzip.decompress(_download(alone.download_url))
    assert done.object_key is not None
    assert "Contents" not in harness.kube_s3().list_objects_v2(
        Bucket=harness.bucket, Prefix=shard_board(done.object_key)
    )
    assert [reason for reason, _ in harness.events(sharded)] == [
        "WaitingForSlot", "Running", "Completed",
    ]  # fmt: skip


def test_a_deleted_shard_pod_is_replaced_alone_and_caps_count_every_pod(
    harness: Harness, company_space: CompanySpace, postgres: Any
) -> None:
    harness.start_operator(**{**SHARDING, "max_running_per_space": 4}, **harness.real_exporter())
    days = (company_space.first, company_space.last)
    with spaces_locked(postgres.url):
        sharded = harness.create_export(3, company_space.space_id, days, estimated_rows=2_000)
        harness.wait_for(lambda: len(_running_by_index(harness, sharded)) == 4, "4 Pods running")
        before = _running_by_index(harness, sharded)
        # The space's 4 Pods are taken: a small export of the same space waits for a slot.
        waiting = harness.create_export(4, company_space.space_id, days)
        assert harness.wait_state(waiting, ExportState.QUEUED).state is ExportState.QUEUED

        harness.core.delete_namespaced_pod(
            _pod_name(harness, sharded, before[2]), harness.namespace, grace_period_seconds=0
        )
        harness.wait_for(
            lambda: _running_by_index(harness, sharded).get(2) not in (None, before[2]),
            "shard 2's Pod replaced",
        )
        after = _running_by_index(harness, sharded)
        assert {index: after[index] for index in (0, 1, 3)} == {
            index: before[index] for index in (0, 1, 3)
        }
        assert harness.status(waiting).state is ExportState.QUEUED

    done = harness.wait_state(sharded, COMPLETED, FAILED, timeout=120)
    assert done.state is COMPLETED, done.message
    assert done.records == company_space.companies
    assert harness.wait_state(waiting, COMPLETED, FAILED, timeout=120).state is COMPLETED


def _pod_name(harness: Harness, job: str, uid: str) -> str:
    return next(
        pod["metadata"]["name"] for pod in _pods(harness, job) if pod["metadata"]["uid"] == uid
    )


def test_a_shard_failing_for_good_fails_the_export_and_leaves_nothing_in_s3(
    harness: Harness, company_space: CompanySpace, postgres: Any
) -> None:
    # Shards give up on a plan after 2 s; the harness allows one retry per index.
    short_wait = json.dumps({"EXPORT_PLAN_WAIT_SECONDS": "2"})
    harness.start_operator(**SHARDING, exporter_env=short_wait, **harness.real_exporter())
    days = (company_space.first, company_space.last)
    with spaces_locked(postgres.url):
        name = harness.create_export(5, company_space.space_id, days, estimated_rows=2_000)
        failed = harness.wait_state(name, FAILED, COMPLETED, timeout=120)

    assert failed.state is FAILED
    assert failed.reason is ExportReason.BACKOFF_LIMIT_EXCEEDED
    assert failed.message is not None
    assert failed.message.startswith("shard ")
    assert "no plan from the coordinator" in failed.message
    job = harness.job(name)
    assert job is not None
    assert job["status"]["failed_indexes"]
    # The Job stopped its coordinator too; nothing of the export is left.
    harness.wait_for(lambda: not _running_by_index(harness, name), "the Job's Pods stopped")
    key = job["spec"]["template"]["spec"]["containers"][0]["env"]
    object_key = next(each["value"] for each in key if each["name"] == "OBJECT_KEY")
    _nothing_in_s3(harness, object_key)
