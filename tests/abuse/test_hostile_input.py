"""Hand-made hostile input against the chart's API (the real server: uvicorn, httptools, uvloop).

tests/api/test_operations.py fuzzes the OpenAPI document with schemathesis; these are the inputs a
schema-driven fuzzer does not make: bodies too large or too deep, bytes that are not UTF-8, header
injection, SQL metacharacters in every field, absurd dates and slow clients. The promise: a 4xx in
the error shape (never a 5xx), no hang, and no memory or file descriptors left behind.
"""

import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg
import pytest

from export_api.middleware import MAX_BODY_BYTES
from export_api.protocol import REQUEST_READ_SECONDS
from tests.abuse.conftest import COMPANIES, EXPORTS, ONE_DAY, Product, Space, wait_for_export

pytestmark = pytest.mark.e2e

SQL = "'; DROP TABLE companies; --"
SQL_WITHOUT_SPACES = "'OR'1'='1';DROP/**/TABLE/**/spaces;--"  # a valid Idempotency-Key
RESPONSE_TIMEOUT_SECONDS = 5.0


@contextmanager
def raw_connection(product: Product) -> Iterator[socket.socket]:
    """A plain TCP connection to the API, for requests no HTTP client library would send."""
    address = urlsplit(product.api_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        yield sock


def read_response(
    sock: socket.socket, timeout: float = RESPONSE_TIMEOUT_SECONDS
) -> tuple[int, bytes, bytes]:
    """Status, header block and body of one response (the server closes or sends a length)."""
    data = b""
    sock.settimeout(timeout)
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection without an answer: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n")
         if line.lower().startswith(b"content-length:")), 0,
    )  # fmt: skip
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(head[9:12]), head, body


def raw_request(product: Product, request: bytes) -> tuple[int, bytes, bytes]:
    with raw_connection(product) as sock:
        sock.sendall(request)
        return read_response(sock)


