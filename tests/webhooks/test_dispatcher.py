"""The dispatcher against real PostgreSQL and a real HTTPS receiver: what arrives, how often,
signed how, and what never leaves.

Every test uses paths of its own on the one receiver (`/ok/<uuid>/...`), so deliveries of
other tests (still retried by a later test's dispatcher) never count.
"""

import itertools
import json
import signal
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from export_api.webhook_models import CreatedWebhookEndpointResponse
from export_webhooks.events import EventType
from local_cluster.webhook_receiver import Receiver
from tests.conftest import Dispatch
from tests.webhooks.conftest import Outbox

pytestmark = pytest.mark.integration


def _path(kind: str) -> str:
    return f"/{kind}/{uuid.uuid4().hex}/"


def _queued(
    webhooks: Outbox, receiver: Receiver, kind: str, export_id: int
) -> tuple[str, CreatedWebhookEndpointResponse]:
    """A new endpoint at a path of `kind` on the receiver, with one export's event queued."""
    path = _path(kind)
    endpoint = webhooks.endpoint(receiver.url(path))
    webhooks.queue(export_id)
    return path, endpoint


def _wait(condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.05)


def test_each_event_reaches_each_subscribed_endpoint_once_with_a_valid_signature(
    webhooks: Outbox, receiver: Receiver, dispatcher: Dispatch
) -> None:
    completed_only, both = _path("ok"), _path("ok")
    first = webhooks.endpoint(receiver.url(completed_only), [EventType.EXPORT_COMPLETED])
    second = webhooks.endpoint(
        receiver.url(both), [EventType.EXPORT_COMPLETED, EventType.EXPORT_FAILED]
    )
    completed = webhooks.queue(1001)
    failed = webhooks.queue(1002, EventType.EXPORT_FAILED)
    dispatcher()
    got_first = receiver.wait_for(completed_only, 1)
    got_second = receiver.wait_for(both, 2)
    time.sleep(1.5)  # long enough for a duplicate or a stray event to show up
    assert len(receiver.received(completed_only)) == 1
    assert len(receiver.received(both)) == 2
    assert json.loads(got_first[0].body) == json.loads(completed.body())
    assert sorted(json.loads(item.body)["type"] for item in got_second) == [
        "export.completed",
        "export.failed",
    ]
    assert {json.loads(item.body)["data"]["export_id"] for item in got_second} == {1001, 1002}
    assert json.loads(failed.body())["type"] == "export.failed"
    for endpoint, items in ((first, got_first), (second, got_second)):
        for item in items:
            assert Webhook(endpoint.secret).verify(item.body, item.headers)
            assert item.headers["content-type"] == "application/json"
        rows = webhooks.deliveries(endpoint.id)
        assert {row["id"] for row in rows} == {item.webhook_id for item in items}
        assert [(r["state"], r["attempts"], r["last_status_code"]) for r in rows] == [
            ("delivered", 1, 204)
        ] * len(items)


def test_a_failing_receiver_gets_retries_with_the_same_id_until_it_accepts(
    webhooks: Outbox, receiver: Receiver, dispatcher: Dispatch
) -> None:
    path, endpoint = _queued(webhooks, receiver, "fail-2", 2001)
    dispatcher()
    attempts = receiver.wait_for(path, 3)
    _wait(lambda: webhooks.deliveries(endpoint.id)[0]["state"] == "delivered", "delivery")
    assert len({item.webhook_id for item in attempts}) == 1
    assert len({item.body for item in attempts}) == 1
    for item in attempts:
        assert Webhook(endpoint.secret).verify(item.body, item.headers)
    row = webhooks.deliveries(endpoint.id)[0]
    assert (row["attempts"], row["last_status_code"], row["last_error"]) == (3, 204, None)
    spacing = [b.at - a.at for a, b in itertools.pairwise(attempts)]
    assert all(gap >= 0.1 for gap in spacing), spacing  # backed off, at least half a step


def test_a_receiver_that_does_not_answer_in_time_is_retried_with_the_same_id(
    webhooks: Outbox, receiver: Receiver, dispatcher: Dispatch
) -> None:
    path, endpoint = _queued(webhooks, receiver, "slow-3", 3001)
    dispatcher(WEBHOOK_TIMEOUT_SECONDS="1")
    attempts = receiver.wait_for(path, 2)
    assert len({item.webhook_id for item in attempts}) == 1
    _wait(lambda: webhooks.deliveries(endpoint.id)[0]["last_error"] is not None, "the record")
    row = webhooks.deliveries(endpoint.id)[0]
    assert row["state"] == "pending"
    assert row["last_status_code"] is None
    assert row["last_error"] == "no complete answer within 1 s"


