"""The node agent's pure parts: images, env, paths, status, processes, kubeconfig."""

import base64
import http.server
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from local_cluster.images import find_local_image, repository_of
from local_cluster.node_agent.credentials import (
    automounts_token,
    cluster_endpoint,
    write_pod_kubeconfig,
)
from local_cluster.node_agent.environment import (
    ContainerConfigError,
    NodeCapacity,
    expand_references,
    host_paths,
    resolve_environment,
    temporary_folder,
)
from local_cluster.node_agent.launch import (
    ContainerFiles,
    StartBlockedError,
    plan_container,
    termination_message,
)
from local_cluster.node_agent.manifest import Container, Pod, Probe
from local_cluster.node_agent.probes import ReadinessTracker, probe_once
from local_cluster.node_agent.processes import kill_leftovers, start_process, stop_processes
from local_cluster.node_agent.status import (
    ConditionClock,
    ContainerRecord,
    Running,
    Terminated,
    Waiting,
    build_pod_status,
    pod_conditions,
    pod_phase,
    restart_delay,
)
from local_cluster.process import free_port

pytestmark = pytest.mark.unit

CAPACITY = NodeCapacity(cpu="2", memory="4Gi", ephemeral_storage="10Gi")
VENV_BIN = Path(sys.executable).parent


class InMemoryConfig:
    """Secrets and ConfigMaps of one namespace, as the API would return them (decoded)."""

    def __init__(
        self,
        secrets: Mapping[str, Mapping[str, str]] | None = None,
        config_maps: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.secrets = dict(secrets or {})
        self.config_maps = dict(config_maps or {})

    def secret(self, namespace: str, name: str) -> Mapping[str, str] | None:
        return self.secrets.get(name)

    def config_map(self, namespace: str, name: str) -> Mapping[str, str] | None:
        return self.config_maps.get(name)


def make_pod(containers: list[dict[str, Any]], **spec: Any) -> Pod:
    return Pod.model_validate(
        {
            "metadata": {
                "name": "worker-1",
                "namespace": "team-a",
                "uid": "0b9c-uid",
                "labels": {"app": "exporter"},
                "annotations": {"owner": "ops"},
            },
            "spec": {"nodeName": "local-node", "containers": containers, **spec},
        }
    )


# --- image table ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("python", "python"),
        ("python:3.12", "python"),
        ("docker.io/library/python:3.12-slim", "python"),
        ("python@sha256:" + "a" * 64, "python"),
        ("localhost:5000/company-exports-exporter:dev", "company-exports-exporter"),
        ("ghcr.io/acme/company-exports-api:1.0", "acme/company-exports-api"),
        ("acme/tool", "acme/tool"),
    ],
)
def test_repository_strips_registry_namespace_tag_and_digest(image: str, repository: str) -> None:
    assert repository_of(image) == repository


@pytest.mark.parametrize(
    "image",
    ["python:3.11", "company-exports-exporter:0.1.0", "ghcr.io/acme/company-exports-operator:1"],
)
def test_known_images_put_the_virtualenv_first_on_path(image: str) -> None:
    found = find_local_image(image)
    assert found is not None
    assert found.path_first == (VENV_BIN,)


@pytest.mark.parametrize("image", ["busybox", "pythonista:1", "acme/exports:1", "nginx:latest"])
def test_unknown_images_are_not_in_the_table(image: str) -> None:
    assert find_local_image(image) is None


# --- environment ------------------------------------------------------------------------------


