"""A sharded export, its Pods as processes: the same file as one Pod writes, a shard killed and
run again, a shard failing for good, a coordinator that restarted.

Each process gets the environment Kubernetes gives the Pods of an Indexed Job (EXPORT_SHARDS from
the operator, JOB_COMPLETION_INDEX from the Job controller); what the Job controller does (run a
failed index again, stop the other Pods when the Job fails) the tests do by hand.
"""

import gzip
import hashlib
import json
import signal
import time
from dataclasses import replace
from pathlib import Path

import pytest

from company_exporter.compression import MIN_PART_BYTES
from export_contracts.exporter import ExitCode, ShardReport
from export_storage import shard_board
from local_cluster.s3 import S3Server
from tests.exporter.conftest import Exporter, open_uploads, read_export
from tests.exporter.faulty_s3 import FaultyS3Proxy
from tests.exporter.test_export_content import WHOLE_END, WHOLE_START

pytestmark = pytest.mark.integration

SETTINGS = {"EXPORT_SLICE_ROWS": "1000", "EXPORT_DATABASE_CONNECTIONS": "1"}


def sharded(exporter: Exporter, shards: int) -> Exporter:
    return replace(exporter, settings=SETTINGS, shards=shards)


def board_keys(s3: S3Server, key: str) -> list[str]:
    listed = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=shard_board(key))
    return [each["Key"] for each in listed.get("Contents", [])]


def object_exists(s3: S3Server, key: str) -> bool:
    listed = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=key)
    return any(each["Key"] == key for each in listed.get("Contents", []))


