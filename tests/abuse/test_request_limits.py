"""The request limits on the real server, as `export-api` configures it (export_api.server), with
short read limits so each case takes about a second.

The API's own routes need a cluster (tests/abuse/test_hostile_input.py checks them on one); here
a small app reads the body and answers with its length, behind the same body middleware. If a
uvicorn release changed how it builds, feeds or writes through its protocol, these fail.
"""

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from export_api.middleware import MAX_BODY_BYTES, BodyLimits
from export_api.protocol import MAX_HEAD_BYTES, RequestLimits
from export_api.server import server_config
from local_cluster.process import free_port

pytestmark = pytest.mark.unit

READ_SECONDS = 1.0
# How late an answer to a slow client may come: the limit, plus scheduling on a busy machine.
LATE_SECONDS = 2.0
# How early: the event loop's timer may fire a little before the test's clock says the limit is
# up (CI measured 0.99995 s for a 1 s limit).
EARLY_SECONDS = 0.01


async def body_length_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body and answers 200 with its length; runs no lifespan of its own."""
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    length, more = 0, True
    while more:
        message = await receive()
        length += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = json.dumps({"bytes": length}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def address() -> Iterator[tuple[str, int]]:
    port = free_port()
    app = BodyLimits(body_length_app, read_seconds=READ_SECONDS)
    limits = RequestLimits(read_seconds=READ_SECONDS)
    server = uvicorn.Server(server_config(app, "127.0.0.1", port, limits))
    thread = threading.Thread(target=server.run, name="request-limits", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting; see the log above"
        assert time.monotonic() < deadline, "the server did not start within 30 s"
        time.sleep(0.05)
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(timeout=30)


class Connection:
    """A raw connection: requests no HTTP client would send, answers read one at a time (several
    may arrive in one read when requests are pipelined)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._answers: BinaryIO = sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self, timeout: float = 5) -> tuple[int, bytes, bytes]:
        """Status, header block and body of the next answer."""
        self.sock.settimeout(timeout)
        status_line = self._answers.readline()
        assert status_line, "the server closed the connection without an answer"
        head = [status_line]
        while (line := self._answers.readline()) not in (b"\r\n", b""):
            head.append(line)
        lengths = [int(h.split(b":")[1]) for h in head if h.lower().startswith(b"content-length:")]
        body = self._answers.read(lengths[0]) if lengths else b""
        return int(status_line[9:12]), b"".join(head), body

    def refused(self, status: int, timeout: float = 5) -> str:
        """Reads an answer of `status` in our error shape and the hang-up after it; its message."""
        answered, head, body = self.answer(timeout)
        assert answered == status, body
        assert b"connection: close" in head.lower()
        assert self._answers.read(1) == b""  # and the server closed the connection
        error: str = json.loads(body)["error"]
        return error

    def served(self) -> int:
        """Reads a 200 of the app; the body length it read."""
        status, _, body = self.answer()
        assert status == 200, body
        length: int = json.loads(body)["bytes"]
        return length


@contextmanager
def connection(address: tuple[str, int]) -> Iterator[Connection]:
    with socket.create_connection(address, timeout=10) as sock:
        yield Connection(sock)


