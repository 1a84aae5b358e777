"""The test node agent against the real control plane: Jobs finish through the real Job controller,
pods get their Secrets and service-account identity, and deleted pods' processes really stop.
"""

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kubernetes import client, config, utils
from kubernetes.client.exceptions import ApiException

from local_cluster.process import free_port
from tests.conftest import KubeCluster

pytestmark = pytest.mark.integration

T = TypeVar("T")
NODE_NAME = "local-node"


@pytest.fixture(scope="module")
def api_client(kube: KubeCluster) -> Any:
    return config.new_client_from_config(str(kube.kubeconfig))


# The client's typed models make every field optional; the tests read them as Any.
@pytest.fixture(scope="module")
def core(api_client: client.ApiClient) -> Any:
    return client.CoreV1Api(api_client)


@pytest.fixture(scope="module")
def batch(api_client: client.ApiClient) -> Any:
    return client.BatchV1Api(api_client)


@pytest.fixture
def namespace(core: Any) -> Iterator[str]:
    """A fresh namespace whose default service account exists (pods need it to be admitted)."""
    name = f"agent-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    wait_for(lambda: _exists(lambda: core.read_namespaced_service_account("default", name)), 30)
    yield name
    core.delete_namespace(name)


def wait_for(probe: Callable[[], T | None], timeout: float, what: str = "condition") -> T:
    """Polls `probe` until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} did not hold within {timeout:.0f} s")


def _exists(read: Callable[[], Any]) -> bool:
    try:
        read()
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    return True


def create(api_client: client.ApiClient, namespace: str, manifest: dict[str, Any]) -> None:
    utils.create_from_dict(api_client, manifest, namespace=namespace)


def python_container(code: str, **extra: Any) -> dict[str, Any]:
    return {"name": "main", "image": "python:3.12", "command": ["python", "-c", code], **extra}


def job_manifest(name: str, code: str, backoff_limit: int = 0) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": backoff_limit,
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [python_container(code)]}
            },
        },
    }


def pod_manifest(name: str, container: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "containers": [container], **spec},
    }


def job_condition(batch: Any, namespace: str, name: str) -> str | None:
    """`Complete` or `Failed` once the Job controller has decided, else None."""
    job = batch.read_namespaced_job_status(name, namespace)
    for condition in (job.status.conditions if job.status else None) or []:
        if condition.type in ("Complete", "Failed") and condition.status == "True":
            return str(condition.type)
    return None


def finished_pod(core: Any, namespace: str, name: str) -> Any:
    pod = core.read_namespaced_pod(name, namespace)
    return pod if pod.status.phase in ("Succeeded", "Failed") else None


def pod_phase(core: Any, namespace: str, name: str) -> str:
    return str(core.read_namespaced_pod(name, namespace).status.phase)


def terminated(pod: Any) -> Any:
    return pod.status.container_statuses[0].state.terminated


def processes_with(marker: str) -> list[int]:
    """Pids of processes whose command line holds `marker`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command_line = (proc / "cmdline").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in command_line and state != "Z":
            found.append(int(proc.name))
    return found


def sleeper_code(marker: str) -> str:
    # The marker in the code makes the process findable in /proc by its command line.
    return f"import time; time.sleep(600)  # {marker}"


def test_the_node_is_ready_and_renews_its_lease(core: Any, api_client: Any) -> None:
    node = core.read_node(NODE_NAME)
    ready = {c.type: c.status for c in node.status.conditions}
    assert ready["Ready"] == "True"
    assert not node.spec.taints
    leases: Any = client.CoordinationV1Api(api_client)

    def renewed_at() -> Any:
        return leases.read_namespaced_lease(NODE_NAME, "kube-node-lease").spec.renew_time

    first = renewed_at()
    wait_for(lambda: renewed_at() > first, 25, "a lease renewal")


def test_a_job_completes_through_the_job_controller(
    api_client: Any, batch: Any, core: Any, namespace: str
) -> None:
    code = "import sys; print('exported'); sys.exit(0)"
    create(api_client, namespace, job_manifest("ok", code))
    assert wait_for(lambda: job_condition(batch, namespace, "ok"), 60, "Job ok finished") == (
        "Complete"
    )
    [pod] = core.list_namespaced_pod(namespace, label_selector="job-name=ok").items
    assert pod.spec.node_name == NODE_NAME
    assert pod.status.phase == "Succeeded"
    state = terminated(pod)
    assert (state.exit_code, state.reason) == (0, "Completed")
    assert state.finished_at >= state.started_at
    job = batch.read_namespaced_job_status("ok", namespace)
    assert (job.status.succeeded, job.status.failed or 0) == (1, 0)