def test_env_resolves_literals_references_secrets_config_maps_and_prefixes() -> None:
    pod = make_pod(
        [
            {
                "name": "main",
                "image": "python",
                "envFrom": [
                    {"configMapRef": {"name": "settings"}},
                    {"prefix": "DB_", "secretRef": {"name": "db"}},
                ],
                "env": [
                    {"name": "LEVEL", "value": "debug"},  # replaces the ConfigMap's LEVEL
                    {"name": "GREETING", "value": "$(LEVEL) at $(DB_HOST), $$(LEVEL) $(NOPE)"},
                    {
                        "name": "PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": "db", "key": "PASSWORD"}},
                    },
                    {
                        "name": "REGION",
                        "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "REGION"}},
                    },
                ],
            }
        ]
    )
    source = InMemoryConfig(
        secrets={"db": {"HOST": "db.local", "PASSWORD": "s3cret"}},
        config_maps={"settings": {"LEVEL": "info", "REGION": "eu-1"}},
    )
    env = resolve_environment(pod, pod.spec.containers[0], source, CAPACITY)
    assert env == {
        "LEVEL": "debug",
        "REGION": "eu-1",
        "DB_HOST": "db.local",
        "DB_PASSWORD": "s3cret",
        "GREETING": "debug at db.local, $(LEVEL) $(NOPE)",
        "PASSWORD": "s3cret",
    }


@pytest.mark.parametrize(
    ("env", "env_from", "message"),
    [
        (
            [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "missing", "key": "k"}}}],
            [],
            'secret "missing" not found',
        ),
        (
            [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "db", "key": "NOPE"}}}],
            [],
            "couldn't find key NOPE in Secret team-a/db",
        ),
        ([], [{"configMapRef": {"name": "absent"}}], 'configmap "absent" not found'),
    ],
)
def test_missing_config_names_what_is_missing(
    env: list[dict[str, Any]], env_from: list[dict[str, Any]], message: str
) -> None:
    pod = make_pod([{"name": "main", "image": "python", "env": env, "envFrom": env_from}])
    source = InMemoryConfig(secrets={"db": {"HOST": "x"}})
    with pytest.raises(ContainerConfigError, match=message):
        resolve_environment(pod, pod.spec.containers[0], source, CAPACITY)


def test_optional_missing_config_is_skipped() -> None:
    pod = make_pod(
        [
            {
                "name": "main",
                "image": "python",
                "env": [
                    {
                        "name": "X",
                        "valueFrom": {
                            "secretKeyRef": {"name": "absent", "key": "k", "optional": True}
                        },
                    }
                ],
                "envFrom": [{"secretRef": {"name": "absent", "optional": True}}],
            }
        ]
    )
    assert resolve_environment(pod, pod.spec.containers[0], InMemoryConfig(), CAPACITY) == {}


@pytest.mark.parametrize(
    ("field_path", "value"),
    [
        ("metadata.name", "worker-1"),
        ("metadata.namespace", "team-a"),
        ("metadata.uid", "0b9c-uid"),
        ("spec.nodeName", "local-node"),
        ("spec.serviceAccountName", "exporter"),
        ("status.podIP", "127.0.0.1"),
        ("metadata.labels['app']", "exporter"),
        ("metadata.annotations['owner']", "ops"),
        ("metadata.labels['absent']", ""),
    ],
)
def test_field_refs(field_path: str, value: str) -> None:
    env = [{"name": "V", "valueFrom": {"fieldRef": {"fieldPath": field_path}}}]
    pod = make_pod([{"name": "main", "image": "python", "env": env}], serviceAccountName="exporter")
    assert resolve_environment(pod, pod.spec.containers[0], InMemoryConfig(), CAPACITY) == {
        "V": value
    }


@pytest.mark.parametrize(
    ("resource", "divisor", "value"),
    [
        ("limits.cpu", None, "1"),  # 500m rounds up to 1 CPU
        ("limits.cpu", "1m", "500"),
        ("limits.memory", "1Mi", "256"),
        ("requests.memory", "1Mi", "128"),
        ("requests.cpu", "1m", "0"),  # no request: 0
        ("limits.ephemeral-storage", "1Gi", "10"),  # no limit: the node's capacity
    ],
)
def test_resource_field_refs(resource: str, divisor: str | None, value: str) -> None:
    ref: dict[str, Any] = {"resource": resource}
    if divisor:
        ref["divisor"] = divisor
    container = {
        "name": "main",
        "image": "python",
        "resources": {
            "limits": {"cpu": "500m", "memory": "256Mi"},
            "requests": {"memory": "128Mi"},
        },
        "env": [{"name": "V", "valueFrom": {"resourceFieldRef": ref}}],
    }
    pod = make_pod([container])
    env = resolve_environment(pod, pod.spec.containers[0], InMemoryConfig(), CAPACITY)
    assert env == {"V": value}


