"""Starting, watching and stopping the local servers as child processes with one log file each."""

import logging
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

log = logging.getLogger(__name__)

_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_random = random.SystemRandom()
_handed_out: set[int] = set()


class ServerStartError(RuntimeError):
    """A server exited or never became ready; the message names it and its log."""


def free_port() -> int:
    """A TCP port that nothing listens on, on any address, and that no outgoing connection can take.

    `bind(0)` would hand out an ephemeral port: the very range the kernel draws from for
    outgoing connections, so a server started a moment later can find its port taken by a
    client socket (SeaweedFS's S3 gRPC port was, once). Ports come from below (or above) the
    kernel's ephemeral range instead, each handed out once per process.
    """
    for _ in range(1000):
        port = _random.randrange(*_listening_port_range())
        if port not in _handed_out and _nothing_bound(port):
            _handed_out.add(port)
            return port
    raise RuntimeError("no free TCP port outside the ephemeral range: stop some servers, retry")


def _listening_port_range() -> tuple[int, int]:
    """The larger of the two spans outside `net.ipv4.ip_local_port_range` (from 10000 up)."""
    first, last = map(int, _EPHEMERAL_RANGE.read_text().split())
    below, above = (10000, first), (last + 1, 65536)
    return max(below, above, key=lambda span: span[1] - span[0])


def _nothing_bound(port: int) -> bool:
    """Binding the wildcard address without SO_REUSEADDR fails if anything holds `port` anywhere."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("0.0.0.0", port))  # noqa: S104 (a probe: it never listens)
        except OSError:
            return False
        return True


def can_listen(host: str, port: int) -> bool:
    """Whether a listener could bind `host`:`port` now (as Go's do, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def free_port_or(host: str, earlier: int) -> int:
    """`earlier` when a listener could bind it on `host` now (a restarted server keeps the port
    its clients know), else a free port."""
    return earlier if earlier and can_listen(host, earlier) else free_port()


def pids_in_mount_namespace(namespace: str) -> list[int]:
    """The processes in a mount namespace (`readlink /proc/PID/ns/mnt`, e.g. "mnt:[4026532]")."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str((entry / "ns" / "mnt").readlink()) == namespace:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def port_is_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def log_tail(log_path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log written)"


@dataclass
class Server:
    """One running server: its name (for messages), process id and log file."""

    name: str
    pid: int
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    log_start: int = 0  # the log's size when this server started: what it wrote comes after

    def has_logged(self, text: str) -> bool:
        """Whether this server has written `text` to its log (earlier runs' lines excluded)."""
        with self.log_path.open("rb") as log_file:
            log_file.seek(self.log_start)
            return text.encode() in log_file.read()

    def is_running(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return not _is_zombie(self.pid)

    def wait_until(self, ready: Callable[[], bool], timeout: float) -> None:
        """Polls `ready` until it holds; fails naming the server and its log when it cannot."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise ServerStartError(
                    f"{self.name} exited while starting; its log is {self.log_path}:\n"
                    f"{log_tail(self.log_path)}"
                )
            try:
                if ready():
                    return
            except Exception as error:
                log.debug("%s not ready yet: %s", self.name, error)
            time.sleep(0.1)
        raise ServerStartError(
            f"{self.name} was not ready after {timeout:.0f} s; its log is {self.log_path}:\n"
            f"{log_tail(self.log_path)}"
        )

    def stop(self, grace_seconds: float = 10.0) -> None:
        """SIGTERM to the server's process group, then SIGKILL after the grace period."""
        for sig, wait in ((signal.SIGTERM, grace_seconds), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while self.is_running() and time.monotonic() < deadline:
                time.sleep(0.05)
            if not self.is_running():
                break
        if self.popen is not None:
            self.popen.wait(timeout=5)


_TERMINATIONS = (signal.SIGTERM, signal.SIGHUP)


def _exit_through_finally(signum: int) -> NoReturn:
    """Ends the process as a program's `finally` blocks expect: SystemExit, with the shell's code
    for "killed by signum"."""
    raise SystemExit(128 + signum)


def stop_servers_on_termination(unwind: Callable[[int], NoReturn] = _exit_through_finally) -> None:
    """Makes SIGTERM and SIGHUP end this process through its `finally` blocks, as Ctrl-C does.

    The servers run in sessions of their own (a Ctrl-C at the terminal reaches this process
    alone), so only this process's cleanup stops them. Killed by a signal's default action
    instead, it would leave them running: a benchmark stopped by a timeout, or its terminal lost,
    left a database, an S3 server or a whole cluster behind. Call it at the top of a program
    that starts servers and stops them in `finally`; `unwind(signum)` raises what unwinds it
    (pytest ends a run on `pytest.exit`, where it would count a SystemExit as one test's failure
    and go on). A second signal kills at once, so a cleanup that hangs can still be stopped.
    """

    def on_termination(signum: int, frame: object) -> None:
        for termination in _TERMINATIONS:
            signal.signal(termination, signal.SIG_DFL)
        unwind(signum)

    for termination in _TERMINATIONS:
        signal.signal(termination, on_termination)


class Launcher:
    """Starts servers that log into one folder, and remembers them so that all can be stopped."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.servers: list[Server] = []

    def start(
        self,
        name: str,
        command: Sequence[str | Path],
        env: Mapping[str, str] | None = None,
        user: str | None = None,
    ) -> Server:
        """Starts `command` in its own session (`stop` reaches its children), logging to a file."""
        log_path = self.log_dir / f"{name}.log"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log_file:
            log_start = os.fstat(log_file.fileno()).st_size
            popen = subprocess.Popen(
                [str(part) for part in command],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                start_new_session=True,
                user=user,
            )
        log.info("started %s (pid %d), log %s", name, popen.pid, log_path)
        server = Server(
            name=name, pid=popen.pid, log_path=log_path, popen=popen, log_start=log_start
        )
        self.servers.append(server)
        return server

    def stop_all(self) -> None:
        """Stops every server it started, the last started first."""
        for server in reversed(self.servers):
            server.stop()


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"
