"""Bounds on reading a request's head, its size and its time, in front of uvicorn's own protocol.

httptools buffers a header until it ends, and uvicorn sets no limit: one request with a 20 MB
header value is parsed and served, holding the whole value in memory. uvicorn also waits forever
for a head sent halfway (slowloris): its keep-alive timer only runs between requests. So a head
that cannot end (blank line) within `max_head_bytes` is answered 431, and one not received whole
within `read_seconds` of its first byte 408, the connection closed each time. (The bytes of a
pipelined request that share a read with the previous request are not counted, so its bound is
the limit plus one read.) The body's bounds are the ASGI middleware's (`middleware.BodyLimits`).

`HeadLimits` wraps uvicorn's protocol rather than subclassing it: it speaks only asyncio's
Protocol and Transport interfaces, which uvicorn's `http=` option takes, passes every byte on
unchanged, and learns that a request has been answered when the protocol writes a response, so
the next bytes begin the next head. Nothing of uvicorn's internals is touched, and
tests/abuse/test_request_limits.py runs the real server to catch an upgrade that bypasses this.

A request the HTTP parser cannot read (a malformed request line, header name or length) is
answered 400 by uvicorn itself, in plain text; the write it makes is recognised here (a 400 in
text/plain: the app's own answers are JSON) and replaced by the same 400 in our error shape, so
every answer of the API has one shape and says what to do.
"""

import asyncio
import json
from collections.abc import Callable, Iterable
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from export_api.errors import error_body

# Our clients send a bearer key, a content type and perhaps an Idempotency-Key: well under 1 KiB.
MAX_HEAD_BYTES = 16 * 1024
# A head under 1 KiB and a body of at most 64 KiB (middleware.MAX_BODY_BYTES): seconds suffice.
REQUEST_READ_SECONDS = 10.0
_BLANK_LINE = b"\r\n\r\n"
# An interim answer (100 Continue) comes before the body: it does not end the request.
_INTERIM = b"HTTP/1.1 1"


class RequestLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_head_bytes: int = Field(default=MAX_HEAD_BYTES, gt=0)
    read_seconds: float = Field(default=REQUEST_READ_SECONDS, gt=0)


_UNPARSABLE = b"HTTP/1.1 400 "
_PLAIN_TEXT = b"content-type: text/plain"
UNPARSABLE_MESSAGE = (
    "request: not valid HTTP/1.1 (a malformed request line, header name, header value or "
    "Content-Length); send a well-formed request, as any HTTP client library does."
)


def answer(status: bytes, message: str) -> bytes:
    """A whole answer in our error shape that closes the connection."""
    body = json.dumps(error_body(message)).encode()
    return (
        b"HTTP/1.1 " + status + b"\r\n"
        b"content-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n\r\n" + body
    )


class _WriteWatch:
    """The connection's transport as the wrapped protocol sees it: every call passes through,
    and a write tells the guard that the request it read has been answered."""

    def __init__(self, transport: asyncio.Transport, on_write: Callable[[bytes], None]) -> None:
        self._transport = transport
        self._on_write = on_write

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._on_write(bytes(data[: len(_INTERIM)]))
        if bytes(data[: len(_UNPARSABLE)]) == _UNPARSABLE and _PLAIN_TEXT in bytes(data).lower():
            data = answer(b"400 Bad Request", UNPARSABLE_MESSAGE)
        self._transport.write(data)

    def writelines(self, chunks: Iterable[bytes | bytearray | memoryview]) -> None:
        self.write(b"".join(chunks))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HeadLimits(asyncio.Protocol):
    """uvicorn's httptools protocol behind the head limits; `with_limits` sets other limits."""

    limits = RequestLimits()

    def __init__(self, **uvicorn_arguments: Any) -> None:
        # Whatever uvicorn hands a protocol class (its config, server state, ...) goes on as is.
        self._inner = HttpToolsProtocol(**uvicorn_arguments)
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._refused = False
        self._start_head()

    @classmethod
    def with_limits(cls, limits: RequestLimits) -> type["HeadLimits"]:
        return type(cls.__name__, (cls,), {"limits": limits})

    # asyncio's Protocol interface, passed on to the wrapped protocol.
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream server's connection (uvloop's transports do not subclass asyncio's).
        self._transport = cast("asyncio.Transport", transport)
        watched = cast("asyncio.Transport", _WriteWatch(self._transport, self._answered))
        self._inner.connection_made(watched)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        self._inner.connection_lost(exc)

    def eof_received(self) -> None:
        self._inner.eof_received()  # uvicorn's protocols close on EOF (None): so do we

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # the answer is out and the connection closing: nothing more is read
        if self._reading_head and not self._read_head(data):
            return
        self._inner.data_received(data)

    # The head's bounds.
    def _start_head(self) -> None:
        self._reading_head, self._head_bytes, self._tail = True, 0, b""

    def _read_head(self, data: bytes) -> bool:
        """Counts a read of the head; False when it was refused."""
        if self._deadline is None:  # the first bytes of a head
            self._deadline = self._loop.call_later(self.limits.read_seconds, self._too_slow)
        room = self.limits.max_head_bytes - self._head_bytes
        if _BLANK_LINE in self._tail + data[:room]:
            self._reading_head = False  # the body, if any, is the middleware's to bound
            self._cancel_deadline()
            return True
        if len(data) > room:
            self._refuse(
                b"431 Request Header Fields Too Large",
                f"request head: larger than {self.limits.max_head_bytes} bytes; send only the "
                "Authorization, Content-Type and Idempotency-Key headers this API reads.",
            )
            return False
        self._head_bytes += len(data)
        self._tail = (self._tail + data)[-3:]
        return True

    def _answered(self, first_bytes: bytes) -> None:
        if not first_bytes.startswith(_INTERIM):
            self._cancel_deadline()
            self._start_head()  # the next bytes begin the next request (keep-alive)

    def _too_slow(self) -> None:
        self._deadline = None
        self._refuse(
            b"408 Request Timeout",
            f"request head: not received whole within {self.limits.read_seconds:g} s of its "
            "first byte; send the head and body at once.",
        )

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _refuse(self, status: bytes, message: str) -> None:
        self._cancel_deadline()
        self._refused = True
        assert self._transport is not None  # bytes arrive only on a made connection
        self._transport.write(answer(status, message))
        self._transport.close()
