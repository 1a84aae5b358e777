"""Drives the operator on the local cluster: a namespace, `export-operator` processes, exports."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import boto3
import yaml
from kubernetes import client
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from export_contracts import resource
from export_contracts.resource import CompanyExportStatus, ExportState
from local_cluster.image_program import ImageProgram
from local_cluster.process import Launcher, Server, free_port, port_is_open
from local_cluster.product import Published

FAKE_EXPORTER = Path(__file__).with_name("fake_exporter.py")
KUBECTL = str(Path(sys.executable).with_name("kubectl"))
CRD_FILE = Path(__file__).parents[2] / "crds" / "companyexports.exports.companies.dev.yaml"
PEERING_CRD_FILE = CRD_FILE.with_name("kopf-peering.yaml")
EXPORTS = (resource.GROUP, resource.VERSION)
EXPORTER_IMAGE = "company-exports-exporter"
# Where the operator finds its kubeconfig in the app image's files.
KUBE_IN_IMAGE = "/run/kube"
DAY = (date(2024, 1, 15), date(2024, 1, 15))


@dataclass
class OperatorRun:
    """One `export-operator` process watching one namespace."""

    server: Server
    health_port: int
    metrics_port: int

    def healthy(self) -> bool:
        url = f"http://127.0.0.1:{self.health_port}/healthz"
        with urllib.request.urlopen(url) as response:
            return bool(response.status == 200)

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics") as response:
            return str(response.read().decode())


class Harness:
    """A namespace with the exporter's Secrets, an operator for it, and helpers to drive exports."""

    def __init__(
        self,
        kube: Any,
        kube_api: ApiClient,
        published: Published,
        app: ImageProgram,
        root: Path,
    ) -> None:
        self.kube = kube
        self.app = app
        self.root = root
        self.namespace = f"op-{uuid.uuid4().hex[:8]}"
        self.exporter_image = published.references[EXPORTER_IMAGE]
        # Where the fake exporter finds its plan and leaves its runs: the Pod shares no folder
        # with the test, only the bucket.
        self.plan_prefix = f"test-plans/{self.namespace}"
        self.core = client.CoreV1Api(kube_api)
        self.batch = client.BatchV1Api(kube_api)
        self.custom = client.CustomObjectsApi(kube_api)
        self.launcher = Launcher(root / "logs")
        self.operators: list[OperatorRun] = []
        self.bucket = kube.env["EXPORT_BUCKET"]

    def create_namespace(self) -> None:
        meta = client.V1ObjectMeta(name=self.namespace)
        self.core.create_namespace(client.V1Namespace(metadata=meta))
        self.put_secret("company-exports-database", {"DATABASE_URL": self.kube.env["DATABASE_URL"]})
        self.put_secret(
            "company-exports-s3",
            {
                "AWS_ACCESS_KEY_ID": self.kube.env["AWS_ACCESS_KEY_ID"],
                "AWS_SECRET_ACCESS_KEY": self.kube.env["AWS_SECRET_ACCESS_KEY"],
            },
        )

    def put_secret(self, name: str, data: dict[str, str]) -> None:
        secret = client.V1Secret(metadata=client.V1ObjectMeta(name=name), string_data=data)
        self.core.create_namespaced_secret(self.namespace, secret)

    def operator_env(self, **settings: Any) -> dict[str, str]:
        health, metrics = free_port(), free_port()
        env = {
            **self.kube.env,
            "EXPORT_OPERATOR_NAMESPACE": self.namespace,
            "EXPORT_OPERATOR_STANDALONE": "true",
            "EXPORT_OPERATOR_LIVENESS_ENDPOINT": f"http://127.0.0.1:{health}/healthz",
            "EXPORT_OPERATOR_METRICS_PORT": str(metrics),
            "EXPORT_OPERATOR_EXPORTER_IMAGE": self.exporter_image,
            "EXPORT_OPERATOR_EXPORTER_COMMAND": json.dumps(
                ["python", "-c", FAKE_EXPORTER.read_text(), self.plan_prefix]
            ),
            "EXPORT_OPERATOR_JOB_BACKOFF_LIMIT": "1",
            "EXPORT_OPERATOR_STARTUP_TIMEOUT_SECONDS": "8",
            "EXPORT_OPERATOR_JOB_LOST_GRACE_SECONDS": "8",
        }
        env.update(
            {f"EXPORT_OPERATOR_{key.upper()}": str(value) for key, value in settings.items()}
        )
        return env

    def start_operator(self, name: str = "operator", **settings: Any) -> OperatorRun:
        """The app image's `export-operator`, run in the image's files as the image's user."""
        env = self.operator_env(**settings)
        health = int(env["EXPORT_OPERATOR_LIVENESS_ENDPOINT"].split(":")[2].split("/")[0])
        command = self.app.command(
            ["export-operator"], binds=[(self._kube_folder(), KUBE_IN_IMAGE)]
        )
        env = {**self.app.env, **env, "KUBECONFIG": f"{KUBE_IN_IMAGE}/kubeconfig"}
        server = self.launcher.start(f"{self.namespace}-{name}", command, env)
        run = OperatorRun(server, health, int(env["EXPORT_OPERATOR_METRICS_PORT"]))
        server.wait_until(lambda: port_is_open(health), timeout=30)
        self.operators.append(run)
        return run

    def _kube_folder(self) -> Path:
        """A folder with a copy of the cluster's kubeconfig that the image's user may read."""
        folder = self.root / "kube"
        if not folder.exists():
            folder.mkdir()
            shutil.copyfile(self.kube.env["KUBECONFIG"], folder / "kubeconfig")
            (folder / "kubeconfig").chmod(0o644)
            folder.chmod(0o755)
        return folder

    def create_peering(self, name: str) -> None:
        """The namespace's kopf peering object that replicas of the operator share."""
        body = {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": name}}
        self.custom.create_namespaced_custom_object(
            "kopf.dev", "v1", self.namespace, "kopfpeerings", body
        )

    def kill(self, run: OperatorRun) -> None:
        """SIGKILL: the operator gets no chance to finish anything."""
        os.killpg(run.server.pid, signal.SIGKILL)
        if run.server.popen is not None:
            run.server.popen.wait(timeout=10)

    def real_exporter(self) -> dict[str, str]:
        """Operator settings that run the real exporter, as the chart does."""
        return {"exporter_image": self.exporter_image, "exporter_command": '["company-exporter"]'}

    def plan(self, export_id: int, **plan: Any) -> None:
        self.kube_s3().put_object(
            Bucket=self.bucket, Key=f"{self.plan_prefix}/{export_id}.json", Body=json.dumps(plan)
        )

    def attempts(self, export_id: int) -> int:
        """How often the fake exporter ran for the export."""
        key = f"{self.plan_prefix}/{export_id}.attempts"
        return int(self.kube_s3().get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def create_export(
        self,
        export_id: int,
        space_id: int = 1,
        days: tuple[date, date] = DAY,
        estimated_rows: int | None = None,
    ) -> str:
        """Creates the export of `days` (first and last, whole days in UTC); returns its name.
        With `estimated_rows` above the operator's shard threshold, it runs sharded."""
        body = self.export_manifest(export_id, space_id, days)
        if estimated_rows is not None:
            body["spec"]["estimatedRows"] = estimated_rows
        self.custom.create_namespaced_custom_object(*EXPORTS, self.namespace, resource.PLURAL, body)
        return str(body["metadata"]["name"])

    @staticmethod
    def to_yaml(manifest: dict[str, Any]) -> str:
        return yaml.safe_dump(manifest)

    def export_manifest(
        self, export_id: int, space_id: int, days: tuple[date, date] = DAY
    ) -> dict[str, Any]:
        name = resource.resource_name(export_id)
        first, last = days
        return {
            "apiVersion": resource.API_VERSION,
            "kind": resource.KIND,
            "metadata": {"name": name, "labels": resource.labels(space_id, export_id)},
            "spec": {
                "exportId": export_id,
                "spaceId": space_id,
                "requested": {
                    "startDate": f"{first} 00:00:00",
                    "endDate": f"{last} 23:59:59",
                    "timezone": "UTC",
                },
                "range": {"start": f"{first}T00:00:00Z", "end": f"{last + timedelta(1)}T00:00:00Z"},
                "requestedBy": "key-1",
            },
        }

    def get_export(self, name: str) -> dict[str, Any] | None:
        try:
            body: Any = self.custom.get_namespaced_custom_object(
                *EXPORTS, self.namespace, resource.PLURAL, name
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return dict(body)

    def status(self, name: str) -> CompanyExportStatus:
        body = self.get_export(name) or {}
        return CompanyExportStatus.model_validate(body.get("status") or {})

    def wait_state(
        self, name: str, *states: ExportState, timeout: float = 60
    ) -> CompanyExportStatus:
        deadline = time.monotonic() + timeout
        current = CompanyExportStatus()
        while time.monotonic() < deadline:
            current = self.status(name)
            if current.state in states:
                return current
            time.sleep(0.2)
        raise AssertionError(
            f"{name} did not reach {[s.value for s in states]} within {timeout} s: "
            f"{current.model_dump(exclude_none=True)}; operator logs in {self.launcher.log_dir}; "
            f"{self.job_report(current.job_name or name)}"
        )

    def job_report(self, job_name: str) -> str:
        """The Job's status and each of its Pods, for a failure message (the namespace, and with
        it the Job and Pods, is gone once the test ends)."""
        job = self.job(job_name)
        said = "no Job" if job is None else f"Job status {job['status']}"
        return f"{said}; its Pods: {self.pods_report(job_name)}"

    def pods_report(self, job_name: str) -> str:
        """Each Pod of the Job: phase, container states and the end of its log."""
        pods = self.core.list_namespaced_pod(
            self.namespace, label_selector=f"job-name={job_name}"
        ).items
        reports = []
        for pod in pods:
            states = [
                f"{each.name} {each.state.to_dict()}"
                for each in pod.status.container_statuses or []
            ]
            try:
                log = self.core.read_namespaced_pod_log(
                    pod.metadata.name, self.namespace, tail_lines=20
                )
            except ApiException as error:
                log = f"(no log: {error.reason})"
            reports.append(
                f"{pod.metadata.name} on {pod.spec.node_name} {pod.status.phase} {states}: {log}"
            )
        return "; ".join(reports) or "none"

    def wait_for(self, check: Any, what: str, timeout: float = 60) -> None:
        """Until `check()` is true; fails saying `what` did not happen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.2)
        raise AssertionError(f"{what}: not within {timeout} s")

    def wait_gone(self, check: Any, what: str, timeout: float = 60) -> None:
        self.wait_for(lambda: not check(), f"{what} gone", timeout)

    def job(self, name: str) -> dict[str, Any] | None:
        try:
            job: dict[str, Any] = self.batch.read_namespaced_job(name, self.namespace).to_dict()
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return job

    def events(self, name: str) -> list[tuple[str, str]]:
        """(reason, message) of the Events about an export, oldest first."""
        events = self.core.list_namespaced_event(
            self.namespace,
            field_selector=f"involvedObject.kind=CompanyExport,involvedObject.name={name}",
        ).items
        # eventTime has microseconds; creationTimestamp only seconds.
        events.sort(key=lambda e: str(e.event_time or e.metadata.creation_timestamp))
        return [(e.reason or "", e.message or "") for e in events]

    def object_exists(self, key: str) -> bool:
        s3 = self.kube_s3()
        return "Contents" in s3.list_objects_v2(Bucket=self.bucket, Prefix=key)

    def kube_s3(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.kube.env["S3_ENDPOINT_URL"],
            aws_access_key_id=self.kube.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.kube.env["AWS_SECRET_ACCESS_KEY"],
            region_name=self.kube.env["AWS_DEFAULT_REGION"],
        )

    def runs(self) -> list[tuple[str, int, int, float]]:
        """(event, export id, space id, time) of each start and end the fake exporter logged."""
        s3 = self.kube_s3()
        listed = s3.list_objects_v2(Bucket=self.bucket, Prefix=f"{self.plan_prefix}/runs/")
        lines = [
            s3.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read().decode()
            for item in listed.get("Contents", [])
        ]
        runs = [
            (event, int(export_id), int(space_id), float(at))
            for event, export_id, space_id, at in (line.split() for line in lines)
        ]
        return sorted(runs, key=lambda run: run[3])

    def kubectl(
        self, *args: str, input_text: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [KUBECTL, "--kubeconfig", str(self.kube.kubeconfig), "-n", self.namespace, *args],
            input=input_text, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    def close(self) -> None:
        self.launcher.stop_all()
        s3 = self.kube_s3()
        listed = s3.list_objects_v2(Bucket=self.bucket, Prefix=f"{self.plan_prefix}/")
        for item in listed.get("Contents", []):
            s3.delete_object(Bucket=self.bucket, Key=item["Key"])
        # With no operator left to run the cleanup, the finalizers would keep the namespace
        # Terminating for the rest of the session.
        exports = self.custom.list_namespaced_custom_object(
            *EXPORTS, self.namespace, resource.PLURAL
        )
        for export in cast("dict[str, Any]", exports)["items"]:
            self.custom.patch_namespaced_custom_object(
                *EXPORTS, self.namespace, resource.PLURAL, export["metadata"]["name"],
                {"metadata": {"finalizers": None}}, _content_type="application/merge-patch+json",
            )  # fmt: skip
        try:
            self.core.delete_namespace(self.namespace)
        except ApiException as error:
            if error.status != 404:
                raise
