"""The operator SIGKILLed at random points of many exports, then restarted by its Deployment."""

import random
import time

import pytest

from tests.faults.harness import Product, Space, audit, day_range, wait_until_final

pytestmark = pytest.mark.e2e

EXPORTS = 14
KILLS = 3


def test_every_export_completes_once_although_the_operator_is_killed(
    product: Product, space: Space, figures: list[str]
) -> None:
    chance = random.Random(20240301)
    client = space.client(product.api_url)
    started = time.monotonic()
    requested = []
    for number in range(EXPORTS):
        requested.append(client.create(day_range(number % 28, chance.randint(1, 3))))
    client.close()
    # Kills land while Jobs are created, admitted, running and being recorded as completed.
    for _kill in range(KILLS):
        time.sleep(chance.uniform(0.5, 4.0))
        assert product.restart_component("operator") == 1
    final = wait_until_final(product.api_url, requested, timeout=300)
    states = audit(product, requested, final)
    assert states == {"completed": EXPORTS}
    figures.append(
        f"faults: {EXPORTS} exports, operator SIGKILLed {KILLS} times: all completed once in "
        f"{time.monotonic() - started:.0f} s"
    )
