"""Webhook endpoints through the API, and events of exports finishing through to a receiver.

Endpoint management: the secret shown once, URLs refused at registration (not https, internal
addresses, names resolving to them), one space never seeing another's endpoints or deliveries,
scopes. Events: an export completing, failing and expiring (status written as the operator
writes it) reaches the receiver through the archiver's outbox and a real dispatcher, signed; a
deleted export's expiry is cancelled.
"""

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from kubernetes import client
from standardwebhooks import Webhook

from export_api.admin import issue_key
from export_api.auth import Scope
from local_cluster.s3 import S3Server
from local_cluster.webhook_receiver import Receiver
from tests.api.conftest import (
    PUBLIC_URL,
    ApiServer,
    Space,
    api_settings,
    running_api,
    walk_both_ways,
)
from tests.api.test_exports import PATH as EXPORTS
from tests.api.test_exports import complete, create, patch_status
from tests.conftest import Dispatch, KubeCluster

pytestmark = pytest.mark.integration

ENDPOINTS = "/public-api/v1/webhook-endpoints"


@pytest.fixture(scope="module")
def hooks_api(
    kube: KubeCluster,
    kube_api: client.ApiClient,
    api_database: str,
    s3: S3Server,
    receiver: Receiver,
) -> Iterator[ApiServer]:
    """A replica that lets webhook URLs point at the test receiver's address."""
    settings = api_settings(
        kube,
        api_database,
        s3,
        webhook_allowed_networks=f"{receiver.host}/32",
        webhook_endpoints_per_space=3,
    )
    with running_api(settings, kube_api) as api:
        yield api


def _register(
    api: ApiServer, space: Space, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    with api.client(space.token) as http:
        response = http.post(ENDPOINTS, json={"url": url, "events": events or ["export.completed"]})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _path() -> str:
    return f"/ok/{uuid.uuid4().hex}/"


def test_an_endpoint_is_created_with_its_secret_shown_once_then_listed_read_and_deleted(
    hooks_api: ApiServer, space: Space, receiver: Receiver
) -> None:
    created = _register(hooks_api, space, receiver.url(_path()), ["export.completed"])
    assert created["secret"].startswith("whsec_")
    assert created["status"] == "enabled"
    assert created["events"] == ["export.completed"]
    shown = {key: value for key, value in created.items() if key != "secret"}
    with hooks_api.client(space.token) as http:
        read = http.get(f"{ENDPOINTS}/{created['id']}").json()
        listed = http.get(ENDPOINTS).json()
        assert http.delete(f"{ENDPOINTS}/{created['id']}").status_code == 204
        gone = http.get(f"{ENDPOINTS}/{created['id']}")
        again = http.delete(f"{ENDPOINTS}/{created['id']}")
    assert read == shown
    assert listed == {"data": [shown]}
    assert created["secret"] not in json.dumps(listed)
    assert gone.status_code == again.status_code == 404
    assert "Webhook endpoint not found in your space" in gone.json()["error"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/", "url: the URL must start with https://"),
        ("https://127.0.0.2/hook", "url: webhook address 127.0.0.2 is loopback"),
        ("https://localhost/hook", "url: webhook address localhost ("),
        ("https://127.0.0.1/hook", "url: webhook address 127.0.0.1 is loopback"),
        ("https://169.254.169.254/latest", "is link-local (cloud metadata lives here)"),
        ("https://10.0.0.8/hook", "url: webhook address 10.0.0.8 is private"),
        ("https://[fd00::1]/hook", "is private"),
        ("https://me:pw@hooks.example.com/", "holds credentials"),
    ],
)
def test_urls_webhooks_may_not_go_to_are_refused_at_registration(
    api: ApiServer, space: Space, url: str, message: str
) -> None:
    """On a replica that allows public addresses only, as installs do by default."""
    with api.client(space.token) as http:
        response = http.post(ENDPOINTS, json={"url": url, "events": ["export.completed"]})
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"url": "https://8.8.8.8/"}, "events"),
        ({"url": "https://8.8.8.8/", "events": []}, "events"),
        ({"url": "https://8.8.8.8/", "events": ["export.started"]}, "events"),
        ({"url": "https://8.8.8.8/", "events": ["export.failed"] * 2}, "names an event twice"),
        ({"url": 7, "events": ["export.failed"]}, "url"),
        ({"url": "https://8.8.8.8/", "events": ["export.failed"], "secret": "x"}, "secret"),
    ],
)
def test_malformed_bodies_are_422_naming_the_field(
    hooks_api: ApiServer, space: Space, body: dict[str, Any], message: str
) -> None:
    with hooks_api.client(space.token) as http:
        response = http.post(ENDPOINTS, json=body)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]


