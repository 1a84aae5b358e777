"""uvicorn's httptools protocol with bounds on reading a request: its head's size, and its time.

httptools buffers a header until it ends, and uvicorn sets no limit: one request with a 20 MB
header value is parsed and served, holding the whole value in memory. This protocol answers
431 and closes the connection, before parsing, once a head cannot end within MAX_HEAD_BYTES. (The
bytes of a pipelined request that share a read with the previous request are not counted, so its
bound is the limit plus one read.) A proxy in front, if any, usually caps heads at 8-16 KiB too.

uvicorn also waits forever for a request that is sent halfway (slowloris): its keep-alive timer
only runs between requests. Here a request must arrive whole, head and body, within
REQUEST_READ_SECONDS of its first byte; else the client gets 408 and the connection is closed.
"""

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from export_api.errors import error_body

# Our clients send a bearer key, a content type and perhaps an Idempotency-Key: well under 1 KiB.
MAX_HEAD_BYTES = 16 * 1024
# A head under 1 KiB and a body of at most 64 KiB (middleware.MAX_BODY_BYTES): seconds suffice.
REQUEST_READ_SECONDS = 10.0


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    _reading_head: bool  # between a request's first byte and the end of its headers
    _head_bytes: int  # bytes of the head read so far
    _tail: bytes  # the last bytes read, where a blank line may have begun
    _read_deadline: asyncio.TimerHandle | None = None  # runs while a request is being read

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._start_head()
        super().connection_made(transport)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._cancel_read_deadline()
        self._start_head()  # the next bytes begin the next request (keep-alive, pipelining)
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_read_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._read_deadline is None:  # the first bytes of a request
            self._read_deadline = self.loop.call_later(REQUEST_READ_SECONDS, self._read_too_slow)
        if self._reading_head:
            if self._head_overflows(data):
                self._refuse()
                return
            self._head_bytes += len(data)
            self._tail = (self._tail + data)[-3:]
        super().data_received(data)

    def _start_head(self) -> None:
        self._reading_head, self._head_bytes, self._tail = True, 0, b""

    def _head_overflows(self, data: bytes) -> bool:
        """True when the head cannot end (blank line) within MAX_HEAD_BYTES, this read included."""
        room = MAX_HEAD_BYTES - self._head_bytes
        return len(data) > room and b"\r\n\r\n" not in self._tail + data[:room]

    def _cancel_read_deadline(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_too_slow(self) -> None:
        self._read_deadline = None
        answering = self.cycle is not None and not self.cycle.response_complete
        if answering and self.cycle.response_started:
            self.transport.close()  # the app is answering this request already: cut it short
            return
        self._answer_and_close(
            b"408 Request Timeout",
            f"request: not received whole within {REQUEST_READ_SECONDS:g} s of its first byte; "
            "send the head and body at once.",
        )

    def _refuse(self) -> None:
        self._cancel_read_deadline()
        self._answer_and_close(
            b"431 Request Header Fields Too Large",
            f"request head: larger than {MAX_HEAD_BYTES} bytes; send only the Authorization, "
            "Content-Type and Idempotency-Key headers this API reads.",
        )

    def _answer_and_close(self, status: bytes, message: str) -> None:
        body = json.dumps(error_body(message)).encode()
        self.transport.write(
            b"HTTP/1.1 " + status + b"\r\n"
            b"content-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + body
        )
        self.transport.close()