def test_expand_references_leaves_unknown_names() -> None:
    assert expand_references("$(A)-$(B)-$$(A)-$", {"A": "1"}) == "1-$(B)-$(A)-$"


# --- paths ------------------------------------------------------------------------------------


def test_paths_under_backed_mounts_and_the_termination_file_are_translated(tmp_path: Path) -> None:
    pod = make_pod(
        [
            {
                "name": "main",
                "image": "python",
                "terminationMessagePath": "/dev/termination-log",
                "volumeMounts": [
                    {"name": "scratch", "mountPath": "/tmp"},
                    {"name": "data", "mountPath": "/data"},
                    {"name": "nested", "mountPath": "/data/nested/"},
                    {"name": "config", "mountPath": "/etc/config"},  # not an emptyDir: no folder
                ],
            }
        ]
    )
    volumes = {name: tmp_path / name for name in ("scratch", "data", "nested")}
    paths = host_paths(pod.spec.containers[0], volumes, tmp_path / "main.termination-log")
    assert paths.translate("/dev/termination-log") == str(tmp_path / "main.termination-log")
    assert paths.translate("/tmp") == str(tmp_path / "scratch")
    assert paths.translate("/tmp/out/x.gz") == str(tmp_path / "scratch" / "out/x.gz")
    assert paths.translate("/data/nested/f") == str(tmp_path / "nested" / "f")
    assert paths.translate("/data/f") == str(tmp_path / "data" / "f")
    assert paths.translate("/database") == "/database"
    assert paths.translate("/etc/config/app.yaml") == "/etc/config/app.yaml"
    assert paths.translate("relative/tmp/x") == "relative/tmp/x"
    assert temporary_folder(paths) == tmp_path / "scratch"


def test_a_launch_plan_uses_host_paths_the_kubeconfig_and_the_image_path(tmp_path: Path) -> None:
    pod = make_pod(
        [
            {
                "name": "main",
                "image": "python:3.12",
                "command": ["python", "-c", "$(SCRIPT)"],
                "args": ["/work/out.txt"],
                "workingDir": "/work",
                "env": [
                    {"name": "SCRIPT", "value": "print(1)"},
                    {"name": "REPORT_TO", "value": "/dev/termination-log"},
                ],
                "volumeMounts": [{"name": "work", "mountPath": "/work"}],
            }
        ],
        volumes=[{"name": "work", "emptyDir": {}}],
    )
    (tmp_path / "volumes" / "work").mkdir(parents=True)
    volumes = {"work": tmp_path / "volumes" / "work"}
    kubeconfig = tmp_path / "kubeconfig"
    plan = plan_container(
        pod, pod.spec.containers[0], tmp_path, volumes, InMemoryConfig(), CAPACITY, kubeconfig
    )
    assert plan.argv == ["python", "-c", "print(1)", str(volumes["work"] / "out.txt")]
    assert plan.cwd == volumes["work"]
    assert plan.env["REPORT_TO"] == str(tmp_path / "main.termination-log")
    assert plan.env["KUBECONFIG"] == str(kubeconfig)
    assert plan.env["PATH"].split(os.pathsep)[0] == str(VENV_BIN)
    assert plan.env["HOSTNAME"] == "worker-1"
    assert "TMPDIR" not in plan.env


@pytest.mark.parametrize(
    ("container", "reason", "message"),
    [
        ({"image": "busybox:1.36"}, "ErrImagePull", 'image "busybox:1.36" is not in the local'),
        (
            {
                "image": "python",
                "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
            },
            "CreateContainerConfigError",
            'secret "s" not found',
        ),
        ({"image": "company-exports-api"}, "CreateContainerError", "set the container's command"),
    ],
)
def test_containers_that_cannot_start_say_why(
    tmp_path: Path, container: dict[str, Any], reason: str, message: str
) -> None:
    pod = make_pod([{"name": "main", **container}])
    with pytest.raises(StartBlockedError, match=message) as blocked:
        plan_container(pod, pod.spec.containers[0], tmp_path, {}, InMemoryConfig(), CAPACITY, None)
    assert blocked.value.reason == reason