def test_nothing_goes_to_an_endpoint_once_deleted(
    webhooks: Outbox, receiver: Receiver, dispatcher: Dispatch
) -> None:
    path, endpoint = _queued(webhooks, receiver, "fail-1000", 4001)
    dispatcher()
    receiver.wait_for(path, 2)
    webhooks.delete(endpoint.id)
    deleted_at = time.time()
    webhooks.queue(4002)
    time.sleep(3)  # several backoff steps
    late = [item for item in receiver.received(path) if item.at > deleted_at + 2.1]
    assert late == []  # an attempt in flight at the delete may land; nothing after its timeout
    assert webhooks.deliveries(endpoint.id) == []


def test_deliveries_survive_killing_the_dispatcher_and_keep_their_ids(
    webhooks: Outbox, receiver: Receiver, dispatcher: Dispatch
) -> None:
    path = _path("slow-0.3")
    endpoint = webhooks.endpoint(receiver.url(path))
    for export_id in range(5001, 5013):
        webhooks.queue(export_id)
    queued = {row["id"] for row in webhooks.deliveries(endpoint.id)}
    first = dispatcher(WEBHOOK_ENDPOINT_CONCURRENCY="1")
    receiver.wait_for(path, 3)
    first.popen.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
    first.popen.wait(timeout=10)  # type: ignore[union-attr]
    dispatcher(WEBHOOK_ENDPOINT_CONCURRENCY="1")
    _wait(
        lambda: {row["state"] for row in webhooks.deliveries(endpoint.id)} == {"delivered"},
        "every delivery",
        timeout=40,
    )
    received = [item.webhook_id for item in receiver.received(path)]
    assert set(received) == queued  # every one arrived, and none under a new id
    assert len(received) - len(queued) <= 1  # at most the one in flight at the kill, twice


def test_a_slow_receiver_does_not_hold_up_other_endpoints(
    webhooks: Outbox, receiver: Receiver, dispatcher: Dispatch
) -> None:
    slow, quick = _path("slow-4"), _path("ok")
    webhooks.endpoint(receiver.url(slow))
    webhooks.endpoint(receiver.url(quick))
    for export_id in range(6001, 6009):
        webhooks.queue(export_id)
    dispatcher(
        WEBHOOK_CONCURRENCY="4", WEBHOOK_ENDPOINT_CONCURRENCY="2", WEBHOOK_TIMEOUT_SECONDS="10"
    )
    started = time.time()
    receiver.wait_for(quick, 8, timeout=10)
    assert len(receiver.received(slow)) == 2  # its cap, still waiting for answers
    assert max(item.at for item in receiver.received(quick)) - started < 3.5


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("127.0.0.1", "is loopback"),
        ("localhost", "is loopback"),
        ("[::1]", "is loopback"),
        ("169.254.169.254", "is link-local"),
        ("10.0.0.1", "is private"),
        ("192.168.1.1", "is private"),
        ("[::ffff:127.0.0.1]", "is loopback"),
    ],
)
def test_internal_addresses_are_refused_at_connect_time(
    webhooks: Outbox, receiver: Receiver, dispatcher: Dispatch, host: str, kind: str
) -> None:
    """As if the URL had passed registration and its name now resolved inside: nothing is sent
    (the check is made before any connection, so no packet leaves for these addresses)."""
    path = _path("ok")
    endpoint = webhooks.endpoint(f"https://{host}:{receiver.port}{path}")
    webhooks.queue(7001)
    dispatcher(allowed="")
    _wait(lambda: webhooks.deliveries(endpoint.id)[0]["attempts"] >= 2, "two attempts")
    row = webhooks.deliveries(endpoint.id)[0]
    assert kind in row["last_error"], row["last_error"]
    assert "webhooks go only to public addresses" in row["last_error"]
    assert row["last_status_code"] is None
    assert receiver.received(path) == []


def test_a_redirect_is_not_followed(
    webhooks: Outbox, receiver: Receiver, dispatcher: Dispatch
) -> None:
    path, endpoint = _queued(webhooks, receiver, "redirect", 8001)
    dispatcher()
    receiver.wait_for(path, 2)
    row = webhooks.deliveries(endpoint.id)[0]
    assert (row["state"], row["last_status_code"]) == ("pending", 302)
    assert row["last_error"] == "answered 302: redirects are not followed"


def test_an_endpoint_failing_for_the_whole_window_is_disabled_and_gets_no_new_events(
    webhooks: Outbox, receiver: Receiver, dispatcher: Dispatch
) -> None:
    _, endpoint = _queued(webhooks, receiver, "fail-1000", 9001)
    dispatcher(WEBHOOK_RETRY_WINDOW_SECONDS="1")
    _wait(lambda: webhooks.deliveries(endpoint.id)[0]["state"] == "failed", "giving up")
    row = webhooks.endpoint_row(endpoint.id)
    assert row["disabled_at"] is not None
    assert "failed for the whole retry window; last error: answered 500" in row["disabled_reason"]
    assert row["disabled_at"] <= datetime.now(UTC)
    webhooks.queue(9002)
    assert [r["export_id"] for r in webhooks.deliveries(endpoint.id)] == [9001]
