"""The whole flow on the local cluster, as a client sees it: the API, the operator, the real
exporter in a Job, PostgreSQL and S3. POST, poll, download through the presigned URL with a
plain HTTP client, gunzip, and compare every line with the database.
"""

import gzip
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from kubernetes.client import ApiClient

from export_api.admin import create_space, issue_key
from export_api.auth import Scope
from export_database.company_json import COMPANY_JSON
from export_database.generate import generate_companies
from local_cluster.image_program import ImageProgram
from local_cluster.product import Published
from local_cluster.s3 import S3Server
from tests.api.conftest import api_settings, running_api
from tests.conftest import KubeCluster
from tests.operator.operator_harness import Harness

pytestmark = pytest.mark.e2e

EXPORTS = "/public-api/v1/companies/exports"
TIMEZONE = "America/New_York"
# New York's DST ends on 2024-11-03: the range crosses the repeated hour.
RANGE = {"start_date": "2024-11-02 00:00:00", "end_date": "2024-11-04 23:59:59"}
RANGE_UTC = (datetime(2024, 11, 2, 4, tzinfo=UTC), datetime(2024, 11, 5, 5, tzinfo=UTC))


@pytest.fixture
def operator_namespace(
    kube: KubeCluster,
    kube_api: ApiClient,
    published: Published,
    app_program: ImageProgram,
    tmp_path: Path,
) -> Iterator[Harness]:
    """A namespace with the exporter's Secrets and an operator that runs the real exporter."""
    harness = Harness(kube, kube_api, published, app_program, tmp_path)
    harness.create_namespace()
    harness.start_operator(**harness.real_exporter())
    yield harness
    harness.close()


@pytest.fixture
def space_with_companies(api_database: str) -> tuple[int, str]:
    """A New York space with 3,000 companies over a week around the range, and a key."""
    with psycopg.connect(api_database, autocommit=True) as conn:
        space_id = create_space(conn, "flow", TIMEZONE)
        first = datetime(2024, 10, 31, tzinfo=UTC)
        generate_companies(
            conn, space_id, 3_000, seed=11, first_instant=first, spread=timedelta(days=7)
        )
        _, token = issue_key(conn, space_id, list(Scope))
    return space_id, token


def rows_in_range(database_url: str, space_id: int) -> list[Any]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            f"SELECT ({COMPANY_JSON})::text FROM companies c "  # noqa: S608 - a constant of ours
            "WHERE c.space_id = %s AND c.created_at >= %s AND c.created_at < %s "
            "ORDER BY c.created_at, c.id",
            (space_id, *RANGE_UTC),
        ).fetchall()
    return [json.loads(row[0]) for row in rows]


def test_post_poll_download_and_compare_with_the_database(
    kube: KubeCluster,
    kube_api: ApiClient,
    operator_namespace: Harness,
    api_database: str,
    s3: S3Server,
    space_with_companies: tuple[int, str],
) -> None:
    space_id, token = space_with_companies
    settings = api_settings(kube, api_database, s3, export_namespace=operator_namespace.namespace)
    with (
        running_api(settings, kube_api) as server,
        httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}) as api,
    ):
        created = api.post(EXPORTS, json=RANGE)
        assert created.status_code == 202, created.text
        export_id = created.json()["export_id"]
        done = poll(api, export_id)
        download = httpx.get(done["download_url"])  # a plain client: no key, no signing
        listed = list_all_companies(api)
        deleted = api.delete(f"{EXPORTS}/{export_id}")
        gone = api.get(f"{EXPORTS}/{export_id}")
        refused = _until_refused(done["download_url"])  # the operator's finalizer deletes it
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/gzip"
    assert "content-encoding" not in download.headers
    # Split on "\n" only: str.splitlines() would also split inside names holding U+2028.
    lines = gzip.decompress(download.content).decode().removesuffix("\n").split("\n")
    expected = rows_in_range(api_database, space_id)
    assert 300 < len(expected) < 3_000  # the range is part of the data, not all or none
    assert [json.loads(line) for line in lines] == expected
    assert (done["record_count"], done["file_size"]) == (len(expected), len(download.content))
    assert listed == expected  # List Companies and the export agree on every company
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert refused.status_code == 404


def _until_refused(url: str, timeout: float = 30) -> httpx.Response:
    """The download, retried until S3 refuses it (the file deleted) or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while (answer := httpx.get(url)).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    return answer


def poll(api: httpx.Client, export_id: int) -> dict[str, Any]:
    """Polls like a client within the status limit (30 a minute): every 2.5 s, up to 2 minutes."""
    deadline = time.monotonic() + 120
    seen = []
    while time.monotonic() < deadline:
        body: dict[str, Any] = api.get(f"{EXPORTS}/{export_id}").json()
        seen.append(body["status"])
        if body["status"] in ("completed", "failed"):
            assert body["status"] == "completed", body
            assert set(seen) <= {"queued", "processing", "completed"}
            return body
        time.sleep(2.5)
    raise AssertionError(f"export {export_id} not finished within 2 minutes: {seen}")


def list_all_companies(api: httpx.Client) -> list[Any]:
    companies: list[Any] = []
    url: str | None = str(httpx.URL("/public-api/v1/companies", params={**RANGE, "per_page": 5000}))
    while url:
        page = api.get(url).json()
        companies += page["data"]
        url = page["next_page_url"]
    return companies
