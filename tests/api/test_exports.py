"""Reading, listing and deleting exports; download URLs; tenant isolation; the watch-backed cache.

Where the operator would write status, these tests patch the status subresource themselves, as
the operator does, so the API's side is tested alone (the full flow is in the end-to-end tests).
"""

import base64
import gzip
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.auth
import httpx
import psycopg
import pytest
from kubernetes import client

from export_api.cache import ExportCache
from export_api.records import ExportRecord
from export_api.views import status_name
from export_contracts.resource import (
    ARCHIVED_LABEL,
    GROUP,
    PLURAL,
    VERSION,
    CompanyExportStatus,
    ExportState,
    resource_name,
)
from local_cluster.s3 import S3Server
from tests.api.conftest import (
    NAMESPACE,
    ApiServer,
    Space,
    tampered,
    until_refused,
    walk_both_ways,
)

pytestmark = pytest.mark.integration

PATH = "/public-api/v1/companies/exports"
DAY = {"start_date": "2024-01-15 00:00:00", "end_date": "2024-01-15 23:59:59"}
CONTENT = b'{"id":1,"domain":"example.com","created_at":"2024-01-15T10:23:45Z"}\n'


def create(api: ApiServer, space: Space) -> int:
    with api.client(space.token) as http:
        response = http.post(PATH, json=DAY)
    assert response.status_code == 202, response.text
    export_id: int = response.json()["export_id"]
    return export_id


def patch_status(api: ApiServer, export_id: int, status: dict[str, Any]) -> None:
    client.CustomObjectsApi(api.kube_api).patch_namespaced_custom_object_status(
        GROUP, VERSION, NAMESPACE, PLURAL, resource_name(export_id), {"status": status}
    )


def complete(api: ApiServer, s3: S3Server, space: Space, export_id: int, **extra: Any) -> str:
    """Does what the operator does once the exporter uploaded the file."""
    key = f"exports/{space.id}/{uuid.uuid4()}.ndjson.gz"
    body = gzip.compress(CONTENT)
    s3.client().put_object(Bucket=s3.bucket, Key=key, Body=body, ContentType="application/gzip")
    now = datetime.now(UTC)
    patch_status(
        api,
        export_id,
        {
            "state": "Completed",
            "reason": "Completed",
            "startedAt": _iso(now - timedelta(seconds=5)),
            "completedAt": _iso(now),
            "expiresAt": _iso(now + timedelta(hours=24)),
            "bucket": s3.bucket,
            "objectKey": key,
            "records": 1,
            "bytes": len(body),
            **extra,
        },
    )
    return key


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def poll_until(api: ApiServer, http: httpx.Client, export_id: int, status: str) -> dict[str, Any]:
    """Waits until the replica knows the export as `status`, then reads it once as a client.

    Waiting on the replica's cache (in flight) or on the archive (finished, handed over) spends
    none of the space's 30 status polls a minute.
    """
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        record = known_record(api, export_id)
        if record is not None and status_name(record, datetime.now(UTC)) == status:
            break
        time.sleep(0.05)
    body: dict[str, Any] = http.get(f"{PATH}/{export_id}").json()
    assert body.get("status") == status, body
    return body


