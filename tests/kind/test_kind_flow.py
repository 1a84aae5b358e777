"""The export flow on kind: the images built and loaded, the chart installed, one export checked.

Selected only with `--kind` (see conftest.py). The same flow as the local end-to-end tests: create
through the chart's API Service, poll until completed, and compare the file with the database.
"""

import gzip
import json
import tempfile
from pathlib import Path
from typing import Any

import boto3
import httpx
import psycopg
import pytest

from export_contracts.resource import CompanyExportStatus, resource_name
from local_cluster.binaries import ensure_binaries
from local_cluster.product import CHART, NAMESPACE, RELEASE, ensure_demo_space, helm_install
from local_cluster.registry import push_chart, temporary_registry
from tests.export_polling import wait_for_export as poll_export
from tests.kind.conftest import APP_IMAGE, EXPORTER_IMAGE

pytestmark = [pytest.mark.kind, pytest.mark.e2e]

BACKING = Path(__file__).with_name("backing-services.yaml")
BUCKET = "company-exports"
# The throwaway credentials of backing-services.yaml.
DATABASE = "postgresql://exports:kind-test-password@{host}:{port}/exports"
S3_ACCESS_KEY, S3_SECRET_KEY = "kind-test-access", "kind-test-secret-key"
ONE_DAY = {"start_date": "2024-01-15 00:00:00", "end_date": "2024-01-15 23:59:59"}
EXPORT_TIMEOUT_SECONDS = 300


def _values() -> dict[str, Any]:
    app_repository, app_tag = APP_IMAGE.split(":")
    exporter_repository, exporter_tag = EXPORTER_IMAGE.split(":")
    return {
        "image": {"repository": app_repository, "tag": app_tag, "pullPolicy": "Never"},
        "exporter": {"image": {"repository": exporter_repository, "tag": exporter_tag}},
        "database": {"url": DATABASE.format(host="postgres.kind-backing.svc", port=5432)},
        "s3": {
            "bucket": BUCKET,
            "endpointUrl": "http://s3.kind-backing.svc:9000",
            "region": "us-east-1",
            "accessKeyId": S3_ACCESS_KEY,
            "secretAccessKey": S3_SECRET_KEY,
        },
    }


def _s3(port: int) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
    )


def _poll(api: httpx.Client, export_id: int) -> dict[str, Any]:
    return poll_export(api, export_id, timeout=EXPORT_TIMEOUT_SECONDS, interval=2)


def test_an_export_on_kind_matches_the_database(loaded_kind: Any) -> None:
    loaded_kind.kubectl("apply", "-f", str(BACKING))
    for name in ("postgres", "s3"):
        loaded_kind.kubectl("rollout", "status", f"deployment/{name}", "-n", "kind-backing")
    with (
        loaded_kind.port_forward("service/s3", 9000, "-n", "kind-backing") as s3_port,
        loaded_kind.port_forward("service/postgres", 5432, "-n", "kind-backing") as db_port,
    ):
        s3 = _s3(s3_port)
        s3.create_bucket(Bucket=BUCKET)
        helm = ensure_binaries().helm
        with (
            tempfile.TemporaryDirectory() as work_dir,
            temporary_registry(Path(work_dir) / "registry") as registry,
        ):
            # The images are loaded into kind's node; the chart comes from a registry, as users
            # install it (helm runs here, so a registry on this machine's loopback serves).
            chart = push_chart(helm, CHART, registry, Path(work_dir) / "chart")
            helm_install(
                helm, str(loaded_kind.kubeconfig_path), _values(), Path(work_dir), chart,
                timeout_seconds=600,
            )  # fmt: skip
        database_url = DATABASE.format(host="127.0.0.1", port=db_port)
        demo = ensure_demo_space(database_url)  # the API's init container migrated the schema
        with (
            loaded_kind.port_forward(f"service/{RELEASE}-api", 80, "-n", NAMESPACE) as api_port,
            httpx.Client(
                base_url=f"http://127.0.0.1:{api_port}",
                headers={"Authorization": f"Bearer {demo.api_key}"},
                timeout=30,
            ) as api,
        ):
            created = api.post("/public-api/v1/companies/exports", json=ONE_DAY)
            assert created.status_code == 202, created.text
            export_id = created.json()["export_id"]
            result = _poll(api, export_id)
        assert result["status"] == "completed", result

        # The download URL names the in-cluster S3 Service; read the same object through the
        # port-forward instead, at the key the CompanyExport's status records.
        resource = json.loads(
            loaded_kind.kubectl(
                "get", "companyexports", resource_name(export_id), "-n", NAMESPACE, "-o", "json"
            )
        )
        status = CompanyExportStatus.model_validate(resource["status"])
        assert status.object_key is not None
        body = s3.get_object(Bucket=BUCKET, Key=status.object_key)["Body"].read()
        lines = gzip.decompress(body).decode("utf-8").split("\n")
        assert lines.pop() == ""
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM companies WHERE space_id = %s"
                " AND created_at >= '2024-01-14T23:00:00Z' AND created_at < '2024-01-15T23:00:00Z'",
                (demo.space_id,),
            ).fetchone()
        assert row is not None
        assert result["record_count"] == len(lines) == row[0] > 0


def test_kind_run_leaves_no_failed_pods(loaded_kind: Any) -> None:
    pods = json.loads(loaded_kind.kubectl("get", "pods", "-n", NAMESPACE, "-o", "json"))["items"]
    assert pods
    assert not [p["metadata"]["name"] for p in pods if p["status"]["phase"] == "Failed"]
