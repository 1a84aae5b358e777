"""An exporter's process SIGKILLed mid-export: the Job retries, the file is whole and unique."""

import pytest

from tests.faults.harness import (
    EXPORTER_ATTEMPTS,
    Product,
    Space,
    audit,
    day_range,
    request_exports,
    wait_until_final,
    wait_until_no_upload_running,
    wait_until_uploading,
)

pytestmark = pytest.mark.e2e


def test_a_killed_exporter_is_retried_and_leaves_one_whole_file(
    product: Product, large_space: Space, figures: list[str]
) -> None:
    requested = request_exports(product.api_url, large_space, [day_range(0, 30)])
    export_id = requested[0].export_id
    wait_until_uploading(product, timeout=120)  # mid-export: its upload is open
    assert product.kill_exporter(export_id) == 1
    final = wait_until_final(product.api_url, requested, timeout=180)
    assert audit(product, requested, final) == {"completed": 1}
    assert final[export_id]["download_url"]
    phases = sorted(pod.status.phase for pod in product.exporter_pods(export_id))
    assert phases == ["Failed", "Succeeded"]
    figures.append("faults: exporter SIGKILLed mid-upload: one retry, one whole file")


def test_an_export_whose_every_attempt_is_killed_fails_and_leaves_no_upload(
    product: Product, large_space: Space, figures: list[str]
) -> None:
    requested = request_exports(product.api_url, large_space, [day_range(0, 30)])
    export_id = requested[0].export_id
    killed: frozenset[str] = frozenset()
    for _attempt in range(EXPORTER_ATTEMPTS):
        killed |= {wait_until_uploading(product, timeout=120, ignore=killed)}
        assert product.kill_exporter(export_id) == 1
        wait_until_no_upload_running(product, export_id)
    final = wait_until_final(product.api_url, requested, timeout=120)
    assert audit(product, requested, final) == {"failed": 1}
    assert "failed 3 times" in final[export_id]["message"]
    figures.append("faults: every exporter attempt SIGKILLed: failed, and no upload left open")
