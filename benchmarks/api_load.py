"""Load benchmark of the API on loopback, against the real stack (PostgreSQL, S3, Kubernetes).

Measures, in one run and on the same machine:
- closed-loop throughput and latency of a bare FastAPI endpoint returning a constant (yardstick),
- the same for status polls (GET .../exports/{id}) and for creates (POST .../exports),
- open-loop runs of the yardstick and of status polls at a fixed rate (default 500/s): p50/p99
  latency from each request's scheduled start, so queueing behind a slow request is counted.
Rate limits are raised for the run. The API and the yardstick are separate processes (uvicorn,
one worker each); the load generator is a small asyncio HTTP/1.1 client with keep-alive.

    .venv/bin/python benchmarks/api_load.py [--seconds 10] [--rate 500]
"""

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import uvloop
from kubernetes import client, config

from export_api.admin import create_space, issue_key
from export_api.auth import Scope
from export_contracts.crd import custom_resource_definition
from export_database.migrate import migrate
from local_cluster.process import free_port, stop_servers_on_termination
from local_cluster.stack import Stack, up

NAMESPACE = "bench"
EXPORTS = "/public-api/v1/companies/exports"
DAY = json.dumps({"start_date": "2024-01-15 00:00:00", "end_date": "2024-01-15 23:59:59"})


class Connection:
    """One keep-alive HTTP/1.1 connection; just enough protocol for JSON requests."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, host: str = "127.0.0.1") -> "Connection":
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(self, head: bytes, body: bytes = b"") -> int:
        self.writer.write(head + body)
        header = await self.reader.readuntil(b"\r\n\r\n")
        status = int(header[9:12])
        length = 0
        for line in header.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def request_head(method: str, path: str, token: str | None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    server_cpu: float = 0.0  # CPU seconds the server process used during the run

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def share_under(self, seconds: float) -> float:
        return sum(latency < seconds for latency in self.latencies) / len(self.latencies)

    def line(self) -> str:
        return (
            f"{self.name:<34} {self.rate:>6.0f} req/s  p50 {self.percentile(50):6.2f} ms  "
            f"p99 {self.percentile(99):6.2f} ms  max {max(self.latencies) * 1000:6.1f} ms  "
            f"<10 ms {self.share_under(0.010):6.1%}  "
            f"server CPU {self.server_cpu / self.requests * 1e6:5.0f} us/req  errors {self.errors}"
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux), which other load does not inflate."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def on(pid: int, run: Awaitable[Result]) -> Result:
    """Runs a measurement and adds the CPU time the server process spent on it."""
    before = cpu_seconds(pid)
    result = await run
    result.server_cpu = cpu_seconds(pid) - before
    return result


async def closed_loop(
    name: str, port: int, head: bytes, body: bytes, seconds: float, connections: int, ok: int
) -> Result:
    """`connections` clients send back to back for `seconds`: the most the server can answer."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        connection = await Connection.open(port)
        try:
            while (started := time.perf_counter()) < deadline:
                status = await connection.request(head, body)
                latencies.append(time.perf_counter() - started)
                errors += status != ok
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return Result(name, len(latencies), time.perf_counter() - started, latencies, errors)


async def open_loop(
    name: str,
    port: int,
    head: bytes,
    rate: float,
    seconds: float,
    connections: int,
    host: str = "127.0.0.1",
) -> Result:
    """Sends at a fixed rate to `host`:`port`; each latency counts from the request's scheduled
    start."""
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await Connection.open(port, host))
    latencies: list[float] = []
    errors = 0

    async def one(scheduled: float) -> None:
        nonlocal errors
        connection = await idle.get()
        try:
            status = await connection.request(head)
        finally:
            idle.put_nowait(connection)
        latencies.append(time.perf_counter() - scheduled)
        errors += status != 200

    total = int(rate * seconds)
    start = time.perf_counter() + 0.1
    tasks = []
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().close()
    return Result(name, total, elapsed, latencies, errors)


