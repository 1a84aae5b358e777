"""PostgreSQL restarted while exports run, and down for longer than the exporter's retries."""

import time

import pytest

from tests.faults.harness import (
    Product,
    Space,
    add_space,
    audit,
    day_range,
    export_object,
    failed_exporter_pods,
    request_exports,
    wait_until_final,
    wait_until_processing,
)

pytestmark = pytest.mark.e2e


def test_exports_running_through_a_database_restart_retry_and_complete(
    product: Product, space: Space, figures: list[str]
) -> None:
    requested = request_exports(
        product.api_url, space, (day_range(day, 4) for day in range(0, 24, 4))
    )
    wait_until_processing(product, requested[0].export_id)
    product.stop_postgres()  # a fast shutdown: the exporters' connections break mid-COPY
    time.sleep(1)
    product.start_postgres()

    final = wait_until_final(product.api_url, requested, timeout=240)
    assert audit(product, requested, final) == {"completed": len(requested)}
    retried = failed_exporter_pods(product, requested)
    assert retried >= 1  # the restart did cut exports short
    figures.append(
        f"faults: PostgreSQL restarted under {len(requested)} exports: {retried} exporter Pods "
        "failed and were retried, all completed"
    )


def test_exports_fail_clearly_while_the_database_stays_down(
    product: Product, space: Space, figures: list[str]
) -> None:
    requested = request_exports(product.api_url, space, (day_range(day, 2) for day in (0, 10)))
    stranger = add_space(product.database_url, "never-seen", companies_per_day=0, days=0)
    product.stop_postgres()
    try:
        code, readiness = product.readiness()
        # Ready (it serves from its cache), and saying what is down.
        assert code == 200, readiness
        assert readiness["status"] == "degraded"
        assert readiness["checks"]["database"] == "unavailable"
        # A key no replica verified before the outage cannot be checked: 503, and it says so.
        client = stranger.client(product.api_url)
        down = client.raw_status(requested[0].export_id)
        client.close()
        assert down.status_code == 503, down.text
        assert "retry" in down.json()["error"]
        assert down.headers["Retry-After"]

        # Each Job retries once (10 s back-off), then its export fails saying why.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = [export_object(product, asked.export_id)["status"] for asked in requested]
            if all(state.get("state") == "Failed" for state in states):
                break
            time.sleep(1)
        for state in states:
            assert state.get("state") == "Failed", state
            assert state["reason"] == "BackoffLimitExceeded"
            assert "cannot connect to PostgreSQL" in state["message"], state["message"]
    finally:
        product.start_postgres()
    product.wait_for_api()
    final = wait_until_final(product.api_url, requested, timeout=60)
    for answer in final.values():
        assert answer["status"] == "failed"
        assert "cannot connect to PostgreSQL" in answer["message"]
    assert audit(product, requested, final) == {"failed": len(requested)}
    figures.append("faults: PostgreSQL down past the retries: exports failed with a clear message")
