"""The API SIGKILLed while clients create: a retry with the same Idempotency-Key gets one export."""

import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.faults.harness import (
    Product,
    Requested,
    Space,
    audit,
    day_range,
    idempotency_keys,
    orphan_export,
    wait_until_final,
)

pytestmark = pytest.mark.e2e

CLIENTS = 3
CREATES_PER_CLIENT = 5
KILLS = 2


def _create_with_keys(product: Product, space: Space, first_day: int) -> dict[str, Requested]:
    """One client's creates; each retried with its key until answered (through API restarts)."""
    client = space.client(product.api_url)
    created = {}
    try:
        for day in range(first_day, first_day + CREATES_PER_CLIENT):
            key = str(uuid.uuid4())
            created[key] = client.create(day_range(day, 1), idempotency_key=key)
    finally:
        client.close()
    return created


def test_retries_with_the_same_idempotency_key_create_one_export(
    product: Product, space: Space, figures: list[str]
) -> None:
    chance = random.Random(7)
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [
            pool.submit(_create_with_keys, product, space, n * CREATES_PER_CLIENT)
            for n in range(CLIENTS)
        ]
        for _kill in range(KILLS):
            time.sleep(chance.uniform(0.2, 1.5))
            assert product.restart_component("api") == 1
        by_key = {key: asked for future in futures for key, asked in future.result().items()}
    assert len({asked.export_id for asked in by_key.values()}) == len(by_key)

    # Asked again, each key names its export; the cluster holds exactly one object per key.
    client = space.client(product.api_url)
    for key, asked in by_key.items():
        assert client.create(asked.body, idempotency_key=key).export_id == asked.export_id
    client.close()
    objects = idempotency_keys(product)
    assert {key: objects.get(key) for key in by_key} == dict.fromkeys(by_key, 1)

    requested = list(by_key.values())
    final = wait_until_final(product.api_url, requested, timeout=300)
    assert audit(product, requested, final) == {"completed": len(requested)}
    figures.append(
        f"faults: API SIGKILLed {KILLS} times during {len(requested)} creates: one export per "
        "Idempotency-Key"
    )


def test_a_retry_adopts_the_export_of_a_create_that_died_before_its_commit(
    product: Product, space: Space, figures: list[str]
) -> None:
    # What an API killed between creating the object and committing the key's row leaves behind.
    key = str(uuid.uuid4())
    body = day_range(3, 1)
    orphan = orphan_export(product, space, body, key)

    client = space.client(product.api_url)
    retried = client.create(body, idempotency_key=key)
    again = client.create(body, idempotency_key=key)
    client.close()
    assert retried.export_id == again.export_id == orphan.export_id
    assert idempotency_keys(product)[key] == 1
    final = wait_until_final(product.api_url, [retried], timeout=120)
    assert audit(product, [retried], final) == {"completed": 1}
    figures.append("faults: a create interrupted before its commit: the retry adopted its export")
