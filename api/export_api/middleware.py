"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware on the hot status-poll path).

- `RateLimitHeaders` puts X-RateLimit-Limit/-Remaining on every response of a rate-limited
  request, error responses included; the auth dependency leaves its decision in the request state.
- `RequestMetrics` counts requests and their latency per route template and status code.
"""

import time

from prometheus_client import Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from export_api.deps import RATE_LIMIT_STATE
from export_api.ratelimit import Decision

REQUEST_SECONDS = Histogram(
    "export_api_request_duration_seconds",
    "Time to answer a request, by route template, method and status code.",
    ["route", "method", "code"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


class RateLimitHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                decision = scope.get("state", {}).get(RATE_LIMIT_STATE)
                if isinstance(decision, Decision):
                    headers = MutableHeaders(scope=message)
                    for name, value in decision.headers().items():
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        code = 500  # if the app raises before answering

        async def send_recording(message: Message) -> None:
            nonlocal code
            if message["type"] == "http.response.start":
                code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUEST_SECONDS.labels(route, scope["method"], str(code)).observe(
                time.perf_counter() - started
            )