def known_record(api: ApiServer, export_id: int) -> ExportRecord | None:
    """The export as the replica's cache has it, else as its archived row has it."""
    record: ExportRecord | None = api.app.state.services.cache.get(export_id)
    if record is not None:
        return record
    with psycopg.connect(str(api.settings.database_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT space_id, created_at, state, expires_at FROM export_archive "
            "WHERE export_id = %s AND deleted_at IS NULL",
            (export_id,),
        ).fetchone()
    if row is None:
        return None
    space_id, created_at, state, expires_at = row
    status = CompanyExportStatus(state=ExportState(state), expires_at=expires_at)
    return ExportRecord(export_id, space_id, created_at, status, archived=True)


def test_a_new_export_reads_as_queued(api: ApiServer, space: Space) -> None:
    export_id = create(api, space)
    with api.client(space.token) as http:
        response = http.get(f"{PATH}/{export_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "export_id", "status", "message", "created_at", "started_at", "completed_at",
        "record_count", "file_size", "download_url", "expires_at",
    }  # fmt: skip
    assert body["export_id"] == export_id
    assert body["status"] == "queued"
    assert body["message"].startswith("Queued")
    assert body["download_url"] is None
    assert body["expires_at"] is None
    assert body["created_at"].endswith("Z")
    assert response.headers["X-RateLimit-Limit"] == "30"
    assert response.headers["X-RateLimit-Remaining"] == "29"


def test_processing_shows_rows_so_far(api: ApiServer, space: Space) -> None:
    export_id = create(api, space)
    patch_status(api, export_id, {"state": "Processing", "reason": "Running", "records": 1200})
    with api.client(space.token) as http:
        body = poll_until(api, http, export_id, "processing")
    assert body["message"] == "Exporting: 1200 companies so far."


def test_failed_says_why(api: ApiServer, space: Space) -> None:
    export_id = create(api, space)
    patch_status(
        api, export_id, {"state": "Failed", "reason": "DeadlineExceeded", "message": "ran 1 h"}
    )
    with api.client(space.token) as http:
        body = poll_until(api, http, export_id, "failed")
    assert body["message"] == "Export failed: ran 1 h. Create a new export to try again."
    assert body["download_url"] is None


def test_completed_export_has_a_fresh_url_that_downloads_the_file(
    api: ApiServer, s3: S3Server, space: Space
) -> None:
    export_id = create(api, space)
    complete(api, s3, space, export_id)
    with api.client(space.token) as http:
        body = poll_until(api, http, export_id, "completed")
        time.sleep(1.1)
        later = http.get(f"{PATH}/{export_id}").json()
    assert body["record_count"] == 1
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert timedelta(minutes=14) < expires_at - datetime.now(UTC) <= timedelta(minutes=15)
    assert later["download_url"] != body["download_url"]  # signed again on each request
    assert later["expires_at"] > body["expires_at"]
    download = httpx.get(body["download_url"])
    assert download.status_code == 200
    assert "content-encoding" not in download.headers
    assert gzip.decompress(download.content) == CONTENT


def test_a_url_fetched_15_minutes_after_signing_is_refused_by_s3(
    api: ApiServer, s3: S3Server, space: Space, monkeypatch: pytest.MonkeyPatch
) -> None:
    export_id = create(api, space)
    complete(api, s3, space, export_id)
    with api.client(space.token) as http:
        poll_until(api, http, export_id, "completed")
        # Move the signer's clock back: the URL is 15 min 1 s old when fetched below.
        signed_at = datetime.now(UTC) - timedelta(minutes=15, seconds=1)
        monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: signed_at)
        stale = http.get(f"{PATH}/{export_id}").json()["download_url"]
        monkeypatch.undo()
        fresh = http.get(f"{PATH}/{export_id}").json()["download_url"]
    refused = httpx.get(stale)
    assert refused.status_code == 403, refused.text
    assert b"expired" in refused.content.lower()
    assert httpx.get(fresh).status_code == 200


def test_past_retention_a_completed_export_reads_as_expired_without_url(
    api: ApiServer, s3: S3Server, space: Space
) -> None:
    export_id = create(api, space)
    past = _iso(datetime.now(UTC) - timedelta(seconds=1))
    complete(api, s3, space, export_id, expiresAt=past)
    with api.client(space.token) as http:
        body = poll_until(api, http, export_id, "expired")
    assert body["download_url"] is None
    assert "create a new export" in body["message"]


@pytest.mark.parametrize("export_id", ["abc", "0", "-1", "1.5", "99999999999999999999999", "%20"])
def test_a_malformed_id_is_404(api: ApiServer, space: Space, export_id: str) -> None:
    with api.client(space.token) as http:
        response = http.get(f"{PATH}/{export_id}")
    assert response.status_code == 404
    assert set(response.json()) == {"error"}


def test_an_unknown_id_is_404(api: ApiServer, space: Space) -> None:
    with api.client(space.token) as http:
        response = http.get(f"{PATH}/987654321")
    assert response.status_code == 404
    assert response.json()["error"].startswith("Export not found in your space")


def test_space_b_cannot_see_list_or_delete_space_a_export(
    api: ApiServer, s3: S3Server, new_space: Callable[..., Space]
) -> None:
    tenant_a, tenant_b = new_space(), new_space()
    export_id = create(api, tenant_a)
    complete(api, s3, tenant_a, export_id)
    with api.client(tenant_b.token) as http:
        seen = http.get(f"{PATH}/{export_id}")
        listed = http.get(PATH).json()
        deleted = http.delete(f"{PATH}/{export_id}")
    unknown = httpx.get(f"{api.base_url}{PATH}/987654321", headers=_auth(tenant_b))
    assert seen.status_code == deleted.status_code == 404
    assert seen.json() == unknown.json()  # indistinguishable from an id that does not exist
    assert listed["data"] == []
    with api.client(tenant_a.token) as http:
        assert poll_until(api, http, export_id, "completed")["export_id"] == export_id


