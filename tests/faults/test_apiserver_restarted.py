"""kube-apiserver restarted while exports run: the operator and the API's watch cache recover."""

import pytest

from tests.faults.harness import (
    Product,
    Space,
    audit,
    day_range,
    request_exports,
    wait_until_final,
    wait_until_processing,
)

pytestmark = pytest.mark.e2e


def test_no_status_is_lost_across_an_apiserver_restart(
    product: Product, space: Space, figures: list[str]
) -> None:
    requested = request_exports(
        product.api_url, space, (day_range(day, 3) for day in range(0, 24, 3))
    )
    wait_until_processing(product, requested[0].export_id)
    # Jobs finish while it is down; their exports are recorded (and seen by the API) afterwards.
    product.restart_apiserver(down_seconds=5)
    final = wait_until_final(product.api_url, requested, timeout=240)
    assert audit(product, requested, final) == {"completed": len(requested)}
    code, readiness = product.readiness()
    assert code == 200, readiness
    figures.append(
        f"faults: kube-apiserver down 5 s under {len(requested)} exports: all completed, "
        "the API's cache caught up"
    )