def test_an_image_entry_point_runs_when_the_container_sets_no_command(tmp_path: Path) -> None:
    pod = make_pod([{"name": "main", "image": "company-exports-exporter:1", "args": ["--once"]}])
    plan = plan_container(
        pod, pod.spec.containers[0], tmp_path, {}, InMemoryConfig(), CAPACITY, None
    )
    assert plan.argv == ["python", "-m", "company_exporter", "--once"]
    assert "KUBECONFIG" not in plan.env


# --- termination messages ---------------------------------------------------------------------


def test_termination_message_is_the_file_capped_at_4096_bytes(tmp_path: Path) -> None:
    files = ContainerFiles.of(tmp_path, "main")
    files.termination_message.write_text("x" * 5000)
    assert termination_message(files, "File", 0) == "x" * 4096


def test_fallback_to_logs_on_error_uses_the_log_tail(tmp_path: Path) -> None:
    files = ContainerFiles.of(tmp_path, "main")
    files.termination_message.write_text("")
    files.log.write_text("".join(f"line {n}\n" for n in range(200)))
    message = termination_message(files, "FallbackToLogsOnError", 3)
    assert message is not None
    assert message.splitlines()[-1] == "line 199"
    assert len(message.splitlines()) == 80
    assert termination_message(files, "FallbackToLogsOnError", 0) is None
    assert termination_message(files, "File", 3) is None


# --- status -----------------------------------------------------------------------------------

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
RUNNING = Running(T0)
OK = Terminated(0, T0, T0)
FAILED = Terminated(1, T0, T0)


def record(state: Any, last: Terminated | None = None) -> ContainerRecord:
    return ContainerRecord("c", "python", state, last)


@pytest.mark.parametrize(
    ("init", "main", "policy", "terminal", "phase"),
    [
        ([], [record(Waiting("ContainerCreating"))], "Never", False, "Pending"),
        ([], [record(Waiting("ErrImagePull"))], "Always", False, "Pending"),
        ([], [record(RUNNING)], "Never", False, "Running"),
        ([], [record(OK)], "Never", False, "Succeeded"),
        ([], [record(FAILED)], "Never", False, "Failed"),
        ([], [record(OK), record(FAILED)], "Never", False, "Failed"),
        ([], [record(RUNNING), record(FAILED)], "Never", False, "Running"),
        ([], [record(Waiting("CrashLoopBackOff"), FAILED)], "OnFailure", False, "Running"),
        ([], [record(OK)], "OnFailure", False, "Succeeded"),
        ([], [record(Waiting("CrashLoopBackOff"), OK)], "Always", False, "Running"),
        ([], [record(RUNNING)], "Always", True, "Failed"),  # deleted: stopped by a signal
        ([], [record(OK)], "Always", True, "Succeeded"),
        ([], [record(Waiting("ErrImagePull"))], "Never", True, "Failed"),
        ([record(RUNNING)], [record(Waiting("PodInitializing"))], "Never", False, "Pending"),
        ([record(FAILED)], [record(Waiting("PodInitializing"))], "Never", False, "Failed"),
        ([record(FAILED)], [record(Waiting("PodInitializing"))], "OnFailure", False, "Pending"),
        ([record(OK)], [record(RUNNING)], "Never", False, "Running"),
    ],
)
def test_pod_phase_follows_the_kubelet(
    init: list[ContainerRecord],
    main: list[ContainerRecord],
    policy: Any,
    terminal: bool,
    phase: str,
) -> None:
    assert pod_phase(init, main, policy, terminal) == phase


