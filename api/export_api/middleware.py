"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware on the hot status-poll path).

- `RateLimitHeaders` puts X-RateLimit-Limit/-Remaining on every response of a rate-limited
  request, error responses included; the auth dependency leaves its decision in the request state.
- `RequestMetrics` counts requests and their latency per route template and status code.
- `BodySizeLimit` refuses a body over MAX_BODY_BYTES with 413 before anything reads or parses it.
"""

import time

from prometheus_client import Histogram
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from export_api.deps import RATE_LIMIT_STATE
from export_api.errors import error_body
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


class BodySizeLimit:
    """413 for a body over `max_bytes`: declared (Content-Length) or streamed (chunked).

    A declared length is checked before one byte is read; a chunked body is buffered up to the
    limit and replayed to the app, so nothing downstream ever holds more than `max_bytes`.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None:
            # The HTTP parser already refused a non-numeric length, and holds the body to it.
            if int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if "chunked" not in headers.get("transfer-encoding", "").lower():
            await self.app(scope, receive, send)  # no body
            return
        buffered = await self._read_at_most(receive)
        if buffered is None:
            await self._refuse(scope, receive, send)
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

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = (
            f"request body: larger than {self.max_bytes} bytes; "
            "a create request is a small JSON object with start_date and end_date."
        )
        # Close the connection: the rest of the body is never read.
        response = JSONResponse(error_body(message), 413, headers={"Connection": "close"})
        await response(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive that hands out the buffered messages first, then the connection's own."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