def _get(*headers: bytes) -> bytes:
    lines = [b"GET / HTTP/1.1", b"Host: api", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _post(body: bytes, *headers: bytes) -> bytes:
    lines = [b"POST / HTTP/1.1", b"Host: api", b"Content-Length: %d" % len(body), *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _post_chunked_head() -> bytes:
    return b"POST / HTTP/1.1\r\nHost: api\r\nTransfer-Encoding: chunked\r\n\r\n"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def test_the_defaults_are_the_documented_limits() -> None:
    config = server_config(body_length_app, "127.0.0.1", 0)
    limits = getattr(config.http, "limits", None)
    assert limits == RequestLimits(max_head_bytes=16 * 1024, read_seconds=10)
    assert MAX_HEAD_BYTES == 16 * 1024
    assert MAX_BODY_BYTES == 64 * 1024
    assert config.timeout_keep_alive == 5


@pytest.mark.parametrize(
    "head",
    [
        _get(b"X-Big: " + b"a" * (MAX_HEAD_BYTES + 1)).removesuffix(b"\r\n\r\n"),  # unfinished
        _get(*(b"X-H%d: v" % number for number in range(5000))),  # finished, but too long
    ],
    ids=["one-huge-header", "many-headers"],
)
def test_an_oversized_head_is_431(address: tuple[str, int], head: bytes) -> None:
    with connection(address) as api:
        api.send(head)
        assert "larger than 16384 bytes" in api.refused(431)


def test_a_head_under_the_limit_is_served(address: tuple[str, int]) -> None:
    with connection(address) as api:
        api.send(_get(b"X-Padding: " + b"a" * (MAX_HEAD_BYTES - 100)))
        assert api.served() == 0


def test_a_slow_head_is_408_after_the_read_limit(address: tuple[str, int]) -> None:
    with connection(address) as api:
        started = time.monotonic()
        api.send(b"GET / HTTP/1.1\r\nHost: api\r\nX-Slow: ")
        assert "not received whole within 1 s" in api.refused(408, READ_SECONDS + LATE_SECONDS)
        elapsed = time.monotonic() - started
        assert READ_SECONDS - EARLY_SECONDS <= elapsed < READ_SECONDS + LATE_SECONDS


def test_a_slow_head_after_an_answered_request_is_408(address: tuple[str, int]) -> None:
    with connection(address) as api:
        api.send(_get())
        assert api.served() == 0
        time.sleep(READ_SECONDS + 0.2)  # idle longer than a head may take: its clock starts anew
        api.send(b"GET / HTTP/1.1\r\nHost: api\r\nX-Slow: ")
        api.refused(408, READ_SECONDS + LATE_SECONDS)


def test_a_slow_body_is_408_after_the_read_limit(address: tuple[str, int]) -> None:
    with connection(address) as api:
        started = time.monotonic()
        api.send(_post(b"x" * 100)[:-90])  # the head and 10 of the 100 bytes announced
        assert "request body" in api.refused(408, READ_SECONDS + LATE_SECONDS)
        elapsed = time.monotonic() - started
        assert READ_SECONDS - EARLY_SECONDS <= elapsed < READ_SECONDS + LATE_SECONDS


def test_an_oversized_chunked_body_is_413(address: tuple[str, int]) -> None:
    chunk = b"x" * 16384
    with connection(address) as api:
        api.send(_post_chunked_head())
        for _ in range(MAX_BODY_BYTES // len(chunk) + 1):  # one chunk past the limit, no end
            api.send(_chunk(chunk))
        assert "larger than 65536 bytes" in api.refused(413)


def test_an_oversized_declared_body_is_413_before_it_is_sent(address: tuple[str, int]) -> None:
    with connection(address) as api:
        api.send(_post(b"").replace(b"Content-Length: 0", b"Content-Length: 100000000"))
        api.refused(413)


def test_bodies_at_the_limit_are_served_on_one_connection(address: tuple[str, int]) -> None:
    body = b"x" * MAX_BODY_BYTES
    with connection(address) as api:
        api.send(_post(body))
        assert api.served() == MAX_BODY_BYTES
        # Neither body holds a blank line: each next head is told from them all the same.
        api.send(_post_chunked_head() + _chunk(body) + _chunk(b""))
        assert api.served() == MAX_BODY_BYTES
        api.send(_get())
        assert api.served() == 0


def test_pipelined_requests_are_each_served(address: tuple[str, int]) -> None:
    with connection(address) as api:
        api.send(_post(b"abc") + _get() + _post(b"abcdef"))
        assert [api.served() for _ in range(3)] == [3, 0, 6]


def test_a_body_after_100_continue_is_not_taken_for_a_head(address: tuple[str, int]) -> None:
    body = b"x" * (MAX_HEAD_BYTES * 2)  # past the head's limit, within the body's
    with connection(address) as api:
        api.send(_post(body, b"Expect: 100-continue").removesuffix(body))
        status, _, _ = api.answer()
        assert status == 100
        api.send(body)
        assert api.served() == len(body)


@pytest.mark.parametrize(
    "head",
    [
        _get(b"bad(name): value"),  # a header name that is not a token
        _get(b"Content-Length: -G9"),  # a length that is not a number
        b"GET / HTTP/1.1 extra\r\nHost: api\r\n\r\n",  # a malformed request line
    ],
    ids=["header-name", "content-length", "request-line"],
)
def test_a_request_http_cannot_parse_is_400_in_our_error_shape(
    address: tuple[str, int], head: bytes
) -> None:
    with connection(address) as api:
        api.send(head)
        assert "not valid HTTP/1.1" in api.refused(400)