def wait_for_plan(s3: S3Server, key: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while not board_keys(s3, key):
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


def wait_for_log(path: Path, message: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while message not in path.read_text():
        assert time.monotonic() < deadline, f"no {message!r} in {path.read_text()}"
        time.sleep(0.05)


@pytest.fixture
def two_shards(exporter: Exporter, space_100k: int) -> tuple[Exporter, dict[str, str]]:
    """A runner of sharded exports in 2 shards, and the environment of one export of the 100k
    space for all its processes."""
    runner = sharded(exporter, 2)
    return runner, runner.sharded_env(space_100k, WHOLE_START, WHOLE_END)


@pytest.fixture
def single_pod_file(exporter: Exporter, s3: S3Server, space_100k: int) -> bytes:
    """The 100k space's NDJSON as one Pod exports it."""
    run = replace(exporter, s3=s3, settings=SETTINGS).run(space_100k, WHOLE_START, WHOLE_END)
    assert run.result().records == 100_000
    return gzip.decompress(read_export(s3, run.key).raw)


@pytest.mark.parametrize("shards", [2, 5])
def test_a_sharded_file_inflates_to_the_single_pod_file(
    exporter: Exporter, s3: S3Server, space_100k: int, single_pod_file: bytes, shards: int
) -> None:
    run = sharded(exporter, shards).run_sharded(
        sharded(exporter, shards).sharded_env(space_100k, WHOLE_START, WHOLE_END)
    )

    result = run.coordinator.result()
    raw = read_export(s3, run.coordinator.key).raw
    assert gzip.decompress(raw) == single_pod_file
    assert result.records == 100_000
    assert (result.bytes, result.sha256) == (len(raw), hashlib.sha256(raw).hexdigest())
    reports = [ShardReport.model_validate_json(shard.stdout) for shard in run.shards]
    assert [report.shard for report in reports] == list(range(1, shards + 1))
    assert sum(report.records for report in reports) == 100_000
    # ~16 MB of gzip: 2 shards fill their parts; 5 shards' short outputs are padded to S3's
    # minimum part size with empty blocks, which add nothing once inflated.
    assert all(report.bytes >= MIN_PART_BYTES for report in reports if report.parts)
    assert (shards == 5) == (result.bytes > 5 * MIN_PART_BYTES)
    assert board_keys(s3, run.coordinator.key) == []
    assert open_uploads(s3, run.coordinator.key) == []


def test_a_shard_killed_midway_and_run_again_gives_the_same_file(
    two_shards: tuple[Exporter, dict[str, str]], s3: S3Server, single_pod_file: bytes
) -> None:
    runner, env = two_shards
    coordinator, first = runner.start_pod(env, 0), runner.start_pod(env, 1)
    doomed = runner.start_pod(env, 2)
    wait_for_log(doomed.err, "shard started")
    doomed.popen.send_signal(signal.SIGKILL)  # no chance to clean up: an OOM kill, a lost node
    killed = doomed.collect(10)
    again = runner.start_pod(env, 2).collect(120)  # what the Job does for a failed index

    result = coordinator.collect(120).result()
    assert killed.exit_code == -signal.SIGKILL
    assert first.collect(120).exit_code == again.exit_code == 0
    raw = read_export(s3, env["OBJECT_KEY"]).raw
    assert gzip.decompress(raw) == single_pod_file
    assert result.records == 100_000
    assert result.sha256 == hashlib.sha256(raw).hexdigest()


def test_a_shard_failing_for_good_leaves_nothing_in_s3(
    two_shards: tuple[Exporter, dict[str, str]], s3: S3Server
) -> None:
    runner, env = two_shards
    coordinator = runner.start_pod(env, 0)
    healthy = runner.start_pod(env, 1)
    wrong_password = env["DATABASE_URL"].replace("@", "x@", 1)
    failed = runner.start_pod({**env, "DATABASE_URL": wrong_password}, 2).collect(60)
    assert failed.exit_code == ExitCode.RETRIABLE
    assert board_keys(s3, env["OBJECT_KEY"]), "the plan is posted: the upload is open"
    # The Job's last retry of the index failed: the Job fails and its controller stops the Pods.
    coordinator.popen.send_signal(signal.SIGTERM)
    healthy.popen.send_signal(signal.SIGTERM)

    stopped = coordinator.collect(60)
    healthy.collect(60)
    assert stopped.exit_code == ExitCode.RETRIABLE
    assert "SIGTERM" in json.loads(stopped.termination_message)["error"]
    assert not object_exists(s3, env["OBJECT_KEY"])
    assert open_uploads(s3, env["OBJECT_KEY"]) == []
    assert board_keys(s3, env["OBJECT_KEY"]) == []


def test_a_restarted_coordinator_fails_the_export_for_good(
    two_shards: tuple[Exporter, dict[str, str]], s3: S3Server
) -> None:
    runner, env = two_shards
    first = runner.start_pod(env, 0)
    wait_for_plan(s3, env["OBJECT_KEY"], first.err)  # no shard runs yet
    first.popen.send_signal(signal.SIGKILL)
    first.collect(10)

    again = runner.start_pod(env, 0).collect(60)

    failure = again.failure()
    assert failure.exit_code == ExitCode.BAD_REQUEST  # the Job's failure policy: fail, no retry
    assert "create the export again" in failure.error


def test_a_coordinator_failing_after_its_plan_fails_the_export_at_once(
    two_shards: tuple[Exporter, dict[str, str]], s3: S3Server
) -> None:
    runner, env = two_shards
    shards = [runner.start_pod(env, index) for index in (1, 2)]
    # Every attempt at the coordinator's one part, the file's ending (part 10,000), fails.
    with FaultyS3Proxy(s3.port, fail=lambda part, attempt: part == 10_000) as proxy:
        coordinator = runner.start_pod({**env, "S3_ENDPOINT_URL": proxy.endpoint_url}, 0)
        failed = coordinator.collect(120)
    assert all(shard.collect(60).exit_code == 0 for shard in shards)

    failure = failed.failure()
    # A retry would take a new snapshot that the finished shards did not read: not retried.
    assert failure.exit_code == ExitCode.BAD_REQUEST
    assert "S3 failed" in failure.error
    assert "create the export again" in failure.error
    assert not object_exists(s3, env["OBJECT_KEY"])
    assert open_uploads(s3, env["OBJECT_KEY"]) == []
    assert board_keys(s3, env["OBJECT_KEY"]) == []