def prepare(stack: Stack) -> str:
    """Schema, CRD, namespace, a space and its key; returns the key."""
    migrate(stack.postgres.url)
    api = config.new_client_from_config(str(stack.control_plane.admin_kubeconfig))
    crd = client.ApiextensionsV1Api(api).create_custom_resource_definition(
        custom_resource_definition()
    )
    client.CoreV1Api(api).create_namespace({"metadata": {"name": NAMESPACE}})
    while not any(
        c.type == "Established" and c.status == "True"
        for c in client.ApiextensionsV1Api(api)
        .read_custom_resource_definition(crd.metadata.name)
        .status.conditions
        or []
    ):
        time.sleep(0.2)
    with psycopg.connect(stack.postgres.url, autocommit=True) as conn:
        space_id = create_space(conn, "bench", "Europe/Berlin")
        return issue_key(conn, space_id, list(Scope))[1]


def start_process(
    command: list[str], env: dict[str, str], ready_url: str
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(ready_url, timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{command[2]} did not become ready at {ready_url}")


async def measure(
    args: argparse.Namespace, api: tuple[int, int], bare: tuple[int, int], token: str
) -> None:
    """`api` and `bare` are (port, pid) of the two servers."""
    (api_port, api_pid), (bare_port, bare_pid) = api, bare
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as http:
        created = await http.post(
            EXPORTS,
            content=DAY,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        if created.status_code != 202:
            raise RuntimeError(f"create answered {created.status_code}: {created.text}")
        export_id = created.json()["export_id"]
    status_head = request_head("GET", f"{EXPORTS}/{export_id}", token)
    bare_head = request_head("GET", "/constant", None)
    create_body = DAY.encode()
    create_head = request_head("POST", EXPORTS, token, create_body)
    run: Callable[..., Awaitable[Result]] = closed_loop
    seconds, conns = args.seconds, args.connections
    # Creates last: the exports they add make every later poll's cache a little larger.
    results = [
        await on(bare_pid, run("bare FastAPI constant (closed)", bare_port, bare_head, b"",
                               seconds, conns, 200)),
        await on(api_pid, run("status poll (closed loop)", api_port, status_head, b"",
                              seconds, conns, 200)),
        await on(bare_pid, open_loop(f"bare constant at {args.rate:g}/s (open)", bare_port,
                                     bare_head, args.rate, seconds, conns)),
        await on(api_pid, open_loop(f"status poll at {args.rate:g}/s (open loop)", api_port,
                                    status_head, args.rate, seconds, conns)),
        await on(api_pid, run("create (closed loop)", api_port, create_head, create_body,
                              seconds, 4, 202)),
    ]  # fmt: skip
    for result in results:
        print(result.line())
    # Other work on the machine skews every figure: say how busy it was (2 cores here).
    print("load average (1, 5, 15 min) at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    ratio = results[1].rate / results[0].rate
    print(f"status-poll throughput / bare FastAPI throughput: {ratio:.2f}")
    fixed = results[3]
    verdict = "met" if fixed.percentile(99) < 10 and fixed.errors == 0 else "NOT met"
    print(f"target p99 < 10 ms at {args.rate:g}/s: {verdict} (p99 {fixed.percentile(99):.2f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    stop_servers_on_termination()
    root = Path(tempfile.mkdtemp(prefix="api-bench-"))
    root.chmod(0o755)  # PostgreSQL's unprivileged account must reach its data folder
    stack = up(root)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        token = prepare(stack)
        api_port, bare_port = free_port(), free_port()
        env = {
            **os.environ,
            **stack.env.as_dict(),
            "EXPORT_NAMESPACE": NAMESPACE,
            "CREATE_LIMIT": "1000000000",
            "STATUS_LIMIT": "1000000000",
            "LOG_LEVEL": "WARNING",
        }
        python = sys.executable
        processes.append(start_process(
            [python, "-m", "export_api.server", "--host", "127.0.0.1", "--port", str(api_port)],
            env, f"http://127.0.0.1:{api_port}/readyz"))  # fmt: skip
        processes.append(start_process(
            [python, "-m", "uvicorn", "--app-dir", str(Path(__file__).parent), "--port",
             str(bare_port), "--log-level", "warning", "--no-access-log", "api_bare_app:app"],
            env, f"http://127.0.0.1:{bare_port}/constant"))  # fmt: skip
        api = (api_port, processes[0].pid)
        bare = (bare_port, processes[1].pid)
        uvloop.run(measure(args, api, bare, token))
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
