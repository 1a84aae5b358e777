"""The product on a stack of its own, the faults we inject into it, and what must hold afterwards.

The fault tests and the soak (benchmarks/soak.py) share it. `start_product` brings up a whole local
stack (`local_cluster.stack.up`) and installs the chart into it the way `make up` does, with values
that suit a test (rate limits raised; the rest as users install it). The servers restart in
place (same data folder, same port), so every client's configuration stays valid across a fault.

`audit` checks what a user must be able to trust after any fault: every export reached one final
state, announced once; one Job per export and none without its export; no S3 object or multipart
upload left behind; and each file holds exactly the rows the database has for its range. It looks
at the exports the test created, and installation-wide only at what no later test can mend.
"""

import gzip
import os
import signal
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from kubernetes import client, config

from export_api.admin import create_space, issue_key
from export_api.auth import Scope
from export_api.resources import export_manifest
from export_contracts import resource
from export_contracts.resource import CompanyExportSpec, RequestedRange, UtcRange
from export_database.company_json import COMPANY_JSON
from export_database.generate import generate_companies
from local_cluster.binaries import ensure_binaries
from local_cluster.control_plane import start_apiserver
from local_cluster.postgres import start_postgres
from local_cluster.product import (
    NAMESPACE,
    RELEASE,
    api_url,
    helm_install,
    local_values,
    publish,
)
from local_cluster.product import wait_for_api as wait_for_ready_api
from local_cluster.s3 import start_s3
from local_cluster.stack import Stack, up