def test_a_space_sees_only_its_own_endpoints_and_deliveries(
    hooks_api: ApiServer, new_space: Callable[..., Space], receiver: Receiver
) -> None:
    owner, other = new_space(), new_space()
    endpoint = _register(hooks_api, owner, receiver.url(_path()))
    base = f"{ENDPOINTS}/{endpoint['id']}"
    with hooks_api.client(other.token) as http:
        answers = [
            http.get(base),
            http.get(f"{base}/deliveries"),
            http.post(f"{base}/rotate-secret", json={}),
            http.post(f"{base}/enable"),
            http.delete(base),
        ]
        assert http.get(ENDPOINTS).json() == {"data": []}
    assert [answer.status_code for answer in answers] == [404] * 5
    with hooks_api.client(owner.token) as http:
        assert http.get(base).status_code == 200  # the other space's DELETE did nothing


def test_managing_endpoints_takes_the_write_scope_and_reading_them_the_read_scope(
    hooks_api: ApiServer, space: Space, db: psycopg.Connection, receiver: Receiver
) -> None:
    _, read_only = issue_key(db, space.id, [Scope.EXPORTS_READ])
    endpoint = _register(hooks_api, space, receiver.url(_path()))
    with hooks_api.client(read_only) as http:
        assert http.get(ENDPOINTS).status_code == 200
        refused = http.post(
            ENDPOINTS, json={"url": receiver.url("/x"), "events": ["export.failed"]}
        )
        assert http.delete(f"{ENDPOINTS}/{endpoint['id']}").status_code == 403
    assert refused.status_code == 403
    assert "lacks the exports:write scope" in refused.json()["error"]


def test_a_space_has_at_most_the_configured_number_of_endpoints(
    hooks_api: ApiServer, space: Space, receiver: Receiver
) -> None:
    for _ in range(3):
        _register(hooks_api, space, receiver.url(_path()))
    with hooks_api.client(space.token) as http:
        response = http.post(
            ENDPOINTS, json={"url": receiver.url("/x"), "events": ["export.failed"]}
        )
    assert response.status_code == 422
    assert "has 3 webhook endpoints, the most it may have" in response.json()["error"]


def _deliveries(api: ApiServer, space: Space, endpoint_id: int) -> list[dict[str, Any]]:
    with api.client(space.token) as http:
        response = http.get(f"{ENDPOINTS}/{endpoint_id}/deliveries")
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def _wait_for(what: str, found: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := found()):
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.5)  # each poll spends one of the space's 30 status requests a minute
    return value


def test_an_export_completing_reaches_the_receiver_signed_and_its_expiry_follows(
    hooks_api: ApiServer, space: Space, s3: S3Server, receiver: Receiver, dispatcher: Dispatch
) -> None:
    path = _path()
    endpoint = _register(
        hooks_api, space, receiver.url(path), ["export.completed", "export.expired"]
    )
    dispatcher()
    export_id = create(hooks_api, space)
    expires_at = datetime.now(UTC) + timedelta(seconds=4)
    due = expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    complete(hooks_api, s3, space, export_id, expiresAt=due, sha256="5e" * 32)
    first = receiver.wait_for(path, 1)[0]
    event = Webhook(endpoint["secret"]).verify(first.body, first.headers)
    assert event["type"] == "export.completed"
    assert event["data"] == {
        "export_id": export_id,
        "status": "completed",
        "record_count": 1,
        "file_size": event["data"]["file_size"],
        "sha256": "5e" * 32,
        "completed_at": event["data"]["completed_at"],
        "url": f"{PUBLIC_URL}{EXPORTS}/{export_id}",
    }
    assert event["data"]["file_size"] > 0
    assert "X-Amz-Signature" not in first.body.decode()
    expiry = receiver.wait_for(path, 2, timeout=30)[1]
    assert time.time() >= expires_at.timestamp() - 1  # sent when due, not when queued
    expired = Webhook(endpoint["secret"]).verify(expiry.body, expiry.headers)
    assert (expired["type"], expired["data"]["status"]) == ("export.expired", "expired")
    log = _wait_for(
        "both deliveries logged as delivered",
        lambda: (
            (rows := _deliveries(hooks_api, space, endpoint["id"]))
            and {row["status"] for row in rows} == {"delivered"}
            and rows
        ),
    )
    assert [(row["event"], row["export_id"], row["attempts"]) for row in log] == [
        ("export.expired", export_id, 1),
        ("export.completed", export_id, 1),
    ]
    assert {row["id"] for row in log} == {first.webhook_id, expiry.webhook_id}


