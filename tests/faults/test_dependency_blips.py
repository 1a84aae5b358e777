"""PostgreSQL, then the Kubernetes API server, down for 10 s each under status polls.

The API's replicas stay ready (their caches answer), polls of exports they know keep answering
200, creates answer 503 with Retry-After, and nothing else is a 5xx.
"""

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from tests.faults.harness import (
    EXPORTS_PATH,
    Product,
    Space,
    day_range,
    request_exports,
    wait_until_final,
)

pytestmark = pytest.mark.e2e

OUTAGE_SECONDS = 10.0


@pytest.fixture
def two_api_replicas(product: Product) -> Iterator[None]:
    """The local install runs one API replica; the blips must leave every replica in the Service."""
    product.scale("api", 2)
    try:
        yield
    finally:
        product.scale("api", 1)


@pytest.mark.usefixtures("two_api_replicas")
def test_replicas_stay_ready_and_known_exports_answer_through_database_and_apiserver_blips(
    product: Product, space: Space, figures: list[str]
) -> None:
    assert len(product.component_pods("api")) == 2
    requested = request_exports(product.api_url, space, [day_range(0, 1), day_range(1, 1)])
    final = wait_until_final(product.api_url, requested, timeout=120)
    assert {answer["status"] for answer in final.values()} == {"completed"}
    ids = [asked.export_id for asked in requested]
    # Each poll on a new connection, so that kube-proxy spreads them over every replica and
    # each replica verifies the key and reads the exports once before the outage.
    for _ in range(20):
        assert all(_poll(product.api_url, space, export_id).status_code == 200 for export_id in ids)
    ready_since = _api_ready_since(product)

    postgres = product.stack.postgres
    control_plane = product.stack.control_plane
    outages: dict[str, Counter[str]] = {}
    outages["database"] = _under_load(
        product, space, ids, lambda: _database_down(product, OUTAGE_SECONDS),
        down=lambda: _refuses(postgres.host, postgres.port),
    )  # fmt: skip
    outages["kube-apiserver"] = _under_load(
        product, space, ids, lambda: product.restart_apiserver(OUTAGE_SECONDS),
        down=lambda: _refuses(control_plane.network.host_address, control_plane.apiserver_port),
    )  # fmt: skip

    for dependency, answers in outages.items():
        assert answers["poll 200"] > 0, (dependency, answers)
        assert answers["create 503"] > 0, (dependency, answers)
        unexpected = {kind: n for kind, n in answers.items() if kind not in _EXPECTED}
        assert not unexpected, (dependency, answers)
    product.wait_for_api()
    assert _api_ready_since(product) == ready_since  # no replica left the Service
    figures.append(
        "faults: PostgreSQL, then kube-apiserver, down 10 s each under status polls, two API "
        "replicas: " + "; ".join(f"{dep}: {dict(answers)}" for dep, answers in outages.items())
    )


_EXPECTED = {"poll 200", "create 503", "ready 200"} | {
    f"slowest {kind} (ms)" for kind in ("poll", "ready", "create")
}


def _poll(api_url: str, space: Space, export_id: int) -> httpx.Response:
    headers = {"Authorization": f"Bearer {space.api_key}"}
    return httpx.get(f"{api_url}{EXPORTS_PATH}/{export_id}", headers=headers, timeout=15)


def _database_down(product: Product, seconds: float) -> None:
    product.stop_postgres()
    try:
        time.sleep(seconds)
    finally:
        product.start_postgres()


def _refuses(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) != 0


def _under_load(
    product: Product,
    space: Space,
    ids: list[int],
    outage: Callable[[], None],
    down: Callable[[], bool],
) -> Counter[str]:
    """Polls, readiness checks and creates, sent from when `down` holds (a stopping server
    finishes its sessions first) until `outage` returns: what each answered."""
    answers: Counter[str] = Counter()
    done = threading.Event()
    outage_thread = threading.Thread(target=lambda: (outage(), done.set()))
    outage_thread.start()
    deadline = time.monotonic() + 30
    while not down():
        assert time.monotonic() < deadline, "the dependency did not go down within 30 s"
        time.sleep(0.1)
    headers = {"Authorization": f"Bearer {space.api_key}"}
    while not done.is_set():
        for export_id in ids:
            _count(answers, "poll", lambda i=export_id: _poll(product.api_url, space, i), down)
        _count(answers, "ready", lambda: httpx.get(f"{product.api_url}/readyz", timeout=5), down)
        created = _count(answers, "create", down=down, send=lambda: httpx.post(
            f"{product.api_url}{EXPORTS_PATH}", json=day_range(2, 1), headers=headers, timeout=30
        ))  # fmt: skip
        if created.status_code == 503:
            assert created.headers["Retry-After"], created.headers
        time.sleep(0.2)
    outage_thread.join()
    return answers


def _count(
    answers: Counter[str], kind: str, send: Callable[[], httpx.Response], down: Callable[[], bool]
) -> httpx.Response:
    """Sends, counts the answer by kind and status, and keeps the slowest time of each kind.

    An answer that arrives once the dependency is back is not counted: a create sent during the
    outage may rightly succeed when its retry meets the restarted server.
    """
    started = time.monotonic()
    response = send()
    if not down():
        return response
    answers[f"{kind} {response.status_code}"] += 1
    slowest = f"slowest {kind} (ms)"
    answers[slowest] = max(answers[slowest], round((time.monotonic() - started) * 1000))
    return response


def _api_ready_since(product: Product) -> dict[str, datetime]:
    """Each API Pod's Ready condition's last transition: unchanged means it never left."""
    since = {}
    for pod in product.component_pods("api"):
        ready = next(c for c in pod.status.conditions or [] if c.type == "Ready")
        assert ready.status == "True", pod.metadata.name
        since[pod.metadata.name] = ready.last_transition_time.astimezone(UTC)
    return since