def create_head(length: int, token: str = "", extra: bytes = b"") -> bytes:
    """The head of a create request; a negative length sends the body chunked."""
    lines = [f"POST {EXPORTS} HTTP/1.1", "Host: api", "Content-Type: application/json"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    lines.append(f"Content-Length: {length}" if length >= 0 else "Transfer-Encoding: chunked")
    return "\r\n".join(lines).encode() + extra + b"\r\n\r\n"


def create_request(body: bytes, token: str = "") -> bytes:
    return create_head(len(body), token) + body


def assert_error_shape(status: int, body: bytes, expected: int) -> None:
    assert status == expected, body
    assert set(json.loads(body)) == {"error"}


def test_a_huge_declared_body_is_refused_before_it_is_read(product: Product) -> None:
    started = time.monotonic()
    with raw_connection(product) as sock:
        # 100 MB announced, 64 KiB sent: the answer may not wait for the rest.
        sock.sendall(create_head(100_000_000) + b"{" * 65536)
        status, head, body = read_response(sock)
    assert time.monotonic() - started < RESPONSE_TIMEOUT_SECONDS
    assert_error_shape(status, body, 413)
    assert b"larger than 65536 bytes" in body
    assert b"connection: close" in head.lower()


def test_a_huge_chunked_body_is_refused_once_past_the_limit(product: Product) -> None:
    chunk = b"x" * 16384
    with raw_connection(product) as sock:
        sock.sendall(create_head(-1))
        for _ in range(MAX_BODY_BYTES // len(chunk) + 1):  # one chunk past the limit, no end
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        status, _, body = read_response(sock)
    assert_error_shape(status, body, 413)


def test_a_body_at_the_limit_is_served_and_one_byte_more_is_not(
    product: Product, new_space: Callable[..., Space]
) -> None:
    space = new_space()
    document = {**ONE_DAY, "padding": ""}
    document["padding"] = "x" * (MAX_BODY_BYTES - len(json.dumps(document)))
    body = json.dumps(document).encode()
    assert len(body) == MAX_BODY_BYTES
    status, _, answer = raw_request(product, create_request(body, space.token))
    assert status == 202, answer
    over = body + b" "
    status, _, answer = raw_request(product, create_request(over, space.token))
    assert_error_shape(status, answer, 413)


def _head(*headers: bytes) -> bytes:
    return b"GET /healthz HTTP/1.1\r\nHost: api\r\n" + b"".join(h + b"\r\n" for h in headers)


@pytest.mark.parametrize(
    "head",
    [
        _head(b"X-Big: " + b"a" * 65536),  # one huge value, the head not even finished
        _head(*(b"X-H%d: v" % number for number in range(5000))) + b"\r\n",  # many small ones
    ],
    ids=["one-huge-header", "many-headers"],
)
def test_an_oversized_request_head_is_431(product: Product, head: bytes) -> None:
    with raw_connection(product) as sock:
        sock.sendall(head)
        status, _, body = read_response(sock)
    assert_error_shape(status, body, 431)
    assert b"larger than 16384 bytes" in body


def test_a_head_of_ordinary_size_is_served(product: Product) -> None:
    status, _, _ = raw_request(product, _head(b"X-Padding: " + b"a" * 8192) + b"\r\n")
    assert status == 200


def test_a_20_mb_header_is_not_buffered(product: Product) -> None:
    before = product.metric("process_resident_memory_bytes")
    with raw_connection(product) as sock, contextlib.suppress(BrokenPipeError, ConnectionError):
        sock.sendall(_head(b"X-Big: " + b"a" * 20_000_000))  # the server hangs up midway
    grown_mb = (product.metric("process_resident_memory_bytes") - before) / 2**20
    assert grown_mb < 4, f"the API grew {grown_mb:.1f} MB reading one request head"


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 60_000,  # deeper than any parser's recursion limit
        b'{"start_date": ' * 3_000 + b"1" + b"}" * 3_000,
        b'{"start_date": "\xff\xfe2024-01-15 00:00:00", "end_date": "2024-01-15 23:59:59"}',
        b"\xef\xbb\xbf" + json.dumps(ONE_DAY).encode("utf-16"),
        b'{"start_date": "2024-01-15 00:00:00\x00", "end_date": "2024-01-15 23:59:59"}',
        b'{"start_date": "\\ud800", "end_date": "\\udfff"}',  # lone surrogates
        b"\x00" * 1000,
        b"",
    ],
    ids=[
        "deep-array",
        "deep-object",
        "invalid-utf8",
        "utf16",
        "nul",
        "surrogates",
        "nuls",
        "empty",
    ],
)
def test_malformed_bodies_are_422_and_create_nothing(
    product: Product, new_space: Callable[..., Space], body: bytes
) -> None:
    space = new_space()
    status, _, answer = raw_request(product, create_request(body, space.token))
    assert_error_shape(status, answer, 422)
    with product.client(space.token) as api:
        assert api.get(EXPORTS).json()["data"] == []  # nothing was created


def test_header_values_that_are_not_utf8_are_refused_not_crashed(
    product: Product, new_space: Callable[..., Space]
) -> None:
    space = new_space()
    body = json.dumps(ONE_DAY).encode()
    bad_key = create_head(len(body), extra=b"\r\nAuthorization: Bearer \xff\xfe\xfd")
    status, _, answer = raw_request(product, bad_key + body)
    assert_error_shape(status, answer, 401)
    latin1_idempotency_key = create_head(len(body), space.token, b"\r\nIdempotency-Key: cl\xe9")
    status, _, answer = raw_request(product, latin1_idempotency_key + body)
    assert_error_shape(status, answer, 422)


@pytest.mark.parametrize(
    "request_line",
    [
        f"GET {EXPORTS}/1%0d%0aX-Injected:%20yes HTTP/1.1",
        f"GET {EXPORTS}/1%0aX-Injected:%20yes HTTP/1.1",
        f"GET {EXPORTS}?cursor=a%0d%0aX-Injected:%20yes HTTP/1.1",
        f"GET {COMPANIES}?start_date=2024-01-01%2000:00:00%0d%0aX-Injected:%20yes HTTP/1.1",
    ],
)
def test_crlf_in_the_path_or_query_never_reaches_a_response_header(
    product: Product, new_space: Callable[..., Space], request_line: str
) -> None:
    space = new_space()
    request = f"{request_line}\r\nHost: api\r\nAuthorization: Bearer {space.token}\r\n\r\n"
    status, head, body = raw_request(product, request.encode())
    assert status in (404, 422), body
    assert b"x-injected" not in head.lower()


