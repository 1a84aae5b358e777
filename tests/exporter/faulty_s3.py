"""A real HTTP proxy in front of the test S3 server that fails or slows chosen UploadPart calls,
and can lose the answer to the first CreateMultipartUpload (S3 made the upload, the client
never hears of it and asks again).

The exporter talks to it like to any S3 endpoint; every other request passes through untouched
(the Host header too, so SigV4 signatures still verify upstream). Test equipment, not product.
"""

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "expect", "proxy-connection"}
_UNAVAILABLE = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code>'
    b"<Message>injected by the test proxy</Message></Error>"
)

# (part number, attempt of that part starting at 1) -> fail this request with 503?
FailRule = Callable[[int, int], bool]


class FaultyS3Proxy:
    def __init__(
        self,
        upstream_port: int,
        fail: FailRule,
        part_delay: float = 0.0,
        lose_first_create: bool = False,
    ) -> None:
        self.upstream_port = upstream_port
        self.fail = fail
        self.part_delay = part_delay
        self.lose_first_create = lose_first_create
        self.creates = 0
        self.arrived = threading.Event()  # set when the first part reaches the proxy
        self.attempts: Counter[int] = Counter()
        self.failed: list[tuple[int, int]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "FaultyS3Proxy":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _should_fail(self, part_number: int) -> bool:
        with self._lock:
            self.attempts[part_number] += 1
            attempt = self.attempts[part_number]
            if self.fail(part_number, attempt):
                self.failed.append((part_number, attempt))
                return True
            return False

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = parse_qs(urlsplit(self.path).query)
                if self.command == "PUT" and "partNumber" in query and "uploadId" in query:
                    proxy.arrived.set()
                    time.sleep(proxy.part_delay)
                    if proxy._should_fail(int(query["partNumber"][0])):
                        self._answer(503, [("Content-Type", "application/xml")], _UNAVAILABLE)
                        return
                creating = self.command == "POST" and "uploads" in parse_qs(
                    urlsplit(self.path).query, keep_blank_values=True
                )
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                try:
                    headers = {
                        k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP
                    }
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    status, answer_headers, answer_body = (
                        answer.status, answer.getheaders(), answer.read()
                    )  # fmt: skip
                finally:
                    upstream.close()
                if creating:
                    proxy.creates += 1
                    if proxy.lose_first_create and proxy.creates == 1:
                        status, answer_headers = 503, [("Content-Type", "application/xml")]
                        answer_body = _UNAVAILABLE
                self._answer(status, answer_headers, answer_body)

            def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    if name.lower() in _HOP_BY_HOP or name.lower() == "content-length":
                        continue
                    self.send_header(name, value)
                if self.command == "HEAD":
                    length = {k.lower(): v for k, v in headers}.get("content-length", "0")
                    self.send_header("Content-Length", length)
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay  # noqa: N815 - stdlib names

        return Handler
