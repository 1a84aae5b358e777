"""The hand-over of finished exports to PostgreSQL, and answers for them once their object is gone.

As in test_exports, these tests write status the way the operator does, and delete objects the
way its retention does; every crash point of the hand-over is played: the row written but the
label not (a replica died between them), PostgreSQL unreachable (nothing labelled, so nothing may
be deleted), and a DELETE racing the archiving.
"""

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from kubernetes import client

from export_api.resources import export_manifest
from export_contracts.resource import (
    ARCHIVED_LABEL,
    GROUP,
    PLURAL,
    VERSION,
    CompanyExportSpec,
    RequestedRange,
    UtcRange,
    resource_name,
)
from local_cluster.process import free_port
from local_cluster.s3 import S3Server
from tests.api.conftest import NAMESPACE, ApiServer, Space, api_settings, running_api
from tests.api.test_exports import PATH, complete, create
from tests.cluster_objects import ensure_namespace
from tests.conftest import KubeCluster

pytestmark = pytest.mark.integration


def _object(api: ApiServer, export_id: int, namespace: str = NAMESPACE) -> dict[str, Any] | None:
    try:
        obj: dict[str, Any] = client.CustomObjectsApi(api.kube_api).get_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, resource_name(export_id)
        )
    except client.exceptions.ApiException as error:
        if error.status == 404:
            return None
        raise
    return obj


def _archived(api: ApiServer, export_id: int, namespace: str = NAMESPACE) -> bool:
    obj = _object(api, export_id, namespace)
    return obj is not None and obj["metadata"].get("labels", {}).get(ARCHIVED_LABEL) == "true"


def _wait(condition: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.1)


def _rows(db: psycopg.Connection, export_id: int) -> list[tuple[Any, ...]]:
    return db.execute(
        "SELECT state, records, message, deleted_at FROM export_archive WHERE export_id = %s",
        (export_id,),
    ).fetchall()


def _forget_object(api: ApiServer, export_id: int, namespace: str = NAMESPACE) -> None:
    """What the operator's retention does once the object is archived: delete it."""
    client.CustomObjectsApi(api.kube_api).delete_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, resource_name(export_id)
    )
    _wait(lambda: _object(api, export_id, namespace) is None, "the object's deletion")


def test_a_finished_export_is_archived_once_and_answers_after_its_object_is_gone(
    api: ApiServer, s3: S3Server, space: Space, db: psycopg.Connection
) -> None:
    export_id = create(api, space)
    assert _rows(db, export_id) == []  # in flight: nothing archived
    complete(api, s3, space, export_id, sha256="ab" * 32)
    _wait(lambda: _archived(api, export_id), "the archived label")
    assert [row[:2] for row in _rows(db, export_id)] == [("Completed", 1)]

    _forget_object(api, export_id)

    with api.client(space.token) as http:
        answer = http.get(f"{PATH}/{export_id}").json()
        listed = http.get(PATH, params={"status": "completed"}).json()["data"]
        assert httpx.get(answer["download_url"]).status_code == 200
    assert (answer["status"], answer["record_count"]) == ("completed", 1)
    assert export_id in [item["export_id"] for item in listed]
    assert len(_rows(db, export_id)) == 1


def test_past_its_retention_an_archived_export_reads_expired_without_a_url(
    api: ApiServer, s3: S3Server, space: Space
) -> None:
    export_id = create(api, space)
    soon = datetime.now(UTC) + timedelta(seconds=2)
    complete(api, s3, space, export_id, expiresAt=soon.strftime("%Y-%m-%dT%H:%M:%SZ"))
    _wait(lambda: _archived(api, export_id), "the archived label")
    _forget_object(api, export_id)
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.5)

    with api.client(space.token) as http:
        answer = http.get(f"{PATH}/{export_id}").json()
        expired = [
            i["export_id"] for i in http.get(PATH, params={"status": "expired"}).json()["data"]
        ]
        done = [
            i["export_id"] for i in http.get(PATH, params={"status": "completed"}).json()["data"]
        ]
    assert answer["status"] == "expired"
    assert answer.get("download_url") is None
    assert export_id in expired
    assert export_id not in done


def test_a_row_written_by_a_replica_that_died_before_labelling_is_kept_and_labelled(
    api: ApiServer, s3: S3Server, space: Space, db: psycopg.Connection
) -> None:
    export_id = create(api, space)
    # The dead replica's commit: the row, with a message of its own to tell it apart.
    db.execute(
        "INSERT INTO export_archive (export_id, space_id, state, message, created_at, records) "
        "VALUES (%s, %s, 'Completed', 'written before the crash', now(), 1)",
        (export_id, space.id),
    )
    complete(api, s3, space, export_id)

    _wait(lambda: _archived(api, export_id), "the archived label")
    assert _rows(db, export_id) == [("Completed", 1, "written before the crash", None)]


