"""Fixtures of the API's tests: the schema migrated, the CRD applied, and the API served by uvicorn.

The API runs in this process (a thread), on a free loopback port, against the session's real
PostgreSQL, S3 and Kubernetes API server; tests talk to it over HTTP as any client would.
"""

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from kubernetes import client, config

from export_api.admin import create_space, issue_key, revoke_key
from export_api.app import create_app
from export_api.auth import Scope
from export_api.server import server_config
from export_api.settings import ApiSettings
from export_database.migrate import migrate
from local_cluster.postgres import Postgres
from local_cluster.process import free_port
from local_cluster.s3 import S3Server
from tests.cluster_objects import apply_crd, ensure_namespace
from tests.conftest import KubeCluster

NAMESPACE = "api-tests"
PUBLIC_URL = "https://exports.example.com"


@dataclass(frozen=True)
class ApiServer:
    base_url: str
    settings: ApiSettings
    app: Any
    kube_api: client.ApiClient

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)


@dataclass(frozen=True)
class Space:
    id: int
    timezone: str
    key_id: int
    token: str  # exports:read and exports:write


def until_refused(send: Callable[[], httpx.Response], limit: int) -> list[httpx.Response]:
    """Sends until the first 429 (at most 2 x limit); checks the budget was exactly `limit`.

    A limit of N a minute gives one request back every 60/N s, so on a slow machine a run that
    takes longer than that may legitimately get one more through: those are counted, not guessed.
    """
    started = time.monotonic()
    answers: list[httpx.Response] = []
    while len(answers) < 2 * limit and (not answers or answers[-1].status_code != 429):
        answers.append(send())
    regained = int((time.monotonic() - started) / (60 / limit))
    assert answers[-1].status_code == 429, [a.status_code for a in answers]
    assert limit <= len(answers) - 1 <= limit + regained, (len(answers), regained)
    assert {a.status_code for a in answers[:-1]} <= {200, 202}
    return answers


def walk_both_ways(http: httpx.Client, first_url: str) -> list[dict[str, Any]]:
    """Pages forward from `first_url` to the last page, then back to the first by prev_cursor.

    Checks what a client of a Laravel cursor paginator relies on: the first page has no prev and
    the last no next; going back shows each page as it was going forward (same items, same
    order) and ends on a first page without prev; from a page reached going back, next leads
    forward again; every page URL is this request with the cursor, other parameters kept.
    Returns the pages seen going forward (each list request is one of the space's budget).
    """
    forward = [_get(http, first_url)]
    while forward[-1]["next_cursor"]:
        forward.append(_get(http, forward[-1]["next_page_url"]))
    backward = [forward[-1]]
    while backward[-1]["prev_cursor"]:
        backward.append(_get(http, _with_cursor(first_url, backward[-1]["prev_cursor"])))
    backward.reverse()
    assert [page["data"] for page in backward] == [page["data"] for page in forward]
    assert forward[0]["prev_cursor"] is None
    for page, following in zip(backward[:-1], forward[1:], strict=True):
        assert _get(http, page["next_page_url"])["data"] == following["data"]
    for page in forward + backward:
        for kind in ("next", "prev"):
            _check_page_url(page[f"{kind}_page_url"], page[f"{kind}_cursor"], first_url)
    return forward


def _check_page_url(url: str | None, cursor: str | None, first_url: str) -> None:
    if cursor is None:
        assert url is None
        return
    assert url is not None
    got, want = httpx.URL(url), httpx.URL(_with_cursor(first_url, cursor))
    assert (got.path, got.params) == (want.path, want.params)


def _get(http: httpx.Client, url: str) -> dict[str, Any]:
    response = http.get(url)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _with_cursor(url: str, cursor: str) -> str:
    return str(httpx.URL(url).copy_set_param("cursor", cursor))


