"""A webhook receiver for the tests: an HTTPS server that records what it is sent.

Its certificate is signed by a CA of its own (`ca_cert`), which the dispatcher under test is
told to trust. What it answers depends on the path, so one receiver serves every scenario:
- `/ok/...`: 204;
- `/fail-N/...`: 500 to the first N attempts of each webhook-id, then 204;
- `/slow-S/...`: answers 204 after S seconds;
- `/redirect/...`: 302 to the cloud metadata address (which must not be followed).
"""

import re
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from local_cluster.pki import create_pki, issue_certificate


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time()

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    host: str
    port: int
    ca_cert: Path
    _received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _attempts: Counter[str] = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return f"https://{self.host}:{self.port}{path}"

    def received(self, prefix: str = "/") -> list[Received]:
        with self._lock:
            return [item for item in self._received if item.path.startswith(prefix)]

    def wait_for(self, prefix: str, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(got := self.received(prefix)) < count:
            assert time.monotonic() < deadline, f"{len(got)} of {count} deliveries to {prefix}"
            time.sleep(0.05)
        return got

    def _record(self, item: Received) -> int:
        with self._lock:
            self._received.append(item)
            self._attempts[item.headers.get("webhook-id", "")] += 1
            return self._attempts[item.headers.get("webhook-id", "")]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            attempt = receiver._record(Received(self.path, headers, body, time.time()))
            self._answer(attempt)

        def _answer(self, attempt: int) -> None:
            if failing := re.match(r"/fail-(\d+)/", self.path):
                self._send(500 if attempt <= int(failing.group(1)) else 204)
            elif slow := re.match(r"/slow-([\d.]+)/", self.path):
                time.sleep(float(slow.group(1)))
                self._send(204)
            elif self.path.startswith("/redirect/"):
                self._send(302, {"Location": "https://169.254.169.254/latest/meta-data/"})
            else:
                self._send(204)

        def _send(self, code: int, headers: dict[str, str] | None = None) -> None:
            try:
                self.send_response(code)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the dispatcher gave up waiting (a timeout test)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def running_receiver(folder: Path, host: str = "127.0.0.1") -> Iterator[Receiver]:
    pki = create_pki(folder / "pki")
    certificate = issue_certificate(
        pki, "receiver", "webhook-receiver", addresses=(host,), dns_names=("localhost",)
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert, certificate.key)
    server = ThreadingHTTPServer((host, 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    receiver = Receiver(host, server.server_address[1], pki.ca_cert)
    server.RequestHandlerClass = _handler(receiver)
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
