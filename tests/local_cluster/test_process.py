"""A program that starts servers stops them when it is terminated, not only when it ends."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from local_cluster.process import Server

pytestmark = pytest.mark.unit

# A program as the benchmarks are: it starts a server and stops it in `finally`.
PROGRAM = """
import sys, time
from pathlib import Path
from local_cluster.process import Launcher, stop_servers_on_termination

if sys.argv[2] == "handled":
    stop_servers_on_termination()
launcher = Launcher(Path(sys.argv[1]))
try:
    print(launcher.start("sleeper", ["sleep", "600"]).pid, flush=True)
    time.sleep(600)
finally:
    launcher.stop_all()
"""


def server_after_terminating(tmp_path: Path, signum: int, mode: str) -> tuple[int, Server]:
    """Runs the program, terminates it with `signum` once its server runs: (its exit code, the
    server)."""
    with subprocess.Popen(
        [sys.executable, "-c", PROGRAM, str(tmp_path), mode], stdout=subprocess.PIPE, text=True
    ) as program:
        assert program.stdout is not None
        pid = int(program.stdout.readline())
        program.send_signal(signum)
        return program.wait(timeout=30), Server("sleeper", pid, tmp_path / "sleeper.log")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_terminated_program_stops_its_servers(tmp_path: Path, signum: int) -> None:
    code, server = server_after_terminating(tmp_path, signum, "handled")

    assert code == 128 + signum
    deadline = time.monotonic() + 5
    while server.is_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not server.is_running()


def test_without_it_the_server_outlives_the_program(tmp_path: Path) -> None:
    code, server = server_after_terminating(tmp_path, signal.SIGTERM, "default")
    try:
        assert code == -signal.SIGTERM
        assert server.is_running()  # what the handler is for
    finally:
        os.killpg(server.pid, signal.SIGKILL)
