"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware on the hot status-poll path).

- `RateLimitHeaders` puts X-RateLimit-Limit/-Remaining on every response of a rate-limited
  request, error responses included; the auth dependency leaves its decision in the request state.
- `RequestMetrics` counts requests and their latency per route template and status code.
- `BodyLimits` refuses a body over MAX_BODY_BYTES with 413, and one not received whole within
  REQUEST_READ_SECONDS of its head with 408, before anything parses it (the head's own limits are
  in `protocol`).
"""

import asyncio
import time

from prometheus_client import Histogram
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from export_api.deps import RATE_LIMIT_STATE
from export_api.errors import error_body
from export_api.protocol import REQUEST_READ_SECONDS
from export_api.ratelimit import Decision

REQUEST_SECONDS = Histogram(
    "export_api_request_duration_seconds",
    "Time to answer a request, by route template, method and status code.",
    ["route", "method", "code"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
# The largest body any endpoint takes is a create request of a few hundred bytes.
MAX_BODY_BYTES = 64 * 1024


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


class BodyLimits:
    """413 for a body over `max_bytes`, 408 for one not received whole within `read_seconds`.

    A declared length (Content-Length) over the limit is refused before one byte is read. Any
    other body, declared or chunked, is read here whole, against the clock, and replayed to the
    app: nothing downstream holds more than `max_bytes` or waits on a slow client. Each refusal
    closes the connection, as the rest of the body is never read.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        read_seconds: float = REQUEST_READ_SECONDS,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_seconds = read_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        # The HTTP parser already refused a non-numeric length, and holds the body to it.
        if declared is not None and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send, 413, self._too_large())
            return
        try:
            async with asyncio.timeout(self.read_seconds):
                buffered = await self._read_at_most(receive)
        except TimeoutError:
            await self._refuse(scope, receive, send, 408, self._too_slow())
            return
        if buffered is None:
            await self._refuse(scope, receive, send, 413, self._too_large())
            return
        await self.app(scope, _replay(buffered, receive), send)

    async def _read_at_most(self, receive: Receive) -> list[Message] | None:
        """The body's messages, or None as soon as they exceed the limit."""
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages  # the client went away: let the app see it
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return None
            if not message.get("more_body", False):
                return messages

    def _too_large(self) -> str:
        return (
            f"request body: larger than {self.max_bytes} bytes; "
            "a create request is a small JSON object with start_date and end_date."
        )

    def _too_slow(self) -> str:
        return (
            f"request body: not received whole within {self.read_seconds:g} s of the request's "
            "head; send the head and body at once."
        )

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, message: str
    ) -> None:
        response = JSONResponse(error_body(message), status, headers={"Connection": "close"})
        await response(scope, receive, send)


def _has_body(headers: Headers) -> bool:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return True
    return headers.get("content-length", "0") != "0"


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive that hands out the buffered messages first, then the connection's own."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