EXPORTS_PATH = "/public-api/v1/companies/exports"
FINAL = ("completed", "failed")
# Raised so that the tests measure the product, not the limits (which tests/api covers).
TEST_SETTINGS = {
    # (below 10**6: helm writes larger numbers as floats, "1e+06", which the settings refuse)
    "api": {"settings": {"createLimit": 100_000, "statusLimit": 100_000}},
}
# The chart's default: two retries, after the Job controller's back-off of 10 s, then 20 s more.
EXPORTER_ATTEMPTS = 3
FIRST_DAY = datetime(2024, 3, 1, tzinfo=UTC)


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`base` with `extra` laid over it, nested dicts merged key by key (as helm merges values)."""
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


# --- the stack and the product on it -------------------------------------------------------------


@dataclass
class Product:
    """The chart installed on a stack of its own; the tests restart its servers in place."""

    stack: Stack
    api_url: str
    admin: client.ApiClient

    @property
    def database_url(self) -> str:
        return self.stack.postgres.url

    def stop(self) -> None:
        """Stops every server of the stack, its node and the node's containers."""
        self.admin.close()
        self.stack.stop()

    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.admin)

    def batch(self) -> client.BatchV1Api:
        return client.BatchV1Api(self.admin)

    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.admin)

    # --- servers down and up again, on the same port with the same data ---

    def stop_postgres(self) -> None:
        _stop(self.stack, self.stack.postgres.server)

    def start_postgres(self) -> None:
        data = self.stack.root / "postgres" / "data"
        postgres = self.stack.postgres
        self.stack.postgres = start_postgres(
            self.stack.launcher, data, postgres.port, postgres.host, postgres.clients
        )

    def stop_s3(self) -> None:
        _stop(self.stack, self.stack.s3.server)

    def start_s3(self) -> None:
        s3 = self.stack.s3
        self.stack.s3 = start_s3(self.stack.launcher, self.stack.root / "s3", s3.port, s3.host)

    def restart_apiserver(self, down_seconds: float) -> None:
        control_plane = self.stack.control_plane
        _stop(self.stack, control_plane.apiserver)
        time.sleep(down_seconds)
        control_plane.apiserver, _port = start_apiserver(
            self.stack.launcher,
            ensure_binaries(),
            control_plane.pki,
            control_plane.network,
            control_plane.etcd_port,
            port=control_plane.apiserver_port,
        )

    # --- the chart's Pods: containers on the stack's node ---

    def component_pods(self, component: str) -> list[client.V1Pod]:
        selector = _component_selector(component)
        pods = self.core().list_namespaced_pod(NAMESPACE, label_selector=selector).items
        return [pod for pod in pods if pod.metadata.deletion_timestamp is None]

    def scale(self, component: str, replicas: int, timeout: float = 120) -> None:
        """Sets the component's Deployment to `replicas`; waits until that many Pods are ready."""
        apps = client.AppsV1Api(self.admin)
        selector = _component_selector(component)
        (deployment,) = apps.list_namespaced_deployment(NAMESPACE, label_selector=selector).items
        apps.patch_namespaced_deployment_scale(
            deployment.metadata.name, NAMESPACE, {"spec": {"replicas": replicas}}
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pods = self.component_pods(component)
            if len(pods) == replicas and all(_ready(pod) for pod in pods):
                return
            time.sleep(0.5)
        raise AssertionError(f"the {component} was not at {replicas} ready Pods in {timeout:.0f} s")

    def pod_pids(self, pod: client.V1Pod) -> list[int]:
        """Process ids in the Pod's running containers (not its sandbox), from their cgroups."""
        return [
            pid
            for status in pod.status.container_statuses or []
            if status.container_id and status.state and status.state.running
            for pid in self.stack.node.container_pids(status.container_id.split("://", 1)[1])
        ]

    def kill_pods(self, pods: list[client.V1Pod]) -> int:
        """SIGKILLs the container processes of the Pods; returns how many it killed."""
        killed = 0
        for pod in pods:
            for pid in self.pod_pids(pod):
                with _gone_already():
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
        return killed

    def kill_component(self, component: str) -> int:
        return self.kill_pods(self.component_pods(component))

    def restart_component(self, component: str, timeout: float = 90) -> int:
        """SIGKILLs the component's processes and waits until their Pods restarted and are ready."""
        before = {pod.metadata.uid: _restarts(pod) for pod in self.component_pods(component)}
        killed = self.kill_component(component)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pods = self.component_pods(component)
            if all(_restarts(p) > before.get(p.metadata.uid, -1) and _ready(p) for p in pods):
                return killed
            time.sleep(0.3)
        raise AssertionError(f"the {component} Pods did not restart in {timeout:.0f} s")

    def kill_exporter(self, export_id: int) -> int:
        running = [pod for pod in self.exporter_pods(export_id) if pod.status.phase == "Running"]
        return self.kill_pods(running)

    def wait_for_component(self, component: str, timeout: float = 90) -> None:
        """Until every Pod of the component has a ready container (after a restart, say)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pods = self.component_pods(component)
            if pods and all(_ready(pod) for pod in pods):
                return
            time.sleep(0.5)
        raise AssertionError(f"the {component} Pods were not ready after {timeout:.0f} s")

    def wait_for_api(self) -> None:
        wait_for_ready_api(self.api_url, timeout=120)

    def readiness(self) -> tuple[int, dict[str, Any]]:
        response = httpx.get(f"{self.api_url}/readyz", timeout=10)
        body: dict[str, Any] = response.json()
        return response.status_code, body

    def exporter_pods(self, export_id: int) -> list[client.V1Pod]:
        selector = f"{resource.EXPORT_LABEL}={export_id}"
        return list(self.core().list_namespaced_pod(NAMESPACE, label_selector=selector).items)


def _component_selector(component: str) -> str:
    return f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component={component}"


def _restarts(pod: client.V1Pod) -> int:
    return sum(status.restart_count for status in pod.status.container_statuses or [])


def _ready(pod: client.V1Pod) -> bool:
    statuses = pod.status.container_statuses or []
    return bool(statuses) and all(status.ready for status in statuses)


@contextmanager
def _gone_already() -> Iterator[None]:
    """A process that exited between listing and signalling is fine: it is gone either way."""
    with suppress(ProcessLookupError):
        yield


def _stop(stack: Stack, server: Any) -> None:
    """Stops `server`; one stopped already (by a test that failed before restarting it) is fine."""
    server.stop()
    if server in stack.launcher.servers:
        stack.launcher.servers.remove(server)


def start_product(root: Path, extra_values: dict[str, Any] | None = None) -> Product:
    """A new stack under `root` with the chart installed; stop it with `product.stop()`."""
    stack = up(root)
    try:
        env = stack.env.as_dict()
        # As `make up` does: the images and the chart pushed to the stack's registry, the chart
        # installed from there, its Pods naming the images by digest.
        helm = ensure_binaries().helm
        published = publish(helm, stack.registry.address, root)
        values = merged(
            merged(local_values(env), published.image_values),
            merged(TEST_SETTINGS, extra_values or {}),
        )
        helm_install(helm, env["KUBECONFIG"], values, root, chart=published.chart)
        product = Product(stack, api_url(env), config.new_client_from_config(env["KUBECONFIG"]))
        product.wait_for_api()
    except BaseException:
        stack.stop()
        raise
    return product


# --- spaces and their exports ---------------------------------------------------------------------


@dataclass(frozen=True)
class Space:
    space_id: int
    api_key: str
    companies_per_day: int

    def client(self, api_url: str) -> "ExportsClient":
        return ExportsClient(api_url, self)


def add_space(database_url: str, name: str, companies_per_day: int, days: int) -> Space:
    """A UTC space whose companies are spread evenly over `days` days from FIRST_DAY."""
    with psycopg.connect(database_url) as conn:
        space_id = create_space(conn, name, "UTC")
        if companies_per_day:
            generate_companies(
                conn,
                space_id,
                companies_per_day * days,
                seed=space_id,
                first_instant=FIRST_DAY,
                spread=timedelta(days=days),
            )
        _, key = issue_key(conn, space_id, [Scope.EXPORTS_READ, Scope.EXPORTS_WRITE], name=name)
    return Space(space_id, key, companies_per_day)


def day_range(first_day: int, days: int) -> dict[str, str]:
    """The API's body for `days` whole days starting `first_day` days after FIRST_DAY."""
    start = FIRST_DAY + timedelta(days=first_day)
    end = start + timedelta(days=days) - timedelta(seconds=1)
    return {
        "start_date": start.strftime("%Y-%m-%d %H:%M:%S"),
        "end_date": end.strftime("%Y-%m-%d %H:%M:%S"),
    }


@dataclass
class Requested:
    """One export a test asked for: who, what range, and when."""

    export_id: int
    space: Space
    body: dict[str, str]
    created: float = field(default_factory=time.monotonic)


class ExportsClient:
    """A space's client of the API that retries what a careful client retries."""

    def __init__(self, api_url: str, space: Space) -> None:
        self.space = space
        self._http = httpx.Client(
            base_url=api_url, headers={"Authorization": f"Bearer {space.api_key}"}, timeout=15
        )

    def close(self) -> None:
        self._http.close()

    def create(
        self, body: dict[str, str], idempotency_key: str | None = None, timeout: float = 120
    ) -> Requested:
        """POSTs until answered 202: retried on connection errors, 429 and 5xx."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        started = time.monotonic()
        response = self._until_answered("POST", EXPORTS_PATH, timeout, json=body, headers=headers)
        assert response.status_code == 202, response.text
        return Requested(response.json()["export_id"], self.space, body, started)

    def raw_status(self, export_id: int) -> httpx.Response:
        """One GET of the export's status, whatever it answers."""
        return self._http.get(f"{EXPORTS_PATH}/{export_id}")

    def status(self, export_id: int, timeout: float = 120) -> dict[str, Any]:
        response = self._until_answered("GET", f"{EXPORTS_PATH}/{export_id}", timeout)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def _until_answered(
        self, method: str, url: str, timeout: float, **arguments: Any
    ) -> httpx.Response:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                response = self._http.request(method, url, **arguments)
            except httpx.TransportError as error:
                last = f"{type(error).__name__}: {error}"
                time.sleep(0.5)
                continue
            if response.status_code == 429:
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code < 500:
                return response
            last = f"{response.status_code} {response.text}"
            time.sleep(0.5)
        raise AssertionError(f"{method} {url}: no answer within {timeout:.0f} s ({last})")


def request_exports(
    api_url: str, space: Space, bodies: Iterable[dict[str, str]]
) -> list[Requested]:
    """Creates one export per body as the space's client would; in the order of the bodies."""
    client = space.client(api_url)
    try:
        return [client.create(body) for body in bodies]
    finally:
        client.close()


def wait_until_final(
    api_url: str, requested: list[Requested], timeout: float
) -> dict[int, dict[str, Any]]:
    """Polls every export until completed or failed; returns the last status of each."""
    clients = {r.space.space_id: r.space.client(api_url) for r in requested}
    pending = {r.export_id: r for r in requested}
    final: dict[int, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    try:
        while pending and time.monotonic() < deadline:
            for export_id, asked in list(pending.items()):
                body = clients[asked.space.space_id].status(export_id)
                if body["status"] in FINAL:
                    final[export_id] = body
                    del pending[export_id]
            time.sleep(0.5)
    finally:
        for http in clients.values():
            http.close()
    if pending:
        raise AssertionError(f"exports {sorted(pending)} not finished after {timeout:.0f} s")
    return final


def orphan_export(product: Product, space: Space, body: dict[str, str], key: str) -> Requested:
    """An export object made with an Idempotency-Key whose row in the database never committed."""
    start = datetime.fromisoformat(body["start_date"]).replace(tzinfo=UTC)
    end = datetime.fromisoformat(body["end_date"]).replace(tzinfo=UTC) + timedelta(seconds=1)
    with psycopg.connect(product.database_url) as conn:
        row = conn.execute("SELECT nextval('export_ids')").fetchone()
    assert row is not None
    spec = CompanyExportSpec(
        export_id=row[0],
        space_id=space.space_id,
        requested=RequestedRange(**body, timezone="UTC"),
        range=UtcRange(start=start, end=end),
        requested_by="0",
        idempotency_key=key,
    )
    product.custom().create_namespaced_custom_object(
        resource.GROUP, resource.VERSION, NAMESPACE, resource.PLURAL, export_manifest(spec)
    )
    return Requested(spec.export_id, space, body)


def export_object(product: Product, export_id: int) -> dict[str, Any]:
    """The export's CompanyExport object, read from the apiserver (no database involved)."""
    found: dict[str, Any] = product.custom().get_namespaced_custom_object(
        resource.GROUP, resource.VERSION, NAMESPACE, resource.PLURAL,
        resource.resource_name(export_id),
    )  # fmt: skip
    found.setdefault("status", {})
    return found


def failed_exporter_pods(product: Product, requested: list[Requested]) -> int:
    """How many exporter Pods of these exports failed (and were retried by their Job)."""
    return sum(
        pod.status.phase == "Failed"
        for asked in requested
        for pod in product.exporter_pods(asked.export_id)
    )


def wait_until_processing(product: Product, export_id: int, timeout: float = 120) -> None:
    """Until the export's exporter runs (its Job admitted and its Pod started)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pods = product.exporter_pods(export_id)
        if any(pod.status.phase == "Running" for pod in pods):
            return
        time.sleep(0.2)
    raise AssertionError(f"the exporter of export {export_id} did not start in {timeout:.0f} s")


def wait_until_uploading(
    product: Product, timeout: float, ignore: frozenset[str] = frozenset()
) -> str:
    """Until a multipart upload (other than those in `ignore`) is open; returns its id."""
    s3 = product.stack.s3.client()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        uploads = s3.list_multipart_uploads(Bucket=product.stack.s3.bucket).get("Uploads", [])
        opened = [u["UploadId"] for u in uploads if u["UploadId"] not in ignore]
        if opened:
            s3.close()
            return opened[0]
        time.sleep(0.05)
    s3.close()
    raise AssertionError(f"no multipart upload started in {timeout:.0f} s")


def wait_until_no_upload_running(product: Product, export_id: int, timeout: float = 30) -> None:
    """Until no exporter Pod of the export runs (the one killed is reported failed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(pod.status.phase != "Running" for pod in product.exporter_pods(export_id)):
            return
        time.sleep(0.2)
    raise AssertionError(f"an exporter of export {export_id} still runs after {timeout:.0f} s")


# --- what must hold after every fault -------------------------------------------------------------


def expected_file(database_url: str, space_id: int, body: dict[str, str]) -> bytes:
    """The NDJSON the database holds for this range of a UTC space, built by the same SQL."""
    start = datetime.fromisoformat(body["start_date"]).replace(tzinfo=UTC)
    end = datetime.fromisoformat(body["end_date"]).replace(tzinfo=UTC) + timedelta(seconds=1)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            f"SELECT {COMPANY_JSON}::text FROM companies c WHERE c.space_id = %s"  # noqa: S608
            " AND c.created_at >= %s AND c.created_at < %s ORDER BY c.created_at, c.id",
            (space_id, start, end),
        ).fetchall()
    return "".join(f"{row[0]}\n" for row in rows).encode()


def _check_file(product: Product, asked: Requested, answer: dict[str, Any]) -> None:
    download = httpx.get(answer["download_url"], timeout=60)
    assert download.status_code == 200, download.text
    assert len(download.content) == answer["file_size"]
    content = gzip.decompress(download.content)
    expected = expected_file(product.database_url, asked.space.space_id, asked.body)
    assert content == expected, f"export {asked.export_id}: the file differs from the database"
    assert answer["record_count"] == expected.count(b"\n")


def _final_events(product: Product, name: str) -> int:
    """How often the operator announced a final state of the export (Events of ours)."""
    about = f"involvedObject.kind={resource.KIND},involvedObject.name={name}"
    events = product.core().list_namespaced_event(NAMESPACE, field_selector=about).items
    final_reasons = {reason.value for reason in resource.ExportReason} - {
        resource.ExportReason.WAITING_FOR_SLOT.value,
        resource.ExportReason.RUNNING.value,
        resource.ExportReason.EXPIRED.value,
    }
    return sum(event.count or 1 for event in events if event.reason in final_reasons)


def audit(
    product: Product, requested: list[Requested], final: dict[int, dict[str, Any]]
) -> Counter[str]:
    """Asserts the invariants for these exports, and the few that are installation-wide (no
    orphaned Job, no open upload, no file that no export owns), so that one bad export fails only
    the test that made it; returns the final states counted."""
    exports = product.custom().list_namespaced_custom_object(
        resource.GROUP, resource.VERSION, NAMESPACE, resource.PLURAL
    )["items"]
    asked_ids = {r.export_id for r in requested}
    ours = [obj for obj in exports if int(obj["spec"]["exportId"]) in asked_ids]
    by_id = Counter(int(obj["spec"]["exportId"]) for obj in ours)
    assert [i for i, n in by_id.items() if n > 1] == [], "one export id, several objects"
    assert asked_ids == set(by_id), "an export the API accepted has no object"
    states = {obj["metadata"]["name"]: (obj.get("status") or {}) for obj in ours}
    assert all(s.get("state") in ("Completed", "Failed") for s in states.values()), states

    _audit_jobs(product, {obj["metadata"]["uid"] for obj in exports}, ours)
    for name in states:
        assert _final_events(product, name) == 1, f"{name}: its final state announced not once"
    _audit_bucket(product, [obj.get("status") or {} for obj in exports], list(states.values()))
    for asked in requested:
        answer = final[asked.export_id]
        if answer["status"] == "completed":
            _check_file(product, asked, answer)
    return Counter(answer["status"] for answer in final.values())


# An export completes when its exporter exits; its Job says so ~2 s later (the kubelet's next
# pass, then the Job controller's batching). A Job still active this long after is a fault.
JOB_SETTLE_SECONDS = 30.0


def _settled_jobs(product: Product, ours: list[dict[str, Any]]) -> list[client.V1Job]:
    """The export Jobs once none of these exports' Jobs is active, or as they are after
    JOB_SETTLE_SECONDS."""
    uids = {export["metadata"]["uid"] for export in ours}
    selector = f"{resource.MANAGED_BY_LABEL}={resource.MANAGED_BY}"
    deadline = time.monotonic() + JOB_SETTLE_SECONDS
    while True:
        jobs = product.batch().list_namespaced_job(NAMESPACE, label_selector=selector).items
        running = [job for job in jobs if job.status.active and set(_owners(job)) & uids]
        if not running or time.monotonic() > deadline:
            return list(jobs)
        time.sleep(0.5)


def _owners(job: client.V1Job) -> list[str]:
    """The uids of the exports that control the Job (exactly one, for a sound Job)."""
    return [
        ref.uid
        for ref in job.metadata.owner_references or []
        if ref.controller and ref.kind == resource.KIND
    ]


def _audit_jobs(product: Product, export_uids: set[str], ours: list[dict[str, Any]]) -> None:
    jobs = _settled_jobs(product, ours)
    owners = {job.metadata.name: _owners(job) for job in jobs}
    assert [name for name, uids in owners.items() if len(uids) != 1] == [], "a Job without export"
    assert {uids[0] for uids in owners.values()} <= export_uids, "a Job whose export is gone"
    for export in ours:
        uid, name = export["metadata"]["uid"], export["metadata"]["name"]
        mine = [job for job in jobs if owners[job.metadata.name] == [uid]]
        assert len(mine) <= 1, f"{name} has several Jobs"
        for job in mine:
            assert not job.status.active, f"Job {job.metadata.name} still runs"
            assert (job.status.succeeded or 0) <= 1, f"Job {job.metadata.name} succeeded twice"


def _audit_bucket(
    product: Product, every: list[dict[str, Any]], ours: list[dict[str, Any]]
) -> None:
    s3 = product.stack.s3.client()
    bucket = product.stack.s3.bucket
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    left = [(u["Key"], str(u.get("Initiated"))) for u in uploads]
    assert left == [], "multipart uploads left behind (key, initiated)"
    keys: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="exports/"):
        keys.update({obj["Key"]: obj["Size"] for obj in page.get("Contents", [])})
    s3.close()
    # Every export's key is in its status from Queued on: a file outside them all is an orphan.
    assert set(keys) <= {status.get("objectKey") for status in every}, "a file no export owns"
    for status in ours:
        stored = keys.get(status.get("objectKey", ""))
        if status["state"] == "Completed":
            assert stored == status["bytes"], f"{status['objectKey']}: {stored} bytes stored"
        else:
            assert stored is None, f"{status.get('objectKey')}: a failed export left its file"


def idempotency_keys(product: Product) -> Counter[str]:
    """How many CompanyExport objects carry each Idempotency-Key."""
    exports = product.custom().list_namespaced_custom_object(
        resource.GROUP, resource.VERSION, NAMESPACE, resource.PLURAL
    )["items"]
    return Counter(
        obj["spec"]["idempotencyKey"] for obj in exports if obj["spec"].get("idempotencyKey")
    )
