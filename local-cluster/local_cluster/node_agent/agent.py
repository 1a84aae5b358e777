"""The agent: registers its Node, binds unscheduled pods to it and gives each of its pods a worker.

One watch on all pods (the test cluster is small) serves both jobs: a pod with no `spec.nodeName`
is bound to this node through pods/binding (no scheduler runs; node selectors, affinities and
taints are not considered), and a pod bound to this node goes to its `PodWorker`. The watch
restarts from its last resourceVersion every `WATCH_SECONDS`, and from a fresh list when the
apiserver answers 410 Gone.
"""

import logging
import threading
import time
from typing import Any

from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError
from urllib3.exceptions import HTTPError

from local_cluster.node_agent.api import NodeApi, is_status
from local_cluster.node_agent.credentials import cluster_endpoint
from local_cluster.node_agent.manifest import Pod
from local_cluster.node_agent.node import NodeHeartbeat, node_capacity
from local_cluster.node_agent.pod_worker import SHUTDOWN_GRACE_SECONDS, AgentContext, PodWorker
from local_cluster.node_agent.processes import kill_leftovers
from local_cluster.node_agent.settings import AgentSettings

log = logging.getLogger(__name__)

WATCH_SECONDS = 60
BIND_RETRY_SECONDS = 1.0
REGISTER_RETRY_SECONDS = 1.0
DEFAULT_SCHEDULER = "default-scheduler"


class NodeAgent:
    def __init__(self, settings: AgentSettings) -> None:
        self._settings = settings
        self._api = NodeApi(str(settings.kubeconfig))
        capacity = node_capacity()
        self._context = AgentContext(
            api=self._api,
            node_name=settings.node_name,
            work_dir=settings.work_dir,
            endpoint=cluster_endpoint(settings.kubeconfig),
            capacity=capacity,
            shutting_down=threading.Event(),
        )
        self._heartbeat = NodeHeartbeat(self._api, settings.node_name, capacity)
        self._workers: dict[str, PodWorker] = {}
        self._lock = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        """Serves until `stop` is set, then kills every pod process it started."""
        self._settings.work_dir.mkdir(parents=True, exist_ok=True)
        leftovers = kill_leftovers(self._settings.work_dir)
        while not self._register():
            if stop.wait(REGISTER_RETRY_SECONDS):
                return
        log.info(
            "node agent ready",
            extra={"node": self._settings.node_name, "leftover_processes_killed": leftovers},
        )
        for name, target in (("heartbeat", self._heartbeat.run), ("pod-watch", self._watch_pods)):
            threading.Thread(target=target, args=(stop,), name=name, daemon=True).start()
        stop.wait()
        self._shut_down()

    def _register(self) -> bool:
        try:
            self._heartbeat.register()
        except (ApiException, HTTPError, OSError):
            log.warning("registering the Node failed; retrying", exc_info=True)
            return False
        return True

    def _shut_down(self) -> None:
        self._context.shutting_down.set()
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            worker.shut_down()
        deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS + 1
        for worker in workers:
            if not worker.finished.wait(max(0.0, deadline - time.monotonic())):
                worker.kill_now()  # its thread is stuck (in an API call, say): do not wait
        log.info("node agent stopped; its pod processes are stopped", extra={"pods": len(workers)})

    # --- watching ----------------------------------------------------------------------------

    def _watch_pods(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                items, version = self._api.list_pods()
                self._resync(items)
                while not stop.is_set():
                    for event in self._api.watch_pods(version, WATCH_SECONDS):
                        version = event["object"]["metadata"]["resourceVersion"]
                        if event["type"] != "BOOKMARK":
                            self._handle(event["type"], event["object"])
                        if stop.is_set():
                            return
            except Exception as error:
                if is_status(error, 410):
                    log.info("pod watch expired; listing again")
                    continue
                log.warning("pod watch failed; listing again in 1 s", exc_info=True)
                stop.wait(1)

    def _resync(self, items: list[dict[str, Any]]) -> None:
        """After a (re)list: pods the agent knew that are no longer there were deleted."""
        present = {item["metadata"]["uid"] for item in items}
        with self._lock:
            vanished = [uid for uid in self._workers if uid not in present]
        for uid in vanished:
            self._forget(uid)
        for item in items:
            self._handle("ADDED", item)

    def _handle(self, kind: str, raw: dict[str, Any]) -> None:
        try:
            pod = Pod.model_validate(raw)
        except ValidationError:
            log.warning("ignoring a pod the agent cannot read", exc_info=True)
            return
        if kind == "DELETED":
            self._forget(pod.metadata.uid)
        elif not pod.spec.node_name:
            if _schedulable(pod):
                self._bind(pod)
        elif pod.spec.node_name == self._settings.node_name:
            self._dispatch(pod)

    def _dispatch(self, pod: Pod) -> None:
        with self._lock:
            worker = self._workers.get(pod.metadata.uid)
            if worker is None:
                if pod.is_terminal:
                    return  # finished before this agent saw it: nothing to run or stop
                worker = PodWorker(pod, self._context)
                self._workers[pod.metadata.uid] = worker
                worker.start()
        worker.observe(pod)

    def _forget(self, uid: str) -> None:
        with self._lock:
            worker = self._workers.pop(uid, None)
        if worker is not None:
            worker.observe_deleted()

    def _bind(self, pod: Pod, attempt: int = 1) -> None:
        try:
            self._api.bind(pod.metadata.namespace, pod.metadata.name, self._settings.node_name)
            log.info("pod bound", extra={"pod": pod.key, "node": self._settings.node_name})
        except ApiException as error:
            if error.status in (404, 409):
                return  # deleted, or bound already (a later event shows where)
            if attempt < 5:
                log.warning("binding failed; retrying", extra={"pod": pod.key}, exc_info=True)
                timer = threading.Timer(BIND_RETRY_SECONDS, self._bind, (pod, attempt + 1))
                timer.daemon = True
                timer.start()
            else:
                log.error("binding failed; giving up on this pod", extra={"pod": pod.key})


def _schedulable(pod: Pod) -> bool:
    return (
        not pod.is_deleting
        and not pod.is_terminal
        and not pod.spec.scheduling_gates
        and pod.spec.scheduler_name == DEFAULT_SCHEDULER
    )