def tampered(cursor: str) -> list[str]:
    """Versions of a cursor a client might have altered: each must be refused as a 422."""
    position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    altered = [
        {**position, "points_to_next_items": "sideways"},
        {**dict.fromkeys(position, "x"), "points_to_next_items": False},
    ]
    encoded = [base64.urlsafe_b64encode(json.dumps(a).encode()).decode() for a in altered]
    return [*encoded, cursor[:-4], cursor + "x"]


@pytest.fixture(scope="session")
def api_database(postgres: Postgres) -> str:
    migrate(postgres.url)
    return postgres.url


@pytest.fixture(scope="session")
def kube_api(kube: KubeCluster) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(str(kube.kubeconfig))
    apply_crd(api)
    ensure_namespace(api, NAMESPACE)
    yield api
    api.close()


def api_settings(
    kube: KubeCluster, database_url: str, s3: S3Server, **overrides: Any
) -> ApiSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "kubeconfig": str(kube.kubeconfig),
        "export_namespace": NAMESPACE,
        "export_bucket": s3.bucket,
        "s3_endpoint_url": s3.endpoint_url,
        "aws_default_region": s3.region,
        "aws_access_key_id": s3.access_key,
        "aws_secret_access_key": s3.secret_key,
        "watch_timeout_seconds": 30,
        # Every replica of a deployment has the same; any of them may queue an export's webhooks.
        "public_url": PUBLIC_URL,
    }
    return ApiSettings(**{**values, **overrides})


def _serve(settings: ApiSettings) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Starts the API on a free port in a thread; returns once it accepts requests."""
    port = free_port()
    # Served as `export-api` serves it (protocol guard, limits, keep-alive), so what the tests
    # see of the HTTP layer is what clients see.
    server = uvicorn.Server(server_config(create_app(settings), "127.0.0.1", port))
    thread = threading.Thread(target=server.run, name=f"api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API did not start; see the log above")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def _stop(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(timeout=30)


@contextmanager
def running_api(settings: ApiSettings, kube_api: client.ApiClient) -> Iterator[ApiServer]:
    """One API replica (its own pool, cache and clients) for the duration of the block."""
    server, thread, base_url = _serve(settings)
    try:
        yield ApiServer(base_url, settings, server.config.app, kube_api)
    finally:
        _stop(server, thread)


@pytest.fixture(scope="session")
def api(
    kube: KubeCluster, kube_api: client.ApiClient, api_database: str, s3: S3Server
) -> Iterator[ApiServer]:
    with running_api(api_settings(kube, api_database, s3), kube_api) as api:
        yield api


@pytest.fixture(scope="module")
def second_replica(
    kube: KubeCluster, kube_api: client.ApiClient, api_database: str, s3: S3Server
) -> Iterator[ApiServer]:
    """Another API process's worth: its own pools, cache and clients, the same database."""
    with running_api(api_settings(kube, api_database, s3), kube_api) as api:
        yield api


@pytest.fixture(scope="module")
def broken_replica(
    kube: KubeCluster, kube_api: client.ApiClient, api_database: str, s3: S3Server
) -> Iterator[ApiServer]:
    """A replica configured for a namespace that does not exist: creating an export fails."""
    settings = api_settings(kube, api_database, s3, export_namespace="no-such-namespace")
    with running_api(settings, kube_api) as api:
        yield api


@pytest.fixture
def db(api_database: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(api_database, autocommit=True) as conn:
        yield conn


@pytest.fixture
def new_space(db: psycopg.Connection) -> Callable[..., Space]:
    """Makes a space (fresh rate-limit budgets) with a read+write key."""

    def make(timezone: str = "Europe/Berlin", name: str = "test space") -> Space:
        space_id = create_space(db, name, timezone)
        key_id, token = issue_key(db, space_id, list(Scope))
        return Space(space_id, timezone, key_id, token)

    return make


@pytest.fixture
def space(new_space: Callable[..., Space]) -> Space:
    return new_space()


@pytest.fixture
def revoke(db: psycopg.Connection) -> Callable[[int], None]:
    return lambda key_id: None if revoke_key(db, key_id) else pytest.fail("nothing revoked")
