"""Pod status as the kubelet reports it: container states, the pod's phase and its conditions.

The functions here are pure: the pod worker keeps one `ContainerRecord` per container and turns
them into the `status` object it writes through the pods/status subresource.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from local_cluster.node_agent.environment import POD_IP

RestartPolicy = Literal["Always", "OnFailure", "Never"]


def now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with seconds, the API's `Time` format."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Waiting:
    reason: str
    message: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"waiting": _without_none({"reason": self.reason, "message": self.message})}


@dataclass(frozen=True)
class Running:
    started_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"running": {"startedAt": timestamp(self.started_at)}}


@dataclass(frozen=True)
class Terminated:
    exit_code: int
    started_at: datetime | None
    finished_at: datetime
    message: str | None = None
    reason: str | None = None  # None: "Completed" for exit code 0, else "Error"

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0

    def as_json(self) -> dict[str, Any]:
        reason = self.reason or ("Completed" if self.succeeded else "Error")
        terminated = {
            "exitCode": self.exit_code,
            "reason": reason,
            "message": self.message or None,
            "startedAt": timestamp(self.started_at) if self.started_at else None,
            "finishedAt": timestamp(self.finished_at),
        }
        return {"terminated": _without_none(terminated)}


ContainerState = Waiting | Running | Terminated


@dataclass
class ContainerRecord:
    """What the agent knows about one container of a pod."""

    name: str
    image: str
    state: ContainerState = field(default_factory=lambda: Waiting("ContainerCreating"))
    last_state: Terminated | None = None
    restart_count: int = 0
    probe_ready: bool = True  # False while its readiness probe has not succeeded

    @property
    def ready(self) -> bool:
        return isinstance(self.state, Running) and self.probe_ready

    @property
    def has_run(self) -> bool:
        """Started at least once (a waiting container with a last state is restarting)."""
        return not isinstance(self.state, Waiting) or self.last_state is not None

    def as_json(self) -> dict[str, Any]:
        running = isinstance(self.state, Running)
        return {
            "name": self.name,
            "image": self.image,
            "imageID": "",
            "containerID": "",
            "state": self.state.as_json(),
            "lastState": self.last_state.as_json() if self.last_state else {},
            "ready": self.ready,
            "started": running,
            "restartCount": self.restart_count,
        }


def should_restart(policy: RestartPolicy, exit_code: int) -> bool:
    return policy == "Always" or (policy == "OnFailure" and exit_code != 0)


def restart_delay(restart_count: int) -> float:
    """Seconds before the next restart: 1, 2, 4, 8, then 10 (the kubelet's go 10 to 300)."""
    return float(min(10, 2**restart_count))


def pod_phase(
    init_containers: Sequence[ContainerRecord],
    containers: Sequence[ContainerRecord],
    policy: RestartPolicy,
    terminal: bool = False,
) -> str:
    """The kubelet's phase rules (pkg/kubelet/kubelet_pods.go getPhase) for these records.

    `terminal` says the pod will run nothing more (it is being deleted or hit its deadline).
    """
    if _init_failed(init_containers, policy, terminal):
        return "Failed"
    if not all(_init_done(record) for record in init_containers):
        return "Pending"
    never_started = sum(not record.has_run for record in containers)
    running = sum(isinstance(record.state, Running) for record in containers)
    finished = [_finished(record) for record in containers]
    stopped = [state for state in finished if state is not None]
    if never_started and not terminal:
        return "Pending"
    if running and not terminal:
        return "Running"
    all_succeeded = len(stopped) == len(containers) and all(s.succeeded for s in stopped)
    if terminal:
        return "Succeeded" if all_succeeded else "Failed"
    if policy == "Always":
        return "Running"
    if all_succeeded:
        return "Succeeded"
    if policy == "OnFailure":
        return "Running"
    return "Failed"


def _finished(record: ContainerRecord) -> Terminated | None:
    if isinstance(record.state, Terminated):
        return record.state
    return record.last_state if isinstance(record.state, Waiting) else None


def _init_done(record: ContainerRecord) -> bool:
    return isinstance(record.state, Terminated) and record.state.succeeded


def _init_failed(records: Sequence[ContainerRecord], policy: RestartPolicy, terminal: bool) -> bool:
    failed = any(isinstance(r.state, Terminated) and not r.state.succeeded for r in records)
    return failed and (policy == "Never" or terminal)


@dataclass
class ConditionClock:
    """Remembers when each condition last changed, for `lastTransitionTime`."""

    changed_at: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    def condition(
        self, kind: str, true: bool, reason: str | None = None, message: str | None = None
    ) -> dict[str, Any]:
        status = "True" if true else "False"
        previous = self.changed_at.get(kind)
        if previous is None or previous[0] != status:
            self.changed_at[kind] = (status, now())
        changed = self.changed_at[kind][1]
        return _without_none(
            {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": message,
                "lastProbeTime": None,
                "lastTransitionTime": timestamp(changed),
            }
        )


def pod_conditions(
    clock: ConditionClock,
    init_containers: Sequence[ContainerRecord],
    containers: Sequence[ContainerRecord],
    phase: str,
) -> list[dict[str, Any]]:
    """PodScheduled, Initialized, ContainersReady and Ready, with kubelet-like reasons."""
    initialized = all(_init_done(record) for record in init_containers)
    unready = [r.name for r in containers if not r.ready]
    done = phase in ("Succeeded", "Failed")
    if done:
        ready_reason: str | None = "PodCompleted"
        ready_message = None
    elif unready:
        ready_reason = "ContainersNotReady"
        ready_message = f"containers with unready status: [{' '.join(unready)}]"
    else:
        ready_reason = ready_message = None
    init_reason = None if initialized else "ContainersNotInitialized"
    ready = not unready and not done
    return [
        clock.condition("PodScheduled", True),
        clock.condition("Initialized", initialized or done, None if done else init_reason),
        clock.condition("ContainersReady", ready, ready_reason, ready_message),
        clock.condition("Ready", ready, ready_reason, ready_message),
    ]


def build_pod_status(
    *,
    phase: str,
    conditions: list[dict[str, Any]],
    init_containers: Sequence[ContainerRecord],
    containers: Sequence[ContainerRecord],
    start_time: datetime,
    reason: str | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    """The whole `status` object; written with a JSON merge patch, so lists are replaced."""
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": conditions,
        "hostIP": POD_IP,
        "hostIPs": [{"ip": POD_IP}],
        "podIP": POD_IP,
        "podIPs": [{"ip": POD_IP}],
        "startTime": timestamp(start_time),
        "containerStatuses": [record.as_json() for record in containers],
        "initContainerStatuses": [record.as_json() for record in init_containers],
        "reason": reason,
        "message": message,
    }
    if not init_containers:
        del status["initContainerStatuses"]
    return status


def _without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}
