"""uvicorn's httptools protocol with a bound on the request head (request line and headers).

httptools buffers a header until it ends, and uvicorn sets no limit: one request with a 20 MB
header value is parsed and served, holding the whole value in memory. This protocol answers
431 and closes the connection, before parsing, once a head cannot end within MAX_HEAD_BYTES. (The
bytes of a pipelined request that share a read with the previous request are not counted, so its
bound is the limit plus one read.) A proxy in front, if any, usually caps heads at 8-16 KiB too.
"""

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from export_api.errors import error_body

# Our clients send a bearer key, a content type and perhaps an Idempotency-Key: well under 1 KiB.
MAX_HEAD_BYTES = 16 * 1024


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    _reading_head: bool  # between a request's first byte and the end of its headers
    _head_bytes: int  # bytes of the head read so far
    _tail: bytes  # the last bytes read, where a blank line may have begun

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._start_head()
        super().connection_made(transport)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._start_head()  # the next bytes begin the next request (keep-alive, pipelining)
        super().on_message_complete()

    def data_received(self, data: bytes) -> None:
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

    def _refuse(self) -> None:
        message = (
            f"request head: larger than {MAX_HEAD_BYTES} bytes; send only the Authorization, "
            "Content-Type and Idempotency-Key headers this API reads."
        )
        body = json.dumps(error_body(message)).encode()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + body
        )
        self.transport.close()
