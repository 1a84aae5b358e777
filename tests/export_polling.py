"""Polling an export through the HTTP API as a well-behaved client does, for the e2e tests."""

import time
from typing import Any

import httpx

EXPORTS_PATH = "/public-api/v1/companies/exports"


def wait_for_export(
    api: httpx.Client, export_id: int, timeout: float = 180, interval: float = 0.5
) -> dict[str, Any]:
    """Polls until the export is completed or failed; waits as a 429's Retry-After says."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = api.get(f"{EXPORTS_PATH}/{export_id}")
        if response.status_code == 429:  # polled the space's status limit away
            time.sleep(float(response.headers["Retry-After"]))
            continue
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(interval)
    raise AssertionError(f"export {export_id} did not finish in {timeout} s")
