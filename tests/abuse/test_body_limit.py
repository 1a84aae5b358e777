"""BodyLimits spoken to in plain ASGI: what reaches the app, and when it answers 413 or 408 itself.

The end-to-end checks against the real server are in test_hostile_input.py; these pin the edges
(exactly at the limit, chunked bodies, a client that leaves mid-body) without a server.
"""

import asyncio
import json
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from export_api.middleware import BodyLimits

pytestmark = pytest.mark.unit

LIMIT = 100


class RecordingApp:
    """Reads the whole body as an app would, and answers 200 with its length."""

    def __init__(self) -> None:
        self.called = False
        self.messages: list[Message] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        while True:
            message = await receive()
            self.messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.request")


def _scope(headers: dict[str, str]) -> Scope:
    raw = [(name.encode(), value.encode()) for name, value in headers.items()]
    return {"type": "http", "method": "POST", "path": "/", "headers": raw, "query_string": b""}


def _run(headers: dict[str, str], messages: list[Message]) -> tuple[RecordingApp, list[Any], int]:
    """Runs one request; returns the app, what was sent, and how many messages were read."""
    app, sent, pending = RecordingApp(), [], list(messages)
    read = 0

    async def receive() -> Message:
        nonlocal read
        read += 1
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(BodyLimits(app, max_bytes=LIMIT)(_scope(headers), receive, send))
    return app, sent, read


def _chunks(*sizes: int) -> list[Message]:
    return [
        {"type": "http.request", "body": b"x" * size, "more_body": number < len(sizes) - 1}
        for number, size in enumerate(sizes)
    ]


def _status(sent: list[Any]) -> int:
    status: int = sent[0]["status"]
    return status


def test_a_declared_length_over_the_limit_is_413_before_any_byte_is_read() -> None:
    app, sent, read = _run({"content-length": str(LIMIT + 1)}, _chunks(LIMIT + 1))
    assert not app.called
    assert read == 0
    assert _status(sent) == 413
    assert (b"connection", b"close") in sent[0]["headers"]
    assert "larger than 100 bytes" in json.loads(sent[1]["body"])["error"]


def test_a_declared_length_at_the_limit_reaches_the_app_untouched() -> None:
    app, sent, _ = _run({"content-length": str(LIMIT)}, _chunks(LIMIT))
    assert app.body == b"x" * LIMIT
    assert _status(sent) == 200


def test_a_chunked_body_within_the_limit_is_replayed_to_the_app() -> None:
    app, sent, _ = _run({"transfer-encoding": "chunked"}, _chunks(40, 40, 20))
    assert app.body == b"x" * LIMIT
    assert _status(sent) == 200


def test_a_chunked_body_past_the_limit_is_413_without_reading_the_rest() -> None:
    app, sent, read = _run({"transfer-encoding": "chunked"}, _chunks(60, 60, 1000, 1000))
    assert not app.called
    assert read == 2
    assert _status(sent) == 413


def test_a_client_leaving_mid_body_is_passed_on_to_the_app() -> None:
    messages = [*_chunks(10, 10)[:1], {"type": "http.disconnect"}]
    app, _, _ = _run({"transfer-encoding": "chunked"}, messages)
    assert [m["type"] for m in app.messages] == ["http.request", "http.disconnect"]


def test_a_request_without_a_body_reaches_the_app() -> None:
    app, sent, _ = _run({}, _chunks(0))
    assert app.called
    assert _status(sent) == 200


def test_a_body_that_stops_coming_is_408_once_the_read_time_is_up() -> None:
    app, sent, pending = RecordingApp(), [], _chunks(10, 10)[:1]

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        await asyncio.sleep(60)  # the client sends nothing more
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    limits = BodyLimits(app, max_bytes=LIMIT, read_seconds=0.2)
    asyncio.run(asyncio.wait_for(limits(_scope({"content-length": "20"}), receive, send), 5))
    assert not app.called
    assert _status(sent) == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert "not received whole within 0.2 s" in json.loads(sent[1]["body"])["error"]