def test_a_failing_job_is_retried_then_fails(
    api_client: Any, batch: Any, core: Any, namespace: str
) -> None:
    code = "import sys; sys.exit(1)"
    create(api_client, namespace, job_manifest("bad", code, backoff_limit=1))
    # The Job controller waits about 10 s before it replaces the first failed pod.
    assert wait_for(lambda: job_condition(batch, namespace, "bad"), 90, "Job bad finished") == (
        "Failed"
    )
    job = batch.read_namespaced_job_status("bad", namespace)
    assert job.status.failed == 2
    pods = core.list_namespaced_pod(namespace, label_selector="job-name=bad").items
    assert len(pods) == 2
    assert {(p.status.phase, terminated(p).exit_code, terminated(p).reason) for p in pods} == {
        ("Failed", 1, "Error")
    }


def test_deleting_a_job_kills_its_pod_process(
    api_client: Any, batch: Any, core: Any, namespace: str
) -> None:
    marker = f"marker-{uuid.uuid4().hex}"
    create(api_client, namespace, job_manifest("long", sleeper_code(marker)))
    [pid] = wait_for(lambda: processes_with(marker), 30, "the Job's process started")
    [pod] = core.list_namespaced_pod(namespace, label_selector="job-name=long").items
    wait_for(lambda: pod_phase(core, namespace, pod.metadata.name) == "Running", 10, "Running")
    batch.delete_namespaced_job("long", namespace, propagation_policy="Background")
    wait_for(lambda: not processes_with(marker), 40, f"process {pid} gone")
    wait_for(
        lambda: not core.list_namespaced_pod(namespace, label_selector="job-name=long").items,
        40,
        "the Job's pod deleted",
    )


def test_a_pod_reads_a_secret_through_env_and_reports_a_termination_message(
    api_client: Any, core: Any, namespace: str
) -> None:
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(metadata=client.V1ObjectMeta(name="db"), string_data={"password": "pa55"}),
    )
    env = [
        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "REPORT", "value": "/dev/termination-log"},
    ]
    code = "import os; open(os.environ['REPORT'], 'w').write(os.environ['PASSWORD'] + ' ' + os.environ['POD'])"  # noqa: E501
    create(api_client, namespace, pod_manifest("reader", python_container(code, env=env)))
    pod = wait_for(lambda: finished_pod(core, namespace, "reader"), 30, "pod reader finished")
    assert pod.status.phase == "Succeeded"
    assert terminated(pod).message == "pa55 reader"


