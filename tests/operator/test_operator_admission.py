"""Admission: caps in the cluster and per space, oldest first, one pass at a time."""

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from export_operator.admission import Admitter, JobIndex, select
from export_operator.jobs import JobPhase, JobView

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, 10, tzinfo=UTC)


def _job(n: int, space: int, phase: JobPhase, deleting: bool = False) -> JobView:
    return JobView(
        namespace="ns",
        name=f"export-{n}",
        uid=f"u{n}",
        owner_uid=f"o{n}",
        space_id=space,
        created_at=T0 + timedelta(seconds=n),
        phase=phase,
        deleting=deleting,
        started_at=None,
        finished_at=None,
        object_key=None,
    )


def _names(jobs: list[JobView]) -> list[str]:
    return [job.name for job in jobs]


def test_oldest_first_within_the_cluster_cap() -> None:
    jobs = [_job(n, n, JobPhase.SUSPENDED) for n in (5, 1, 3, 2, 4)]
    assert _names(select(jobs, 3, 2)) == ["export-1", "export-2", "export-3"]


def test_per_space_cap_skips_to_other_spaces() -> None:
    jobs = [
        _job(1, 7, JobPhase.RUNNING),
        _job(2, 7, JobPhase.SUSPENDED),
        _job(3, 7, JobPhase.SUSPENDED),
        _job(4, 8, JobPhase.SUSPENDED),
    ]
    assert _names(select(jobs, 10, 2)) == ["export-2", "export-4"]


def test_finished_and_deleted_jobs_free_their_slots() -> None:
    jobs = [
        _job(1, 7, JobPhase.SUCCEEDED),
        _job(2, 7, JobPhase.FAILED),
        _job(3, 7, JobPhase.RUNNING, deleting=True),
        _job(4, 7, JobPhase.SUSPENDED),
        _job(5, 7, JobPhase.SUSPENDED, deleting=True),
    ]
    assert _names(select(jobs, 1, 1)) == ["export-4"]


def test_nothing_when_full() -> None:
    jobs = [_job(1, 1, JobPhase.RUNNING), _job(2, 2, JobPhase.SUSPENDED)]
    assert select(jobs, 1, 1) == []


class _FakeJobs:
    """An in-memory JobApi that counts concurrent passes (the real one is a cluster)."""

    def __init__(self, jobs: list[JobView]) -> None:
        self.jobs = {job.name: job for job in jobs}
        self.passes = 0
        self.inside = 0
        self.most_inside = 0
        self._lock = threading.Lock()
        self.release = threading.Event()
        self.resumed: list[str] = []

    def list_export_jobs(self) -> list[JobView]:
        with self._lock:
            self.passes += 1
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        self.release.wait(5)
        with self._lock:
            self.inside -= 1
            return list(self.jobs.values())

    def resume_job(self, job: JobView) -> None:
        with self._lock:
            self.resumed.append(job.name)
            self.jobs[job.name] = JobView(**{**job.__dict__, "phase": JobPhase.RUNNING})


def test_concurrent_requests_run_one_pass_at_a_time_and_none_is_lost() -> None:
    api = _FakeJobs([_job(n, n % 3, JobPhase.SUSPENDED) for n in range(30)])
    admitter = Admitter(api, 10, 2)
    threads = [threading.Thread(target=admitter.request) for _ in range(20)]
    for thread in threads:
        thread.start()
    api.release.set()
    for thread in threads:
        thread.join(10)
    running = [job for job in api.jobs.values() if job.phase is JobPhase.RUNNING]
    assert api.most_inside == 1
    assert 1 <= api.passes <= 3  # twenty requests coalesce
    assert len(running) == 6  # 3 spaces x 2


def test_the_job_index_lists_once_then_follows_events_and_its_own_admissions() -> None:
    api = _FakeJobs([_job(1, 1, JobPhase.RUNNING), _job(2, 1, JobPhase.SUSPENDED)])
    api.release.set()
    index = JobIndex(api)
    admitter = Admitter(index, 2, 2)

    admitter.request()  # lists (the only list), then admits export-2
    assert api.passes == 1
    assert {job.name: job.phase for job in index.list_export_jobs()} == {
        "export-1": JobPhase.RUNNING,
        "export-2": JobPhase.RUNNING,  # counted at once, before any watch event
    }
    index.seen(_job(3, 2, JobPhase.SUSPENDED))  # the watch reports a new Job: the cap is full
    admitter.request()
    assert index.list_export_jobs()[-1].phase is JobPhase.SUSPENDED
    index.seen(_job(1, 1, JobPhase.SUCCEEDED))  # a slot frees
    index.gone("u2")
    admitter.request()
    assert api.passes == 1  # no pass listed the Jobs again
    assert api.resumed == ["export-2", "export-3"]
    assert {job.name for job in index.list_export_jobs() if job.occupies_slot} == {"export-3"}


def test_a_late_event_of_a_resumed_job_does_not_free_its_slot() -> None:
    api = _FakeJobs([_job(1, 1, JobPhase.SUSPENDED), _job(2, 1, JobPhase.SUSPENDED)])
    api.release.set()
    index = JobIndex(api)
    admitter = Admitter(index, 1, 1)

    admitter.request()  # resumes export-1: the cap of one is full
    index.seen(_job(1, 1, JobPhase.SUSPENDED))  # the watch's event of its creation, late
    admitter.request()

    assert api.resumed == ["export-1"]
    index.seen(_job(1, 1, JobPhase.SUCCEEDED))
    index.seen(_job(1, 1, JobPhase.RUNNING))  # older than the last event: ignored
    admitter.request()
    assert api.resumed == ["export-1", "export-2"]


def _sharded(n: int, space: int, phase: JobPhase, pods: int) -> JobView:
    return replace(_job(n, space, phase), pods=pods)


def test_a_sharded_export_counts_each_of_its_pods() -> None:
    running = _sharded(1, 7, JobPhase.RUNNING, pods=4)  # 3 shards and their coordinator
    waiting = [_job(2, 7, JobPhase.SUSPENDED), _job(3, 7, JobPhase.SUSPENDED)]
    assert _names(select([running, *waiting], 10, 5)) == ["export-2"]
    assert select([running, *waiting], 4, 5) == []


def test_a_sharded_export_waits_for_all_its_pods_and_younger_exports_do_not_pass_it() -> None:
    jobs = [
        _job(1, 1, JobPhase.RUNNING),
        _sharded(2, 2, JobPhase.SUSPENDED, pods=5),
        _job(3, 3, JobPhase.SUSPENDED),
    ]
    assert select(jobs, 5, 5) == []  # 4 Pods free: not enough for export-2, and 3 waits behind
    jobs[0] = _job(1, 1, JobPhase.SUCCEEDED)
    assert _names(select(jobs, 5, 5)) == ["export-2"]
    assert _names(select(jobs, 6, 5)) == ["export-2", "export-3"]


def test_a_sharded_export_fits_its_space_cap_with_all_its_pods() -> None:
    jobs = [_job(1, 7, JobPhase.RUNNING), _sharded(2, 7, JobPhase.SUSPENDED, pods=3)]
    assert select(jobs, 10, 3) == []
    assert _names(select(jobs, 10, 4)) == ["export-2"]