@pytest.mark.parametrize(
    "header",
    [
        "X-Evil: a\rb",  # a bare CR inside a value
        "X-Evil: a\x00b",  # NUL
        "X-Evil : spaced",  # whitespace before the colon (request smuggling vector)
        "Transfer-Encoding: chunked\r\nContent-Length: 3",  # both framings at once
        " folded continuation",  # obsolete line folding
    ],
)
def test_malformed_header_blocks_are_refused_by_the_parser(product: Product, header: str) -> None:
    request = f"GET /healthz HTTP/1.1\r\nHost: api\r\n{header}\r\n\r\n".encode()
    with raw_connection(product) as sock:
        sock.sendall(request)
        try:
            status, _, _ = read_response(sock)
        except (AssertionError, ConnectionResetError):
            return  # closed without an answer: refused, and nothing hangs
    assert 400 <= status < 500


def _sql_requests(token: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, httpx options) with SQL metacharacters in every field a client controls."""
    body = {"start_date": SQL, "end_date": SQL}
    return [
        ("POST", EXPORTS, {"json": body}),
        ("POST", EXPORTS, {"json": {"start_date": "2024-01-15 00:00:00", "end_date": SQL}}),
        ("POST", EXPORTS, {"json": {**ONE_DAY, SQL: SQL}, "headers": {"Idempotency-Key": SQL}}),
        ("POST", EXPORTS, {"json": ONE_DAY, "headers": {"Idempotency-Key": SQL_WITHOUT_SPACES}}),
        ("GET", f"{EXPORTS}/{quote(SQL)}", {}),
        ("GET", f"{EXPORTS}/1%20OR%201=1", {}),
        ("DELETE", f"{EXPORTS}/1;DELETE%20FROM%20spaces", {}),
        ("GET", EXPORTS, {"params": {"status": SQL}}),
        ("GET", EXPORTS, {"params": {"cursor": SQL}}),
        ("GET", EXPORTS, {"params": {"per_page": "1; DROP TABLE spaces"}}),
        ("GET", COMPANIES, {"params": {"start_date": f"2024-01-01 00:00:00{SQL}"}}),
        ("GET", COMPANIES, {"params": {"end_date": SQL, "cursor": SQL}}),
        ("GET", COMPANIES, {"params": {"per_page": "1 OR 1=1"}}),
        ("GET", EXPORTS, {"headers": {"Authorization": f"Bearer cexp_{SQL}"}}),
        ("GET", EXPORTS, {"headers": {"Authorization": f"Bearer {token[:14]}' OR '1'='1"}}),
    ]


def _table_sizes(database_url: str) -> tuple[int, ...]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM spaces), (SELECT count(*) FROM companies),"
            " (SELECT count(*) FROM api_keys)"
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_sql_metacharacters_in_every_field_are_plain_data(
    product: Product, new_space: Callable[..., Space]
) -> None:
    space = new_space()
    before = _table_sizes(product.database_url)
    answers = []
    with product.client(space.token) as api:
        for method, path, options in _sql_requests(space.token):
            response = api.request(method, path, **options)
            answers.append((method, path, response.status_code))
            assert response.status_code < 500, (method, path, response.text)
            if response.status_code >= 400:
                assert set(response.json()) == {"error"}, (method, path, response.text)
        # The one valid request among them: an Idempotency-Key of SQL is just a key.
        replay = api.post(EXPORTS, json=ONE_DAY, headers={"Idempotency-Key": SQL_WITHOUT_SPACES})
    assert [status for method, _, status in answers if method == "POST"] == [422, 422, 422, 202]
    assert replay.status_code == 202
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert _table_sizes(product.database_url) == before


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("0001-01-01 00:00:00", "9999-12-31 23:59:59"),
        ("1899-12-31 23:59:59", "2024-01-15 00:00:00"),
        ("2024-01-15 00:00:00", "3000-01-01 00:00:00"),
        ("0000-01-01 00:00:00", "2024-01-15 00:00:00"),
        ("2024-02-30 00:00:00", "2024-03-01 00:00:00"),
        ("2024-01-15 24:00:00", "2024-01-16 00:00:00"),
        ("+2024-01-15 00:00", "2024-01-16 00:00:00"),
        ("2024-01-15 00:00:00", "2024-01-15 00:00:00"),
    ],
)
def test_absurd_dates_are_422_naming_the_field(
    product: Product, new_space: Callable[..., Space], start: str, end: str
) -> None:
    space = new_space()
    with product.client(space.token) as api:
        created = api.post(EXPORTS, json={"start_date": start, "end_date": end})
        listed = api.get(COMPANIES, params={"start_date": start, "end_date": end})
    for response in (created, listed):
        assert response.status_code == 422, response.text
        assert response.json()["error"].split(":")[0] in ("start_date", "end_date")


def test_the_widest_range_allowed_exports_the_whole_space(
    product: Product, new_space: Callable[..., Space]
) -> None:
    space = new_space()
    widest = {"start_date": "1900-01-01 00:00:00", "end_date": "2999-12-31 23:59:59"}
    with product.client(space.token) as api:
        created = api.post(EXPORTS, json=widest)
        assert created.status_code == 202, created.text
        result = wait_for_export(api, created.json()["export_id"])
    assert result["status"] == "completed", result
    assert result["record_count"] == space.companies


@contextmanager
def slow_clients(product: Product, count: int) -> Iterator[list[socket.socket]]:
    """Connections that send half a request and then nothing (slowloris), closed at the end."""
    address = urlsplit(product.api_url)
    opened = []
    try:
        for number in range(count):
            sock = socket.create_connection((address.hostname, address.port), timeout=10)
            opened.append(sock)
            if number % 2:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: api\r\nX-Slow: ")
            else:
                sock.sendall(create_head(1000) + b'{"start_date": ')
        yield opened
    finally:
        for sock in opened:
            sock.close()


def _wait_for_fds(product: Product, at_most: float, timeout: float = 10) -> float:
    deadline = time.monotonic() + timeout
    while (fds := product.metric("process_open_fds")) > at_most and time.monotonic() < deadline:
        time.sleep(0.2)
    return fds


def test_slow_clients_do_not_block_others(product: Product) -> None:
    baseline = product.metric("process_open_fds")
    with slow_clients(product, 100), product.client() as api:
        assert product.metric("process_open_fds") >= baseline + 90  # the server holds them
        for _ in range(20):
            started = time.monotonic()
            assert api.get("/healthz").status_code == 200
            assert time.monotonic() - started < 1.0
    assert _wait_for_fds(product, baseline + 2) <= baseline + 2


def test_a_slow_client_gets_408_and_is_let_go(product: Product) -> None:
    baseline = product.metric("process_open_fds")
    started = time.monotonic()
    with slow_clients(product, 10) as held:
        for sock in held:
            status, _, body = read_response(sock, timeout=REQUEST_READ_SECONDS + 5)
            assert_error_shape(status, body, 408)
            assert sock.recv(1) == b""  # and the server hung up
    assert REQUEST_READ_SECONDS <= time.monotonic() - started < REQUEST_READ_SECONDS + 5
    assert _wait_for_fds(product, baseline + 2) <= baseline + 2


def test_a_flood_of_hostile_requests_leaves_no_memory_behind(product: Product) -> None:
    hostile = [
        create_head(100_000_000) + b"{" * 1024,
        create_request(b"[" * 60_000),
        create_request(b'{"\xff\xfe": 1}'),
        create_request(b"{}", token="cexp_00000000_" + "A" * 43),
    ]

    def flood(rounds: int) -> None:
        for _ in range(rounds):
            for request in hostile:
                status, _, _ = raw_request(product, request)
                assert status in (401, 413, 422)

    flood(25)  # warm up: caches, pools and the allocator's arenas settle
    before_rss = product.metric("process_resident_memory_bytes")
    before_fds = product.metric("process_open_fds")
    flood(250)
    grown_mb = (product.metric("process_resident_memory_bytes") - before_rss) / 2**20
    assert grown_mb < 16, f"the API grew {grown_mb:.1f} MB over 1000 hostile requests"
    assert product.metric("process_open_fds") <= before_fds + 2
