"""Admission of export Jobs: at most N Pods run in the cluster and M per space; the rest wait
suspended.

`select` is the pure decision; `Admitter` runs it one pass at a time, so two passes never both
fill the same free slot, against `JobIndex`: the Jobs as the watch reports them, listed from the
API server once (at the first pass), never per pass. A flood of exports therefore reaches the
database at most N connections at a time, oldest export first.
"""

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Protocol

from export_operator.jobs import JobPhase, JobView

logger = logging.getLogger(__name__)

NUDGE_SECONDS = 5.0


def select(jobs: Iterable[JobView], max_running: int, max_per_space: int) -> list[JobView]:
    """The suspended Jobs to start now, oldest first, without their Pods exceeding either cap.

    A Job counts all its Pods (a sharded export's shards and coordinator). When the oldest Job
    waiting does not fit the cluster's free Pods, younger ones do not pass it: a large export is
    never starved by a stream of small ones.
    """
    jobs = list(jobs)
    per_space: Counter[int | None] = Counter()
    for job in jobs:
        if job.occupies_slot:
            per_space[job.space_id] += job.pods
    free = max_running - per_space.total()
    waiting = sorted(
        (job for job in jobs if job.phase is JobPhase.SUSPENDED and not job.deleting),
        key=lambda job: (job.created_at, job.name),
    )
    chosen: list[JobView] = []
    for job in waiting:
        if job.pods > free:
            break
        if per_space[job.space_id] + job.pods <= max_per_space:
            per_space[job.space_id] += job.pods
            free -= job.pods
            chosen.append(job)
    return chosen


class JobApi(Protocol):
    def list_export_jobs(self) -> list[JobView]: ...

    def resume_job(self, job: JobView) -> None: ...


# How far a Job has come: the operator creates Jobs suspended and resumes each once.
_PROGRESS = {JobPhase.SUSPENDED: 0, JobPhase.RUNNING: 1, JobPhase.SUCCEEDED: 2, JobPhase.FAILED: 2}


class JobIndex:
    """The export Jobs as the watch last reported them: what admission reads instead of a list.

    kopf's Job handler feeds it (`seen`, `gone`); the first read lists the Jobs once, so that a
    pass before the watch's first events still counts every running Job. A Job this process
    resumed counts as running at once, before its watch event arrives.
    """

    def __init__(self, api: JobApi) -> None:
        self._api = api
        self._jobs: dict[str, JobView] = {}
        self._lock = threading.Lock()
        self._listed = False

    def seen(self, job: JobView) -> None:
        """The Job as an event reports it; an event older than what is known is ignored.

        A Job only moves forward (suspended, running, finished): the watch event of its
        creation, suspended, may arrive after this process resumed it, and taking it would free
        a slot that the Job holds (a flood of exports then ran one over the cap)."""
        with self._lock:
            known = self._jobs.get(job.uid)
            if known is None or _PROGRESS[job.phase] >= _PROGRESS[known.phase]:
                self._jobs[job.uid] = job

    def gone(self, uid: str) -> None:
        with self._lock:
            self._jobs.pop(uid, None)

    def list_export_jobs(self) -> list[JobView]:
        if not self._listed:
            listed = self._api.list_export_jobs()
            with self._lock:
                for job in listed:
                    self._jobs.setdefault(job.uid, job)
            self._listed = True
        with self._lock:
            return list(self._jobs.values())

    def resume_job(self, job: JobView) -> None:
        self._api.resume_job(job)
        with self._lock:
            if job.uid in self._jobs:
                self._jobs[job.uid] = replace(job, phase=JobPhase.RUNNING)

    def __len__(self) -> int:
        return len(self._jobs)


class Admitter:
    """Runs admission passes one at a time; requests during a pass coalesce into one more pass.

    Handlers call `request()` from kopf's worker threads whenever a slot may have freed or a Job
    may be waiting; it never blocks a handler behind another pass.
    """

    def __init__(
        self,
        api: JobApi,
        max_running: int,
        max_per_space: int,
        on_start: Callable[[JobView], None] = lambda job: None,
    ) -> None:
        self._api = api
        self._max_running = max_running
        self._max_per_space = max_per_space
        self._on_start = on_start
        self._pass_lock = threading.Lock()
        self._flag_lock = threading.Lock()
        self._wanted = False
        self._last_pass = 0.0

    def request(self) -> None:
        with self._flag_lock:
            self._wanted = True
        while self._pass_lock.acquire(blocking=False):
            try:
                while self._take_request():
                    self._pass()
            finally:
                self._pass_lock.release()
            # A request may have arrived between the last check and the release.
            with self._flag_lock:
                if not self._wanted:
                    return

    def nudge(self) -> None:
        """A request from a periodic check: skipped when a pass ran within NUDGE_SECONDS.

        Every waiting export checks periodically; without this, a hundred of them would list all
        Jobs a hundred times per period.
        """
        if time.monotonic() - self._last_pass >= NUDGE_SECONDS:
            self.request()

    def _take_request(self) -> bool:
        with self._flag_lock:
            wanted, self._wanted = self._wanted, False
        return wanted

    def _pass(self) -> None:
        self._last_pass = time.monotonic()
        for job in select(self._api.list_export_jobs(), self._max_running, self._max_per_space):
            self._api.resume_job(job)
            logger.info(
                "admitted export job",
                extra={"namespace": job.namespace, "job": job.name, "space_id": job.space_id},
            )
            self._on_start(job)
