"""Talking to the HTTP API as a well-behaved client does, for the e2e tests: a "retry later"
answer (429 over a rate limit, 503 while the database or the cluster does not answer) is
retried after its Retry-After, as the API asks."""

import time
from collections.abc import Callable
from typing import Any

import httpx

EXPORTS_PATH = "/public-api/v1/companies/exports"
RETRY_LATER = frozenset({429, 503})


def answered(send: Callable[[], httpx.Response], timeout: float = 120) -> httpx.Response:
    """The first answer to `send()` that is not "retry later", or the last one at `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        response = send()
        if response.status_code not in RETRY_LATER or time.monotonic() > deadline:
            return response
        time.sleep(float(response.headers["Retry-After"]))


def wait_for_export(
    api: httpx.Client, export_id: int, timeout: float = 180, interval: float = 0.5
) -> dict[str, Any]:
    """Polls until the export is completed or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = answered(lambda: api.get(f"{EXPORTS_PATH}/{export_id}"), timeout)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(interval)
    raise AssertionError(f"export {export_id} did not finish in {timeout} s")
