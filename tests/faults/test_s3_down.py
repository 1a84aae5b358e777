"""The S3 server down during uploads: retried while it comes back, else a clean failure."""

import time

import pytest

from tests.faults.harness import (
    Product,
    Space,
    audit,
    day_range,
    export_object,
    request_exports,
    wait_until_final,
    wait_until_uploading,
)

pytestmark = pytest.mark.e2e


def test_an_upload_cut_by_an_s3_restart_is_retried_and_completes_whole(
    product: Product, large_space: Space, figures: list[str]
) -> None:
    # 150,000 companies: the upload stays open long enough for S3 to go down under it.
    requested = request_exports(product.api_url, large_space, [day_range(0, 30)])
    wait_until_uploading(product, timeout=120)
    product.stop_s3()
    time.sleep(2)
    product.start_s3()
    final = wait_until_final(product.api_url, requested, timeout=180)
    assert audit(product, requested, final) == {"completed": 1}
    figures.append("faults: S3 restarted during an upload: the export completed, whole, once")


def test_exports_fail_cleanly_while_s3_stays_down(
    product: Product, space: Space, figures: list[str]
) -> None:
    product.stop_s3()
    try:
        requested = request_exports(product.api_url, space, (day_range(day, 2) for day in (0, 10)))
        # The exporter retries each S3 call, the Job retries the exporter once, then it fails.
        deadline = time.monotonic() + 180
        states = [{}]
        while time.monotonic() < deadline:
            states = [export_object(product, asked.export_id)["status"] for asked in requested]
            if all(state.get("state") == "Failed" for state in states):
                break
            time.sleep(1)
        for state in states:
            assert state.get("state") == "Failed", state
            assert "S3" in state["message"], state["message"]
    finally:
        product.start_s3()
    final = wait_until_final(product.api_url, requested, timeout=60)
    assert audit(product, requested, final) == {"failed": len(requested)}
    figures.append("faults: S3 down past the retries: exports failed, no object or upload left")
