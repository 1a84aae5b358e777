"""One pod's life on the node, in one thread: start, supervise, restart, stop, report.

The worker wakes when the agent hands it a newer version of the pod (or says it is gone), and
every `TICK_SECONDS` otherwise. Each wake it:
1. stops everything at once if the pod is gone from the API (force-deleted);
2. if the pod is being deleted: SIGTERM to each container's process group, SIGKILL after the
   grace period, reports the final status, then deletes the pod with grace 0 and a uid precondition;
3. if the pod outlived `activeDeadlineSeconds`: stops it and reports Failed/DeadlineExceeded;
4. until every container can start, reports why not (ErrImagePull/ImagePullBackOff,
   CreateContainerConfigError, ...) and tries again every `RETRY_SECONDS`;
5. runs init containers one after another, then the containers together, restarting exited
   ones as `restartPolicy` says (back-off 1, 2, 4, 8, then 10 s);
6. writes the pod's status whenever it changed.

A pod whose status says its containers had started, when this worker first sees it, was started
by an earlier run of the agent whose processes are gone (see `_take_over`): with restartPolicy
Always its containers start again; otherwise it is reported Failed with reason
`NodeAgentRestarted` (its containers as ContainerStatusUnknown, exit code 137), so its controller
replaces it rather than it hanging in Running forever.
"""

import logging
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from local_cluster.node_agent.api import NodeApi, PodGoneError
from local_cluster.node_agent.credentials import (
    ClusterEndpoint,
    automounts_token,
    write_pod_kubeconfig,
)
from local_cluster.node_agent.environment import NodeCapacity
from local_cluster.node_agent.launch import (
    LaunchPlan,
    StartBlockedError,
    local_image,
    plan_container,
    termination_message,
)
from local_cluster.node_agent.manifest import Container, Pod, Probe
from local_cluster.node_agent.probes import ReadinessTracker, probe_once
from local_cluster.node_agent.processes import (
    START_FAILED_EXIT_CODE,
    ContainerProcess,
    start_process,
    stop_processes,
)
from local_cluster.node_agent.status import (
    ConditionClock,
    ContainerRecord,
    RestartPolicy,
    Running,
    Terminated,
    Waiting,
    build_pod_status,
    now,
    pod_conditions,
    pod_phase,
    restart_delay,
    should_restart,
)

log = logging.getLogger(__name__)

TICK_SECONDS = 0.25
RETRY_SECONDS = 2.0
STATUS_RETRY_SECONDS = 2.0
SHUTDOWN_GRACE_SECONDS = 3.0
LOST_EXIT_CODE = 137


@dataclass(frozen=True)
class AgentContext:
    """What every pod worker shares."""

    api: NodeApi
    node_name: str
    work_dir: Path
    endpoint: ClusterEndpoint
    capacity: NodeCapacity
    shutting_down: threading.Event


