"""A webhook receiver for tests and benchmarks: an HTTPS server that records what it is sent.

Its certificate is signed by a CA of its own (`receiver_pki`), which the dispatcher is told to
trust: the local stack installs the chart with that CA and the machine's address on the node's
link allowed (`product.local_values`), so the dispatcher's Pod delivers to a receiver listening
there. It listens on each of `hosts` on one port. What it answers depends on the path, so one
receiver serves every scenario:
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from local_cluster.pki import ClusterPki, create_pki, issue_certificate


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

    def received(
        self, prefix: str = "/", matching: Callable[[Received], bool] | None = None
    ) -> list[Received]:
        """The deliveries to paths under `prefix` (only those `matching`, when given)."""
        with self._lock:
            return [
                item
                for item in self._received
                if item.path.startswith(prefix) and (matching is None or matching(item))
            ]

    def wait_for(
        self,
        prefix: str,
        count: int,
        timeout: float = 30,
        matching: Callable[[Received], bool] | None = None,
    ) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(got := self.received(prefix, matching)) < count:
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


def receiver_pki(folder: Path) -> ClusterPki:
    """The receivers' CA, kept in `folder` between runs (the chart's caBundle names it)."""
    return create_pki(folder)


@contextmanager
def running_receiver(pki: ClusterPki, hosts: tuple[str, ...], port: int = 0) -> Iterator[Receiver]:
    """A receiver on each of `hosts` (one port; 0: a free one), sharing one record; `url` names
    the first."""
    certificate = issue_certificate(
        pki, "receiver", "webhook-receiver", addresses=hosts, dns_names=("localhost",)
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert, certificate.key)
    servers: list[ThreadingHTTPServer] = []
    serving: list[ThreadingHTTPServer] = []
    try:
        for host in hosts:
            port = servers[0].server_address[1] if servers else port
            servers.append(ThreadingHTTPServer((host, port), BaseHTTPRequestHandler))
        receiver = Receiver(hosts[0], servers[0].server_address[1], pki.ca_cert)
        for server in servers:
            server.daemon_threads = True
            server.socket = context.wrap_socket(server.socket, server_side=True)
            server.RequestHandlerClass = _handler(receiver)
            threading.Thread(target=server.serve_forever, name="receiver", daemon=True).start()
            serving.append(server)
        yield receiver
    finally:
        for server in serving:
            server.shutdown()  # waits for serve_forever: only for servers that run it
        for server in servers:
            server.server_close()