def test_a_deleted_export_stays_404_however_the_archiving_races(
    api: ApiServer, second_replica: ApiServer, s3: S3Server, space: Space, db: psycopg.Connection
) -> None:
    export_id = create(api, space)
    complete(api, s3, space, export_id)
    with api.client(space.token) as http:
        assert http.delete(f"{PATH}/{export_id}").status_code == 204
    # A replica that saw the object finished before the DELETE archives it after: still gone.
    db.execute(
        "INSERT INTO export_archive (export_id, space_id, state, created_at) "
        "VALUES (%s, %s, 'Completed', now()) ON CONFLICT (export_id) DO NOTHING",
        (export_id, space.id),
    )
    [(_state, _records, _message, deleted_at)] = _rows(db, export_id)
    assert deleted_at is not None
    for replica in (api, second_replica):
        with replica.client(space.token) as http:
            assert http.get(f"{PATH}/{export_id}").status_code == 404
            listed = [item["export_id"] for item in http.get(PATH).json()["data"]]
        assert export_id not in listed


@pytest.fixture
def lone_namespace(api: ApiServer) -> Iterator[str]:
    """A namespace of its own, so that only the replica under test archives its exports."""
    name = f"archive-{uuid.uuid4().hex[:8]}"
    ensure_namespace(api.kube_api, name)
    yield name
    client.CoreV1Api(api.kube_api).delete_namespace(name)


def _finished_object(api: ApiServer, namespace: str, space: Space, export_id: int) -> None:
    now = datetime.now(UTC)
    spec = CompanyExportSpec(
        export_id=export_id,
        space_id=space.id,
        requested=RequestedRange(
            start_date="2024-01-15 00:00:00", end_date="2024-01-15 23:59:59", timezone="UTC"
        ),
        range=UtcRange(start=now - timedelta(days=1), end=now),
    )
    client.CustomObjectsApi(api.kube_api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, export_manifest(spec)
    )
    client.CustomObjectsApi(api.kube_api).patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, resource_name(export_id),
        {"status": {"state": "Failed", "reason": "JobLost", "message": "lost",
                    "completedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ")}},
    )  # fmt: skip


def test_while_postgresql_is_unreachable_nothing_is_labelled_then_everything_is(
    api: ApiServer,
    kube: KubeCluster,
    s3: S3Server,
    space: Space,
    db: psycopg.Connection,
    lone_namespace: str,
) -> None:
    nowhere = f"postgresql://api:pw@127.0.0.1:{free_port()}/exports"
    cut_off = api_settings(kube, nowhere, s3, export_namespace=lone_namespace)
    allocated = db.execute("SELECT nextval('export_ids')").fetchone()
    assert allocated is not None
    export_id = allocated[0]
    with running_api(cut_off, api.kube_api) as replica:
        _finished_object(api, lone_namespace, space, export_id)
        database = replica.app.state.services.database
        _wait(lambda: not database.healthy, "the archiver's failed attempt")
        time.sleep(1.5)  # another pass or more
        assert not _archived(api, export_id, lone_namespace)  # so the operator keeps it
        assert _rows(db, export_id) == []

    reachable = api_settings(
        kube, str(api.settings.database_url), s3, export_namespace=lone_namespace
    )
    with running_api(reachable, api.kube_api):
        _wait(lambda: _archived(api, export_id, lone_namespace), "the archived label")
    assert [row[:3] for row in _rows(db, export_id)] == [("Failed", None, "lost")]


def test_past_the_history_window_a_record_is_purged_and_answers_404(
    api: ApiServer, kube: KubeCluster, s3: S3Server, space: Space, db: psycopg.Connection
) -> None:
    old, recent = create(api, space), create(api, space)
    for export_id in (old, recent):
        complete(api, s3, space, export_id)
        _wait(lambda: _archived(api, export_id), "the archived label")  # noqa: B023
        _forget_object(api, export_id)
    for export_id, age in ((old, "91 days"), (recent, "89 days")):
        db.execute(
            "UPDATE export_archive SET archived_at = now() - %s::interval WHERE export_id = %s",
            (age, export_id),
        )

    ninety_days = api_settings(kube, str(api.settings.database_url), s3, history_days=90)
    with running_api(ninety_days, api.kube_api):  # a replica's first pass purges
        _wait(lambda: _rows(db, old) == [], "the purge of the record past the window")
    with api.client(space.token) as http:
        assert http.get(f"{PATH}/{old}").status_code == 404
        assert http.get(f"{PATH}/{recent}").json()["status"] == "completed"
    assert len(_rows(db, recent)) == 1