def _auth(space: Space) -> dict[str, str]:
    return {"Authorization": f"Bearer {space.token}"}


def test_list_is_newest_first_paginated_and_filterable(
    api: ApiServer, s3: S3Server, space: Space
) -> None:
    ids = [create(api, space) for _ in range(3)]
    complete(api, s3, space, ids[1])
    with api.client(space.token) as http:
        poll_until(api, http, ids[1], "completed")
        first = http.get(PATH, params={"per_page": 2}).json()
        second = http.get(first["next_page_url"]).json()
        back = http.get(second["prev_page_url"]).json()
        completed = http.get(PATH, params={"status": "completed"}).json()
        bad_cursor = http.get(PATH, params={"cursor": "bm9wZQ"})
        # A cursor issued before prev_cursor existed still pages forward.
        legacy = http.get(PATH, params={"per_page": 2, "cursor": _cursor(before_id=ids[1])})
    assert [e["export_id"] for e in first["data"]] == [ids[2], ids[1]]
    assert first["per_page"] == 2
    assert first["next_cursor"]
    assert first["prev_cursor"] is None
    assert [e["export_id"] for e in second["data"]] == [ids[0]]
    assert second["next_cursor"] is None
    assert second["next_page_url"] is None
    assert back["data"] == first["data"]
    assert back["prev_cursor"] is None
    assert legacy.json()["data"] == second["data"]
    assert [e["export_id"] for e in completed["data"]] == [ids[1]]
    assert completed["data"][0]["download_url"].startswith(s3.endpoint_url)
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["error"].startswith("cursor:")


def _cursor(**position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("per_page", "pages"),
    [
        (1, [[4], [3], [2], [1], [0]]),  # every page exactly full, the last one too
        (2, [[4, 3], [2, 1], [0]]),
        (5, [[4, 3, 2, 1, 0]]),
    ],
)
def test_list_pages_back_through_exactly_the_pages_seen_forward(
    api: ApiServer, space: Space, per_page: int, pages: list[list[int]]
) -> None:
    ids = [create(api, space) for _ in range(5)]  # five: what a space may create a minute
    with api.client(space.token) as http:
        url = str(httpx.URL(PATH, params={"status": "queued", "per_page": per_page}))
        seen = walk_both_ways(http, url)
    assert [[e["export_id"] for e in page["data"]] for page in seen] == [
        [ids[i] for i in page] for page in pages
    ]


def test_a_tampered_backward_cursor_is_a_422(api: ApiServer, space: Space) -> None:
    for _ in range(2):
        create(api, space)
    with api.client(space.token) as http:
        first = http.get(PATH, params={"per_page": 1}).json()
        backward_cursor = http.get(first["next_page_url"]).json()["prev_cursor"]
        answers = [
            http.get(PATH, params={"per_page": 1, "cursor": cursor})
            for cursor in tampered(backward_cursor)
        ]
    for answer in answers:
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"].startswith("cursor: not a cursor this API issued")


def test_delete_removes_a_finished_export_and_leaves_its_file_to_the_operator(
    api: ApiServer, s3: S3Server, space: Space
) -> None:
    export_id = create(api, space)
    key = complete(api, s3, space, export_id)
    with api.client(space.token) as http:
        poll_until(api, http, export_id, "completed")
        response = http.delete(f"{PATH}/{export_id}")
        assert response.status_code == 204
        assert response.content == b""
        assert http.get(f"{PATH}/{export_id}").status_code == 404
        assert http.delete(f"{PATH}/{export_id}").status_code == 404
    # The operator's finalizer deletes the file once the Job is surely stopped; the API never does.
    listing = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=key)
    assert listing.get("KeyCount", 0) == 1
    with pytest.raises(client.exceptions.ApiException) as gone:
        client.CustomObjectsApi(api.kube_api).get_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, PLURAL, resource_name(export_id)
        )
    assert gone.value.status == 404


def test_delete_cancels_a_queued_export(api: ApiServer, space: Space) -> None:
    export_id = create(api, space)
    with api.client(space.token) as http:
        assert http.delete(f"{PATH}/{export_id}").status_code == 204
        assert http.get(f"{PATH}/{export_id}").status_code == 404


def test_the_31st_status_poll_within_a_minute_is_429(api: ApiServer, space: Space) -> None:
    export_id = create(api, space)
    with api.client(space.token) as http:
        answers = until_refused(lambda: http.get(f"{PATH}/{export_id}"), limit=30)
    assert answers[-2].headers["X-RateLimit-Remaining"] == "0"
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert answers[-1].json()["error"].startswith("Too many requests")