def test_status_of_a_finished_pod() -> None:
    main = [
        ContainerRecord(
            "main",
            "python:3.12",
            Terminated(3, T0, T0, "boom"),
            last_state=Terminated(1, T0, T0),
            restart_count=1,
        )
    ]
    phase = pod_phase([], main, "Never")
    status = build_pod_status(
        phase=phase,
        conditions=pod_conditions(ConditionClock(), [], main, phase),
        init_containers=[],
        containers=main,
        start_time=T0,
    )
    assert status["phase"] == "Failed"
    assert status["podIP"] == status["hostIP"] == "127.0.0.1"
    assert status["startTime"] == "2026-11-29T10:00:00Z"
    [container] = status["containerStatuses"]
    assert container["state"] == {
        "terminated": {
            "exitCode": 3,
            "reason": "Error",
            "message": "boom",
            "startedAt": "2026-11-29T10:00:00Z",
            "finishedAt": "2026-11-29T10:00:00Z",
        }
    }
    assert container["lastState"]["terminated"]["exitCode"] == 1
    assert (container["restartCount"], container["ready"], container["started"]) == (
        1,
        False,
        False,
    )
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["PodScheduled"]["status"] == "True"
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Ready"]["reason"] == "PodCompleted"
    assert "initContainerStatuses" not in status


def test_conditions_of_a_running_pod_and_their_transition_times() -> None:
    clock = ConditionClock()
    waiting = [ContainerRecord("main", "python", Waiting("ContainerCreating"))]
    first = {c["type"]: c for c in pod_conditions(clock, [], waiting, "Pending")}
    assert first["Ready"]["status"] == "False"
    assert first["Ready"]["message"] == "containers with unready status: [main]"
    running = [ContainerRecord("main", "python", Running(T0))]
    second = {c["type"]: c for c in pod_conditions(clock, [], running, "Running")}
    assert second["Ready"]["status"] == second["ContainersReady"]["status"] == "True"
    assert (
        second["PodScheduled"]["lastTransitionTime"] == first["PodScheduled"]["lastTransitionTime"]
    )


def test_restart_back_off_doubles_up_to_ten_seconds() -> None:
    assert [restart_delay(n) for n in range(6)] == [1, 2, 4, 8, 10, 10]


# --- processes --------------------------------------------------------------------------------


def test_a_process_reports_its_exit_code_and_output(tmp_path: Path) -> None:
    process = start_process(
        [sys.executable, "-c", "import sys; print('hello'); sys.exit(7)"],
        {"PATH": os.defpath},
        tmp_path,
        tmp_path / "main.log",
        tmp_path / "main.process.json",
    )
    process.popen.wait(timeout=30)
    assert process.exit_code() == 7
    assert (tmp_path / "main.log").read_text() == "hello\n"
    assert not (tmp_path / "main.process.json").exists()


def test_stopping_kills_the_whole_process_group(tmp_path: Path) -> None:
    # The container's process starts a child that ignores SIGTERM; both must go.
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    log = tmp_path / "main.log"
    process = start_process(
        [sys.executable, "-c", script], {}, tmp_path, log, tmp_path / "main.process.json"
    )
    child_pid = _wait_for_line(log)
    stop_processes([process], grace_seconds=0.5)
    assert process.exit_code() == 128 + signal.SIGTERM
    assert _gone(child_pid)


def test_leftover_processes_of_an_earlier_agent_are_killed(tmp_path: Path) -> None:
    pod_folder = tmp_path / "pods" / "ns_pod_uid"
    pod_folder.mkdir(parents=True)
    process = start_process(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        {},
        pod_folder,
        pod_folder / "main.log",
        pod_folder / "main.process.json",
    )
    stale = pod_folder / "old.process.json"  # a pid whose start time does not match: left alone
    stale.write_text(json.dumps({"pid": os.getpid(), "start": 1}))
    assert kill_leftovers(tmp_path) == 1
    assert process.popen.wait(timeout=10) == -signal.SIGKILL
    assert not stale.exists()


def _wait_for_line(log: Path) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        if text.endswith("\n"):
            return int(text.split()[0])
        time.sleep(0.05)
    raise AssertionError(f"{log} stayed empty")


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return True
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return True
        time.sleep(0.05)
    return False


