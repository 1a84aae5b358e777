"""Webhook delivery latency: `make bench`'s `webhook delivery` rows.

On the scorecard's product (the chart on a local stack), with the operator scaled to 0: creates
`count` exports of the demo space as the operator leaves them, registers an endpoint for
export.completed through the API, then writes Completed into every export's status at once (16
threads), as the operator does when their Jobs end. From there the path is the product's: the
API's archiver sees them through its watch, archives each and queues its delivery in the same
transaction; the chart's dispatcher Pod sends them to a receiver on the machine's address on the
node's link (allowed, and its CA trusted, by the stack's values). A delivery's latency is its
arrival at the receiver minus the moment its export's status write returned.
"""

import json
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from kubernetes import client

from benchmarks.stored import completed_status, handled_manifest, operator_scaled_to_zero
from export_contracts.resource import GROUP, PLURAL, VERSION, resource_name
from local_cluster.webhook_receiver import receiver_pki, running_receiver
from tests.faults.harness import NAMESPACE, Product

WEBHOOK_ENDPOINTS = "/public-api/v1/webhook-endpoints"
_WRITERS = 16
_DELIVERY_TIMEOUT_SECONDS = 120.0


def delivery_latencies(product: Product, space_id: int, api_key: str, count: int) -> list[float]:
    """Seconds from each of `count` exports completing at once to its delivery, in export order."""
    env = product.stack.env
    pki = receiver_pki(Path(env.WEBHOOK_CA_BUNDLE).parent)
    path = f"/ok/{uuid.uuid4().hex}/"
    with running_receiver(pki, (env.HOST_ADDRESS,)) as receiver:
        _register(product.api_url, api_key, receiver.url(path))
        ids = _new_export_ids(product.database_url, count)
        objects = client.CustomObjectsApi(product.admin)
        with operator_scaled_to_zero(product):
            now = datetime.now(UTC)
            for export_id in ids:
                manifest = handled_manifest(export_id, space_id, now)
                objects.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, manifest)
            with ThreadPoolExecutor(_WRITERS) as pool:
                completed_at = dict(pool.map(lambda i: (i, _complete(objects, i, space_id)), ids))
            arrived = receiver.wait_for(path, count, timeout=_DELIVERY_TIMEOUT_SECONDS)
    delivered = {json.loads(item.body)["data"]["export_id"]: item.at for item in arrived}
    return [delivered[export_id] - completed_at[export_id] for export_id in ids]


def rows(latencies: list[float]) -> list[tuple[str, str, str]]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * len(ordered)) - 1)]
    note = (
        f"{len(latencies)} exports completing at once; completion (status write) -> receiver, "
        "through the API's archiver, the outbox and the chart's dispatcher Pod"
    )
    return [
        ("webhook delivery p50", f"{statistics.median(latencies):.2f} s", note),
        ("webhook delivery p99", f"{p99:.2f} s", f"max {ordered[-1]:.2f} s"),
    ]


def _register(api_url: str, api_key: str, url: str) -> None:
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as api:
        registered = api.post(WEBHOOK_ENDPOINTS, json={"url": url, "events": ["export.completed"]})
    registered.raise_for_status()


def _new_export_ids(database_url: str, count: int) -> range:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT setval('export_ids', nextval('export_ids') + %s)", (count,)
        ).fetchone()
    assert row is not None
    return range(row[0] - count + 1, row[0] + 1)


def _complete(objects: client.CustomObjectsApi, export_id: int, space_id: int) -> float:
    """Writes Completed as the operator does; returns when the write returned (time.time())."""
    status = completed_status(export_id, space_id, datetime.now(UTC))
    objects.patch_namespaced_custom_object_status(
        GROUP, VERSION, NAMESPACE, PLURAL, resource_name(export_id), {"status": status}
    )
    return time.time()