def test_cache_follows_restarted_watches_and_a_fresh_cache_lists_everything(
    api: ApiServer, space: Space
) -> None:
    cache = _CountingCache(api, watch_timeout_seconds=1)
    cache.start()
    try:
        assert cache.wait_synced(10)
        export_id = create(api, space)
        _wait(lambda: len(cache.watches) >= 3, "two watch timeouts, each followed by a new watch")
        assert cache.lists == 1  # each watch resumed where the one before it ended
        patch_status(api, export_id, {"state": "Processing", "reason": "Running"})
        _wait(lambda: (r := cache.get(export_id)) is not None and r.status.state == "Processing")
        client.CustomObjectsApi(api.kube_api).delete_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, PLURAL, resource_name(export_id)
        )
        _wait(lambda: cache.get(export_id) is None)
    finally:
        cache.stop()
    restarted = ExportCache(api.kube_api, NAMESPACE, watch_timeout_seconds=30)
    survivor = create(api, space)
    restarted.start()
    try:
        assert restarted.wait_synced(10)
        assert restarted.get(survivor) is not None
    finally:
        restarted.stop()


class _CountingCache(ExportCache):
    """Counts its lists and records the resourceVersion each of its watches started from."""

    def __init__(self, api: ApiServer, watch_timeout_seconds: int) -> None:
        super().__init__(api.kube_api, NAMESPACE, watch_timeout_seconds)
        self.lists = 0
        self.watches: list[str] = []

    def _relist(self) -> str:
        self.lists += 1
        return super()._relist()

    def _follow(self, resource_version: str) -> str | None:
        self.watches.append(resource_version)
        return super()._follow(resource_version)


class _ExpiringCache(ExportCache):
    """Resumes its first watch from resourceVersion 1, long compacted: the server answers 410."""

    def __init__(self, api: ApiServer) -> None:
        super().__init__(api.kube_api, NAMESPACE, watch_timeout_seconds=30)
        self.lists = 0

    def _relist(self) -> str:
        current = super()._relist()
        self.lists += 1
        return "1" if self.lists == 1 else current


def test_cache_recovers_from_an_expired_watch_by_listing_again(
    api: ApiServer, space: Space
) -> None:
    cache = _ExpiringCache(api)
    cache.start()
    try:
        _wait(lambda: cache.lists >= 2)  # the 410 made it list again
        later = create(api, space)  # seen only through the watch that followed the new list
        _wait(lambda: cache.get(later) is not None)
    finally:
        cache.stop()
    assert cache.lists == 2


def _wait(condition: Callable[[], bool], what: str = "the cache catching up") -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within 10 s"
        time.sleep(0.05)


def test_the_cache_hands_an_archived_export_to_its_hook_and_not_a_deleted_one(
    api: ApiServer, space: Space
) -> None:
    """What the cache drops because it was archived stays answerable by the replica (its recent
    records) while PostgreSQL blips; an export deleted, or still running, does not."""
    handed: list[ExportRecord] = []
    cache = ExportCache(api.kube_api, NAMESPACE, watch_timeout_seconds=30, archived=handed.append)
    objects = client.CustomObjectsApi(api.kube_api)

    def patch(export_id: int, body: dict[str, Any]) -> None:
        objects.patch_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, PLURAL, resource_name(export_id), body
        )

    cache.start()
    try:
        assert cache.wait_synced(10)
        archived, deleted, running, last = (create(api, space) for _ in range(4))
        for export_id in (archived, deleted, last):
            patch_status(api, export_id, {"state": "Failed", "reason": "BadRequest"})
        patch_status(api, running, {"state": "Processing", "reason": "Running"})
        _wait(lambda: all(cache.get(n) is not None for n in (archived, deleted, running, last)))
        for export_id in (archived, running):
            patch(export_id, {"metadata": {"labels": {ARCHIVED_LABEL: "true"}}})
        # Held as the operator's finalizer holds every export it has seen: deleting, then gone.
        patch(deleted, {"metadata": {"finalizers": ["tests.companies.dev/hold"]}})
        objects.delete_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, PLURAL, resource_name(deleted)
        )
        patch(deleted, {"metadata": {"finalizers": None}})
        patch(last, {"metadata": {"labels": {ARCHIVED_LABEL: "true"}}})
        _wait(lambda: len(handed) >= 2)  # events arrive in order: all of the above are applied
    finally:
        cache.stop()
    assert [(record.export_id, record.status.state) for record in handed] == [
        (archived, "Failed"),
        (last, "Failed"),
    ]