# --- credentials ------------------------------------------------------------------------------


def test_pod_kubeconfig_has_the_admin_server_and_ca_and_the_pod_token(tmp_path: Path) -> None:
    ca = base64.b64encode(b"CA").decode()
    admin = tmp_path / "admin.kubeconfig"
    admin.write_text(
        yaml.safe_dump(
            {
                "clusters": [
                    {
                        "name": "c",
                        "cluster": {
                            "server": "https://127.0.0.1:6443",
                            "certificate-authority-data": ca,
                        },
                    }
                ],
                "users": [{"name": "admin", "user": {"token": "admin-token"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "admin"}}],
                "current-context": "x",
            }
        )
    )
    pod = make_pod([{"name": "main", "image": "python"}], serviceAccountName="exporter")
    path = write_pod_kubeconfig(tmp_path / "pod.kubeconfig", cluster_endpoint(admin), pod, "tok")
    written = yaml.safe_load(path.read_text())
    assert written["clusters"][0]["cluster"] == {
        "server": "https://127.0.0.1:6443",
        "certificate-authority-data": ca,
    }
    assert written["users"][0] == {
        "name": "system:serviceaccount:team-a:exporter",
        "user": {"token": "tok"},
    }
    assert written["contexts"][0]["context"]["namespace"] == "team-a"
    assert path.stat().st_mode & 0o777 == 0o600
    assert "admin-token" not in path.read_text()


@pytest.mark.parametrize(
    ("pod_setting", "account_setting", "mounts"),
    [(None, None, True), (None, False, False), (True, False, True), (False, True, False)],
)
def test_automount_setting_of_the_pod_wins(
    pod_setting: bool | None, account_setting: bool | None, mounts: bool
) -> None:
    spec = {} if pod_setting is None else {"automountServiceAccountToken": pod_setting}
    pod = make_pod([{"name": "main", "image": "python"}], **spec)
    account = {} if account_setting is None else {"automountServiceAccountToken": account_setting}
    assert automounts_token(pod, account) is mounts


# --- readiness probes -------------------------------------------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged."""


@pytest.fixture(scope="module")
def http_port() -> Iterator[int]:
    """A real HTTP server on 127.0.0.1: / answers 200, /missing 404."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def probe_container(probe: dict[str, Any], port: int) -> tuple[Probe, Container]:
    container = Container.model_validate(
        {
            "name": "web",
            "ports": [{"name": "http", "containerPort": port}],
            "readinessProbe": probe,
        }
    )
    assert container.readiness_probe is not None
    return container.readiness_probe, container


@pytest.mark.parametrize(
    ("probe", "succeeds"),
    [
        ({"httpGet": {"path": "/", "port": "http"}}, True),
        ({"httpGet": {"path": "/missing", "port": "http"}}, False),
        ({"tcpSocket": {"port": "http"}}, True),
        ({"tcpSocket": {"port": "nope"}}, False),
        ({"exec": {"command": [sys.executable, "-c", "raise SystemExit(0)"]}}, True),
        ({"exec": {"command": [sys.executable, "-c", "raise SystemExit(1)"]}}, False),
    ],
)
def test_probes_against_a_real_server(
    http_port: int, tmp_path: Path, probe: dict[str, Any], succeeds: bool
) -> None:
    readiness, container = probe_container(probe, http_port)
    assert probe_once(readiness, container, {}, tmp_path) is succeeds


def test_a_closed_port_fails_the_probe(tmp_path: Path) -> None:
    readiness, container = probe_container({"tcpSocket": {"port": free_port()}}, 1)
    assert probe_once(readiness, container, {}, tmp_path) is False


def test_readiness_counts_against_thresholds() -> None:
    tracker = ReadinessTracker.started(
        Probe.model_validate(
            {"exec": {"command": ["true"]}, "successThreshold": 2, "failureThreshold": 2}
        )
    )
    outcomes = []
    for success in (True, True, False, True, False, False):
        tracker.record(success)
        outcomes.append(tracker.ready)
    assert outcomes == [False, True, True, True, True, False]