def test_a_failed_export_is_announced_and_a_deleted_exports_expiry_is_cancelled(
    hooks_api: ApiServer, space: Space, s3: S3Server, receiver: Receiver
) -> None:
    path = _path()
    endpoint = _register(hooks_api, space, receiver.url(path), ["export.failed", "export.expired"])
    failing, completing = create(hooks_api, space), create(hooks_api, space)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    patch_status(
        hooks_api,
        failing,
        {
            "state": "Failed",
            "reason": "BackoffLimitExceeded",
            "message": "the database refused",
            "completedAt": now,
        },
    )
    complete(hooks_api, s3, space, completing)
    queued = _wait_for(
        "both events queued",
        lambda: len(rows := _deliveries(hooks_api, space, endpoint["id"])) == 2 and rows,
    )
    assert {(row["event"], row["export_id"]) for row in queued} == {
        ("export.failed", failing),
        ("export.expired", completing),
    }
    expiry = next(row for row in queued if row["event"] == "export.expired")
    assert expiry["status"] == "pending"
    assert expiry["next_attempt_at"] is not None
    with hooks_api.client(space.token) as http:
        assert http.delete(f"{EXPORTS}/{completing}").status_code == 204
    rows = {row["export_id"]: row for row in _deliveries(hooks_api, space, endpoint["id"])}
    assert rows[completing]["status"] == "cancelled"
    assert rows[completing]["next_attempt_at"] is None
    assert rows[failing]["status"] == "pending"  # no dispatcher runs in this test
    assert receiver.received(path) == []


def test_rotating_the_secret_signs_with_both_until_the_overlap_ends(
    hooks_api: ApiServer, space: Space, s3: S3Server, receiver: Receiver, dispatcher: Dispatch
) -> None:
    path = _path()
    endpoint = _register(hooks_api, space, receiver.url(path))
    with hooks_api.client(space.token) as http:
        response = http.post(
            f"{ENDPOINTS}/{endpoint['id']}/rotate-secret", json={"overlap_seconds": 3600}
        )
        shown = http.get(f"{ENDPOINTS}/{endpoint['id']}").json()
    assert response.status_code == 200, response.text
    rotated = response.json()
    assert rotated["secret"] != endpoint["secret"]
    overlap_end = datetime.fromisoformat(rotated["previous_secret_expires_at"])
    assert timedelta(minutes=59) < overlap_end - datetime.now(UTC) <= timedelta(hours=1)
    assert shown["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]
    dispatcher()
    complete(hooks_api, s3, space, create(hooks_api, space))
    delivered = receiver.wait_for(path, 1)[0]
    assert len(delivered.headers["webhook-signature"].split(" ")) == 2
    for secret in (rotated["secret"], endpoint["secret"]):
        assert (
            Webhook(secret).verify(delivered.body, delivered.headers)["type"] == "export.completed"
        )


def test_an_endpoint_disabled_after_failing_says_why_and_can_be_enabled_again(
    hooks_api: ApiServer, space: Space, s3: S3Server, receiver: Receiver, dispatcher: Dispatch
) -> None:
    path = f"/fail-1000/{uuid.uuid4().hex}/"
    endpoint = _register(hooks_api, space, receiver.url(path))
    # The window counts from the export's completion; archiving and queueing may take a second
    # of it on a busy machine, and the test wants retries before it ends.
    dispatcher(WEBHOOK_RETRY_WINDOW_SECONDS="4")
    complete(hooks_api, s3, space, create(hooks_api, space))
    base = f"{ENDPOINTS}/{endpoint['id']}"
    with hooks_api.client(space.token) as http:
        disabled = _wait_for(
            "the endpoint disabled",
            lambda: (body := http.get(base).json())["status"] == "disabled" and body,
        )
        assert (
            "failed for the whole retry window; last error: answered 500"
            in (disabled["disabled_reason"])
        )
        assert "enable the endpoint again" in disabled["disabled_reason"]
        (failed,) = http.get(f"{base}/deliveries").json()["data"]
        assert (failed["status"], failed["last_status_code"]) == ("failed", 500)
        assert failed["attempts"] >= 2
        assert failed["next_attempt_at"] is None
        assert http.post(f"{base}/enable").status_code == 204
        enabled = http.get(base).json()
    assert (enabled["status"], enabled["disabled_reason"], enabled["disabled_at"]) == (
        "enabled",
        None,
        None,
    )


def test_the_delivery_log_pages_both_ways(
    hooks_api: ApiServer, space: Space, s3: S3Server, receiver: Receiver
) -> None:
    endpoint = _register(hooks_api, space, receiver.url(_path()), ["export.completed"])
    for _ in range(5):
        complete(hooks_api, s3, space, create(hooks_api, space))
    _wait_for(
        "five deliveries queued",
        lambda: len(_deliveries(hooks_api, space, endpoint["id"])) == 5,
    )
    with hooks_api.client(space.token) as http:
        pages = walk_both_ways(http, f"{ENDPOINTS}/{endpoint['id']}/deliveries?per_page=2")
    seen = [row["export_id"] for page in pages for row in page["data"]]
    assert [len(page["data"]) for page in pages] == [2, 2, 1]
    assert seen == [row["export_id"] for row in _deliveries(hooks_api, space, endpoint["id"])]
    assert len(set(seen)) == 5