def test_a_missing_secret_holds_the_container_until_it_appears(
    api_client: Any, core: Any, namespace: str
) -> None:
    env = [{"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "later", "key": "key"}}}]
    code = "import os, sys; sys.exit(0 if os.environ['KEY'] == 'v' else 1)"
    create(api_client, namespace, pod_manifest("patient", python_container(code, env=env)))

    def waiting_reason() -> Any:
        statuses = core.read_namespaced_pod("patient", namespace).status.container_statuses
        waiting = statuses[0].state.waiting if statuses else None
        return waiting if waiting and waiting.reason == "CreateContainerConfigError" else None

    waiting = wait_for(waiting_reason, 20, "CreateContainerConfigError")
    assert 'secret "later" not found' in waiting.message
    assert core.read_namespaced_pod("patient", namespace).status.phase == "Pending"
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(metadata=client.V1ObjectMeta(name="later"), string_data={"key": "v"}),
    )
    pod = wait_for(lambda: finished_pod(core, namespace, "patient"), 30, "pod patient finished")
    assert pod.status.phase == "Succeeded"


def test_an_unknown_image_stays_pending_in_image_pull_back_off(
    api_client: Any, core: Any, namespace: str
) -> None:
    container = {"name": "main", "image": "registry.example/nope:1", "command": ["true"]}
    create(api_client, namespace, pod_manifest("nope", container))
    reasons: set[str] = set()

    def back_off() -> bool:
        statuses = core.read_namespaced_pod("nope", namespace).status.container_statuses or []
        if statuses and statuses[0].state.waiting:
            reasons.add(statuses[0].state.waiting.reason)
        return "ImagePullBackOff" in reasons

    wait_for(back_off, 20, "ImagePullBackOff")
    assert "ErrImagePull" in reasons
    assert core.read_namespaced_pod("nope", namespace).status.phase == "Pending"


RBAC_PROBE = """
import os
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
config.load_kube_config()
try:
    client.CoreV1Api().list_namespaced_pod(os.environ['NAMESPACE'])
    answer = 200
except ApiException as error:
    answer = error.status
open(os.environ['REPORT'], 'w').write(str(answer))
"""


def test_rbac_applies_to_what_a_pod_does(api_client: Any, core: Any, namespace: str) -> None:
    for account in ("nobody", "reader"):
        core.create_namespaced_service_account(
            namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=account))
        )
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "pod-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "reader-reads-pods"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": namespace}],
    }
    create(api_client, namespace, role)
    create(api_client, namespace, binding)
    env = [
        {"name": "NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "REPORT", "value": "/dev/termination-log"},  # the agent points it at a file
    ]
    for account in ("nobody", "reader"):
        container = python_container(RBAC_PROBE, env=env)
        create(api_client, namespace, pod_manifest(account, container, serviceAccountName=account))
    answers = {}
    for account in ("nobody", "reader"):
        pod = wait_for(partial(finished_pod, core, namespace, account), 60, f"pod {account}")
        answers[account] = terminated(pod).message
    assert answers == {"nobody": "403", "reader": "200"}


def test_deleting_a_namespace_with_running_pods_completes(api_client: Any, core: Any) -> None:
    name = f"doomed-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    wait_for(lambda: _exists(lambda: core.read_namespaced_service_account("default", name)), 30)
    marker = f"marker-{uuid.uuid4().hex}"
    for index in range(2):
        container = python_container(sleeper_code(marker))
        create(api_client, name, pod_manifest(f"sleeper-{index}", container))
    wait_for(lambda: len(processes_with(marker)) == 2, 30, "both pods' processes started")
    started = time.monotonic()
    core.delete_namespace(name)
    wait_for(lambda: not _exists(lambda: core.read_namespace(name)), 60, f"namespace {name} gone")
    assert not processes_with(marker)
    assert time.monotonic() - started < 60


class SecondAgent:
    """Another node agent, for another Node, that the test starts and stops itself."""

    def __init__(self, kube: KubeCluster, work_dir: Path, node: str) -> None:
        self.node = node
        self.log = work_dir / f"{node}.log"
        self._command = [
            sys.executable, "-m", "local_cluster.node_agent", "--kubeconfig", str(kube.kubeconfig),
            "--node-name", node, "--work-dir", str(work_dir / node),
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Starts the agent; returns the seconds until it logged "node agent ready"."""
        before = self._readiness_lines()
        started = time.monotonic()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self._command, stderr=log, start_new_session=True)
        wait_for(lambda: self._readiness_lines() > before, 30, f"agent {self.node} ready")
        return time.monotonic() - started

    def _readiness_lines(self) -> int:
        return self.log.read_bytes().count(b"node agent ready") if self.log.exists() else 0

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> float:
        """Signals the agent; returns the seconds it took to exit."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(sig)
        self.process.wait(timeout=15)
        return time.monotonic() - started


@pytest.fixture
def second_agent(
    kube: KubeCluster, core: Any, api_client: Any, tmp_path: Path
) -> Iterator[SecondAgent]:
    agent = SecondAgent(kube, tmp_path, f"second-{uuid.uuid4().hex[:6]}")
    yield agent
    if agent.process is not None and agent.process.poll() is None:
        agent.stop(signal.SIGKILL)
    core.delete_node(agent.node)  # the garbage collector deletes its Lease


def test_an_agent_that_stops_kills_its_pods_and_a_restarted_one_takes_them_over(
    second_agent: SecondAgent, api_client: Any, core: Any, namespace: str, figures: list[str]
) -> None:
    ready_after = second_agent.start()
    assert core.read_node(second_agent.node).status.conditions[0].status == "True"
    job_marker, service_marker = f"job-{uuid.uuid4().hex}", f"service-{uuid.uuid4().hex}"
    for name, marker, policy in (
        ("batch", job_marker, "Never"),
        ("service", service_marker, "Always"),
    ):
        pod = pod_manifest(name, python_container(sleeper_code(marker)), nodeName=second_agent.node)
        pod["spec"]["restartPolicy"] = policy
        create(api_client, namespace, pod)
    wait_for(lambda: processes_with(job_marker) and processes_with(service_marker), 30, "started")
    [first_service_pid] = processes_with(service_marker)
    for name in ("batch", "service"):
        wait_for(partial(lambda n: pod_phase(core, namespace, n) == "Running", name), 10, name)

    stopped_after = second_agent.stop()
    assert not processes_with(job_marker)
    assert not processes_with(service_marker)
    assert pod_phase(core, namespace, "batch") == "Running"  # a stopping agent reports nothing

    second_agent.start()
    lost = wait_for(lambda: finished_pod(core, namespace, "batch"), 20, "the batch pod lost")
    assert (lost.status.phase, lost.status.reason) == ("Failed", "NodeAgentRestarted")
    assert (terminated(lost).exit_code, terminated(lost).reason) == (137, "ContainerStatusUnknown")
    [service_pid] = wait_for(lambda: processes_with(service_marker), 20, "the service restarted")
    assert service_pid != first_service_pid
    service = core.read_namespaced_pod("service", namespace).status.container_statuses[0]
    assert service.restart_count == 1
    assert service.last_state.terminated.reason == "ContainerStatusUnknown"
    figures.append(
        f"node agent: Node Ready {ready_after:.2f} s after start, stopped with its pods in "
        f"{stopped_after:.2f} s"
    )


def test_a_pod_failure_policy_fails_the_job_on_the_exit_code_at_once(
    api_client: Any, batch: Any, core: Any, namespace: str
) -> None:
    job = job_manifest("refused", "import sys; sys.exit(64)", backoff_limit=3)
    job["spec"]["podFailurePolicy"] = {
        "rules": [
            {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [64]}},
        ]
    }
    create(api_client, namespace, job)
    assert wait_for(lambda: job_condition(batch, namespace, "refused"), 30, "Job refused") == (
        "Failed"
    )
    conditions = batch.read_namespaced_job_status("refused", namespace).status.conditions
    assert "PodFailurePolicy" in {c.reason for c in conditions if c.type == "Failed"}
    [pod] = core.list_namespaced_pod(namespace, label_selector="job-name=refused").items
    assert terminated(pod).exit_code == 64


def test_empty_dirs_back_mounted_paths_and_tmpdir(
    api_client: Any, core: Any, namespace: str
) -> None:
    code = (
        "import os, tempfile\n"
        "out = os.path.join(os.environ['SCRATCH'], 'out.txt')\n"
        "open(out, 'w').write('kept')\n"
        "report = [tempfile.gettempdir(), os.environ['SCRATCH'], open(out).read()]\n"
        "open(os.environ['REPORT'], 'w').write(' '.join(report))\n"
    )
    env = [
        {"name": "SCRATCH", "value": "/scratch"},
        {"name": "REPORT", "value": "/dev/termination-log"},
    ]
    mounts = [{"name": "scratch", "mountPath": "/scratch"}, {"name": "tmp", "mountPath": "/tmp"}]
    container = python_container(code, env=env, volumeMounts=mounts)
    volumes = [{"name": "scratch", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]
    create(api_client, namespace, pod_manifest("scratchy", container, volumes=volumes))
    pod = wait_for(lambda: finished_pod(core, namespace, "scratchy"), 30, "pod scratchy finished")
    assert pod.status.phase == "Succeeded", terminated(pod)
    tmpdir, scratch, content = terminated(pod).message.split(" ")
    assert tmpdir.endswith("/volumes/tmp")
    assert scratch.endswith("/volumes/scratch")
    assert content == "kept"
    core.delete_namespaced_pod("scratchy", namespace)
    wait_for(lambda: not Path(scratch).exists(), 20, "the emptyDir removed with its pod")


def test_a_deployment_is_available_once_its_readiness_probe_passes(
    api_client: Any, core: Any, namespace: str
) -> None:
    port = free_port()
    code = (
        "import http.server as h, time\n"
        "time.sleep(3)\n"
        f"h.test(h.SimpleHTTPRequestHandler, h.ThreadingHTTPServer, port={port}, bind='127.0.0.1')"
    )
    container = python_container(
        code,
        ports=[{"name": "http", "containerPort": port}],
        readinessProbe={"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 1},
    )
    labels = {"app": "web"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }
    create(api_client, namespace, deployment)
    apps: Any = client.AppsV1Api(api_client)

    def running_pod() -> Any:
        pods = core.list_namespaced_pod(namespace, label_selector="app=web").items
        return pods[0] if pods and pods[0].status.phase == "Running" else None

    pod = wait_for(running_pod, 30, "the web pod running")
    ready = {c.type: c.status for c in pod.status.conditions}
    assert ready["Ready"] == "False"  # it sleeps before it listens
    wait_for(
        lambda: apps.read_namespaced_deployment_status("web", namespace).status.available_replicas,
        30,
        "the Deployment available",
    )
    pod = core.read_namespaced_pod(pod.metadata.name, namespace)
    assert pod.status.container_statuses[0].ready is True


def test_a_job_past_its_active_deadline_fails_and_its_process_stops(
    api_client: Any, batch: Any, core: Any, namespace: str
) -> None:
    marker = f"marker-{uuid.uuid4().hex}"
    job = job_manifest("slow", sleeper_code(marker))
    job["spec"]["activeDeadlineSeconds"] = 3
    create(api_client, namespace, job)
    wait_for(lambda: processes_with(marker), 30, "the Job's process started")
    assert wait_for(lambda: job_condition(batch, namespace, "slow"), 40, "Job slow") == "Failed"
    conditions = batch.read_namespaced_job_status("slow", namespace).status.conditions
    assert "DeadlineExceeded" in {c.reason for c in conditions if c.type == "Failed"}
    wait_for(lambda: not processes_with(marker), 20, "the Job's process gone")


def test_on_failure_restarts_the_container_until_it_succeeds(
    api_client: Any, core: Any, namespace: str
) -> None:
    # Counts its runs in an emptyDir, which outlives container restarts: fails twice, then exits 0.
    code = (
        "import os, sys\n"
        "counter = os.path.join(os.environ['STATE'], 'runs')\n"
        "runs = int(open(counter).read()) if os.path.exists(counter) else 0\n"
        "open(counter, 'w').write(str(runs + 1))\n"
        "sys.exit(0 if runs >= 2 else 3)\n"
    )
    container = python_container(
        code,
        env=[{"name": "STATE", "value": "/state"}],
        volumeMounts=[{"name": "state", "mountPath": "/state"}],
    )
    manifest = pod_manifest("flaky", container, volumes=[{"name": "state", "emptyDir": {}}])
    manifest["spec"]["restartPolicy"] = "OnFailure"
    create(api_client, namespace, manifest)
    pod = wait_for(lambda: finished_pod(core, namespace, "flaky"), 40, "pod flaky finished")
    status = pod.status.container_statuses[0]
    assert pod.status.phase == "Succeeded"
    assert status.restart_count == 2
    assert status.last_state.terminated.exit_code == 3
    assert status.state.terminated.exit_code == 0


def test_init_containers_run_to_success_before_the_containers(
    api_client: Any, core: Any, namespace: str
) -> None:
    shared = {
        "env": [
            {"name": "SHARED", "value": "/shared/greeting"},
            {"name": "REPORT", "value": "/dev/termination-log"},
        ],
        "volumeMounts": [{"name": "shared", "mountPath": "/shared"}],
    }
    init = python_container("import os; open(os.environ['SHARED'], 'w').write('hello')", **shared)
    init["name"] = "prepare"
    main = python_container(
        "import os; open(os.environ['REPORT'], 'w').write(open(os.environ['SHARED']).read())",
        **shared,
    )
    manifest = pod_manifest(
        "staged", main, initContainers=[init], volumes=[{"name": "shared", "emptyDir": {}}]
    )
    create(api_client, namespace, manifest)
    pod = wait_for(lambda: finished_pod(core, namespace, "staged"), 30, "pod staged finished")
    assert pod.status.phase == "Succeeded"
    prepared = pod.status.init_container_statuses[0].state.terminated
    assert prepared.exit_code == 0
    assert terminated(pod).message == "hello"
    assert terminated(pod).started_at >= prepared.finished_at


def test_a_pod_that_opts_out_of_the_token_gets_no_kubeconfig(
    api_client: Any, core: Any, namespace: str
) -> None:
    code = "import os; open(os.environ['REPORT'], 'w').write(os.environ.get('KUBECONFIG', 'none'))"
    env = [{"name": "REPORT", "value": "/dev/termination-log"}]
    for name, automount in (("with-token", True), ("without-token", False)):
        manifest = pod_manifest(
            name, python_container(code, env=env), automountServiceAccountToken=automount
        )
        create(api_client, namespace, manifest)
    with_token = wait_for(lambda: finished_pod(core, namespace, "with-token"), 30, "with-token")
    without = wait_for(lambda: finished_pod(core, namespace, "without-token"), 30, "without")
    assert terminated(with_token).message.endswith("/kubeconfig")
    assert terminated(without).message == "none"