class PodWorker:
    def __init__(self, pod: Pod, context: AgentContext) -> None:
        self._pod = pod
        self._context = context
        self._extra = {"pod": pod.key, "uid": pod.metadata.uid}  # for log lines
        meta = pod.metadata
        self.folder = context.work_dir / "pods" / f"{meta.namespace}_{meta.name}_{meta.uid}"
        self._init = [ContainerRecord(c.name, c.image) for c in pod.spec.init_containers]
        self._main = [ContainerRecord(c.name, c.image) for c in pod.spec.containers]
        self._processes: dict[str, ContainerProcess] = {}
        self._restart_due: dict[str, float] = {}
        self._readiness: dict[str, ReadinessTracker] = {}
        self._plans: dict[str, LaunchPlan] | None = None
        self._credentials: tuple[Path | None] | None = None  # (kubeconfig,) once written
        self._next_attempt = 0.0
        self._clock = ConditionClock()
        self._start_time = _parse_time(pod.status.start_time) or now()
        self._stopped = False  # deleted or past its deadline: runs nothing more
        self._reason: tuple[str, str] | None = None  # the pod's status reason and message
        self._written: dict[str, Any] | None = None
        self._next_status_write = 0.0
        self._report_failed = False
        self._gone = False
        self._deleted_by_us = False
        self._wake = threading.Event()
        self.finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"pod {pod.key}", daemon=True)

    # --- called from the agent's threads -----------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def observe(self, pod: Pod) -> None:
        self._pod = pod
        self._wake.set()

    def observe_deleted(self) -> None:
        self._gone = True
        self._wake.set()

    def shut_down(self) -> None:
        """The agent stops: the worker kills its processes and ends without reporting."""
        self._wake.set()

    def kill_now(self) -> None:
        """SIGKILL to every process group of the pod, from any thread."""
        for process in list(self._processes.values()):
            process.signal(signal.SIGKILL)

    # --- the worker's thread ---------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if _had_started(self._pod):
                self._take_over()
            while True:
                self._wake.clear()  # before the step: a wake during the step is not lost
                if self._step():
                    break
                self._wake.wait(self._wait_seconds())
        except PodGoneError:
            log.info("pod replaced or gone; worker stops", extra=self._extra)
        except Exception:
            log.exception("pod worker failed; the pod's processes are killed", extra=self._extra)
        finally:
            stop_processes(self._processes.values(), grace_seconds=0)
            self._processes.clear()
            self.finished.set()

    def _step(self) -> bool:
        """One round of the lifecycle; True when the worker is done."""
        if self._context.shutting_down.is_set():
            stop_processes(self._processes.values(), SHUTDOWN_GRACE_SECONDS)
            self._processes.clear()
            return True
        if self._gone:
            self._clean_up()
            return True
        if self._pod.is_deleting:
            self._delete()
            return False
        if not self._stopped:
            self._enforce_deadline()
        if not self._stopped and self._phase() not in ("Succeeded", "Failed"):
            if self._plans is None:
                self._plans = self._try_to_plan()
            if self._plans is not None:
                self._supervise(self._plans)
        self._report()
        return False

    # --- starting ----------------------------------------------------------------------------

    def _try_to_plan(self) -> dict[str, LaunchPlan] | None:
        """Launch plans for all containers once every one can start; None until then."""
        if time.monotonic() < self._next_attempt:
            return None
        self._next_attempt = time.monotonic() + RETRY_SECONDS
        try:
            return self._plan_all()
        except StartBlockedError as blocked:
            for record in self._records():
                record.state = _blocked_state(record.state, blocked)
        except (ApiException, HTTPError, OSError):
            log.warning("preparing containers failed; retrying", extra=self._extra, exc_info=True)
        return None

    def _plan_all(self) -> dict[str, LaunchPlan] | None:
        pod = self._pod
        containers = [*pod.spec.init_containers, *pod.spec.containers]
        pulled = True
        for container, record in zip(containers, self._records(), strict=True):
            try:
                local_image(container.image)
            except StartBlockedError as blocked:
                record.state = _blocked_state(record.state, blocked)
                pulled = False
        if not pulled:
            return None  # no credentials or config work for a pod that cannot start anyway
        if self._credentials is None:
            self._credentials = (self._kubeconfig(),)
        plans: dict[str, LaunchPlan] = {}
        for container, record in zip(containers, self._records(), strict=True):
            try:
                plans[container.name] = self._plan(container, self._credentials[0])
                initializing = bool(self._init) and any(record is r for r in self._main)
                record.state = Waiting("PodInitializing" if initializing else "ContainerCreating")
            except StartBlockedError as blocked:
                record.state = _blocked_state(record.state, blocked)
        return plans if len(plans) == len(containers) else None

    def _plan(self, container: Container, kubeconfig: Path | None) -> LaunchPlan:
        return plan_container(
            self._pod,
            container,
            self.folder,
            self._volume_folders(),
            self._context.api,
            self._context.capacity,
            kubeconfig,
        )

    def _kubeconfig(self) -> Path | None:
        """The pod's service-account kubeconfig, unless the pod or its account opts out."""
        pod, api = self._pod, self._context.api
        namespace = pod.metadata.namespace
        account = api.service_account(namespace, pod.service_account)
        if not automounts_token(pod, account):
            return None
        if account is None:
            raise StartBlockedError(
                "CreateContainerConfigError", f'serviceaccount "{pod.service_account}" not found'
            )
        token = api.request_token(
            namespace, pod.service_account, pod.metadata.name, pod.metadata.uid
        )
        return write_pod_kubeconfig(self.folder / "kubeconfig", self._context.endpoint, pod, token)

    def _volume_folders(self) -> dict[str, Path]:
        """emptyDir volumes as folders of the pod; other volume types have no host folder."""
        folders: dict[str, Path] = {}
        for volume in self._pod.spec.volumes:
            if volume.empty_dir is not None:
                folder = self.folder / "volumes" / volume.name
                folder.mkdir(parents=True, exist_ok=True)
                folders[volume.name] = folder
        return folders

    # --- running -----------------------------------------------------------------------------

    def _supervise(self, plans: dict[str, LaunchPlan]) -> None:
        policy = self._pod.spec.restart_policy
        for record in self._init:
            self._reap(record, plans[record.name], "Never" if policy == "Never" else "OnFailure")
            if isinstance(record.state, Terminated) and record.state.succeeded:
                continue
            self._start_if_due(record, plans[record.name])
            return  # init containers run one at a time, each to success, before the others
        for record, container in zip(self._main, self._pod.spec.containers, strict=True):
            self._reap(record, plans[record.name], policy)
            self._start_if_due(record, plans[record.name], container.readiness_probe)
            self._probe_readiness(record, container, plans[record.name])

    def _probe_readiness(
        self, record: ContainerRecord, container: Container, plan: LaunchPlan
    ) -> None:
        tracker = self._readiness.get(record.name)
        if tracker is None or not isinstance(record.state, Running) or not tracker.is_due():
            return
        tracker.record(probe_once(tracker.probe, container, plan.env, plan.cwd))
        record.probe_ready = tracker.ready

    def _start_if_due(
        self, record: ContainerRecord, plan: LaunchPlan, readiness: Probe | None = None
    ) -> None:
        if record.name in self._processes:
            return
        if isinstance(record.state, Terminated):
            return  # finished and not restarting
        due = self._restart_due.get(record.name)
        if due is not None and time.monotonic() < due:
            return
        if due is not None:
            record.restart_count += 1
            del self._restart_due[record.name]
        plan.files.termination_message.write_bytes(b"")
        started = now()
        try:
            self._processes[record.name] = start_process(
                plan.argv, plan.env, plan.cwd, plan.files.log, plan.files.process_record
            )
        except OSError as error:
            record.state = Terminated(
                START_FAILED_EXIT_CODE,
                started,
                now(),
                f"failed to start {plan.argv[0]!r}: {error}",
                reason="StartError",
            )
            return
        record.state = Running(started)
        if readiness is not None:
            self._readiness[record.name] = ReadinessTracker.started(readiness)
            record.probe_ready = False
        log.info(
            "container started",
            extra={
                "pod": self._pod.key,
                "container": record.name,
                "pid": self._processes[record.name].pid,
            },
        )

    def _reap(self, record: ContainerRecord, plan: LaunchPlan, policy: RestartPolicy) -> None:
        """Records the exit of the container's process; schedules its restart if due."""
        process = self._processes.get(record.name)
        code = process.exit_code() if process is not None else None
        if process is not None and code is not None:
            del self._processes[record.name]
            self._record_exit(record, plan, code)
        state = record.state
        if isinstance(state, Terminated) and should_restart(policy, state.exit_code):
            delay = restart_delay(record.restart_count)
            self._restart_due[record.name] = time.monotonic() + delay
            record.last_state = state
            record.state = Waiting(
                "CrashLoopBackOff",
                f"back-off {delay:.0f}s restarting container {record.name} of pod {self._pod.key}",
            )

    def _record_exit(self, record: ContainerRecord, plan: LaunchPlan, code: int) -> None:
        started = record.state.started_at if isinstance(record.state, Running) else None
        message = termination_message(plan.files, plan.termination_message_policy, code)
        record.state = Terminated(code, started, now(), message)
        log.info(
            "container exited",
            extra={"pod": self._pod.key, "container": record.name, "exit_code": code},
        )

    # --- stopping ----------------------------------------------------------------------------

    def _stop_all(self, grace_seconds: float) -> None:
        """SIGTERM, then SIGKILL after the grace period (or at once, when it becomes urgent)."""
        for process in self._processes.values():
            process.signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        while self._processes_running() and time.monotonic() < deadline and not self._urgent():
            self._wake.wait(0.05)
        stop_processes(self._processes.values(), grace_seconds=0)
        plans = self._plans or {}
        records = {record.name: record for record in self._records()}
        for name, process in self._processes.items():
            code = process.exit_code()
            if code is not None and name in plans:
                self._record_exit(records[name], plans[name], code)
        self._processes.clear()

    def _urgent(self) -> bool:
        """The pod is gone or the agent stops: no more waiting for a grace period."""
        return self._gone or self._context.shutting_down.is_set()

    def _processes_running(self) -> bool:
        return any(process.popen.poll() is None for process in self._processes.values())

    def _delete(self) -> None:
        if self._deleted_by_us:
            return
        pod = self._pod
        grace = pod.metadata.deletion_grace_period_seconds
        self._stop_all(float(pod.spec.termination_grace_period_seconds if grace is None else grace))
        self._restart_due.clear()
        self._stopped = True
        if not self._gone and not pod.is_terminal:
            self._report(force=True)
        try:
            self._context.api.delete_pod_now(
                pod.metadata.namespace, pod.metadata.name, pod.metadata.uid
            )
        except Exception:
            log.warning("deleting the pod failed; retrying", extra=self._extra, exc_info=True)
            return
        self._deleted_by_us = True
        log.info("pod stopped and deleted", extra=self._extra)

    def _enforce_deadline(self) -> None:
        deadline = self._pod.spec.active_deadline_seconds
        if deadline is None or (now() - self._start_time).total_seconds() < deadline:
            return
        self._stop_all(float(self._pod.spec.termination_grace_period_seconds))
        self._restart_due.clear()
        self._stopped = True
        self._reason = (
            "DeadlineExceeded",
            f"Pod was active on the node longer than the specified deadline ({deadline} s)",
        )

    def _take_over(self) -> None:
        """A pod an earlier agent run had started: its processes are gone (killed at start).

        With restartPolicy Always its containers start again (restart count + 1, last state
        ContainerStatusUnknown); any other pod is reported Failed, for its controller to replace.
        """
        lost = Terminated(
            LOST_EXIT_CODE,
            None,
            now(),
            "The container could not be located when the pod was terminated",
            reason="ContainerStatusUnknown",
        )
        if self._pod.spec.restart_policy == "Always":
            seen = {status.name: status for status in self._pod.status.container_statuses}
            for record in self._main:
                record.last_state = lost
                record.restart_count = (
                    seen[record.name].restart_count + 1 if record.name in seen else 1
                )
            log.warning("pod started by an earlier agent run; restarting it", extra=self._extra)
            return
        for record in self._records():
            record.state = lost
        self._stopped = True
        self._reason = (
            "NodeAgentRestarted",
            "The node agent restarted and lost this pod's processes; its controller may replace it",
        )
        log.warning("pod lost by an earlier agent run; reporting it Failed", extra=self._extra)

    def _clean_up(self) -> None:
        """The pod is gone: kill what runs, drop its volumes and credentials, keep its logs."""
        stop_processes(self._processes.values(), grace_seconds=0)
        self._processes.clear()
        shutil.rmtree(self.folder / "volumes", ignore_errors=True)
        (self.folder / "kubeconfig").unlink(missing_ok=True)

    # --- reporting ---------------------------------------------------------------------------

    def _wait_seconds(self) -> float | None:
        """None (sleep until woken) once the pod runs nothing more and all is reported."""
        finished = self._stopped or self._phase() in ("Succeeded", "Failed")
        deleting = self._pod.is_deleting and not self._deleted_by_us
        if finished and not self._processes and not deleting and not self._report_failed:
            return None
        return TICK_SECONDS

    def _records(self) -> list[ContainerRecord]:
        return [*self._init, *self._main]

    def _phase(self) -> str:
        return pod_phase(self._init, self._main, self._pod.spec.restart_policy, self._stopped)

    def _report(self, force: bool = False) -> None:
        if self._context.shutting_down.is_set():
            return
        phase = self._phase()
        reason, message = self._reason or ("", "")
        status = build_pod_status(
            phase=phase,
            conditions=pod_conditions(self._clock, self._init, self._main, phase),
            init_containers=self._init,
            containers=self._main,
            start_time=self._start_time,
            reason=reason or None,
            message=message or None,
        )
        if status == self._written or (not force and time.monotonic() < self._next_status_write):
            return
        meta = self._pod.metadata
        try:
            self._context.api.patch_pod_status(meta.namespace, meta.name, meta.uid, status)
        except PodGoneError:
            raise
        except Exception:
            log.warning("writing pod status failed; retrying", extra=self._extra, exc_info=True)
            self._next_status_write = time.monotonic() + STATUS_RETRY_SECONDS
            self._report_failed = True
            return
        self._written = status
        self._report_failed = False


def _blocked_state(previous: Any, blocked: StartBlockedError) -> Waiting:
    """ErrImagePull turns into ImagePullBackOff on the next attempt, as on a real node."""
    if (
        blocked.reason == "ErrImagePull"
        and isinstance(previous, Waiting)
        and previous.reason
        in (
            "ErrImagePull",
            "ImagePullBackOff",
        )
    ):
        return Waiting("ImagePullBackOff", str(blocked))
    return Waiting(blocked.reason, str(blocked))


def _had_started(pod: Pod) -> bool:
    statuses = [*pod.status.init_container_statuses, *pod.status.container_statuses]
    started = any("running" in s.state or "terminated" in s.state for s in statuses)
    return not pod.is_terminal and (started or pod.status.phase == "Running")


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
