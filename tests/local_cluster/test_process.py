"""local_cluster.process: a server is ready by what it logged in this run, not an earlier one's;
a program that starts servers stops them when it is terminated, not only when it ends (the
benchmarks, and a pytest run with the session's servers)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from local_cluster.process import Launcher, Server

pytestmark = pytest.mark.unit

REPOSITORY = Path(__file__).parents[2]


def test_a_restarted_server_is_ready_by_what_it_logged_since_it_started(tmp_path: Path) -> None:
    launcher = Launcher(tmp_path / "logs")
    earlier = launcher.start("server", ["sh", "-c", "echo ready; sleep 600"])
    earlier.wait_until(lambda: earlier.has_logged("ready"), timeout=10)
    earlier.stop()
    go = tmp_path / "go"
    waits = f"echo starting; while [ ! -e {go} ]; do sleep 0.01; done; echo ready; sleep 600"
    server = launcher.start("server", ["sh", "-c", waits])  # the same log file, appended to
    try:
        server.wait_until(lambda: server.has_logged("starting"), timeout=10)
        assert "ready" in server.log_path.read_text()  # the earlier run's line
        assert not server.has_logged("ready")
        go.touch()
        server.wait_until(lambda: server.has_logged("ready"), timeout=10)
    finally:
        launcher.stop_all()


# A program as the benchmarks are: it starts a server and stops it in `finally`.
PROGRAM = """
import os, sys, time
from pathlib import Path
from local_cluster.process import Launcher, stop_servers_on_termination

if sys.argv[2] == "handled":
    stop_servers_on_termination()
launcher = Launcher(Path(sys.argv[1]))
try:
    server = launcher.start("sleeper", ["sleep", "600"])
    Path(os.environ["SERVER_PID_FILE"]).write_text(str(server.pid))
    time.sleep(600)
finally:
    launcher.stop_all()
"""

# A test run as ours are: a session fixture starts a server and stops it in its teardown.
SUITE = """
import os, time
from pathlib import Path
import pytest
from local_cluster.process import Launcher

@pytest.fixture(scope="session")
def sleeper(tmp_path_factory):
    launcher = Launcher(tmp_path_factory.mktemp("logs"))
    server = launcher.start("sleeper", ["sleep", "600"])
    Path(os.environ["SERVER_PID_FILE"]).write_text(str(server.pid))
    yield server
    launcher.stop_all()

def test_long(sleeper):
    time.sleep(600)
"""


def server_after_terminating(command: list[str], tmp_path: Path, signum: int) -> tuple[int, Server]:
    """Runs `command`, which starts a server and writes its pid to $SERVER_PID_FILE; terminates
    it with `signum` once the server runs: (its exit code, the server)."""
    pid_file = tmp_path / "server.pid"
    env = {**os.environ, "SERVER_PID_FILE": str(pid_file), "PYTHONPATH": str(REPOSITORY)}
    with subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL) as program:
        deadline = time.monotonic() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert program.poll() is None, "it ended before its server started"
            assert time.monotonic() < deadline, "no server started in 60 s"
            time.sleep(0.05)
        program.send_signal(signum)
        code = program.wait(timeout=60)
    return code, Server("sleeper", int(pid_file.read_text()), tmp_path / "sleeper.log")


def program(tmp_path: Path, mode: str) -> list[str]:
    return [sys.executable, "-c", PROGRAM, str(tmp_path), mode]


def suite_run(tmp_path: Path, plugins: list[str]) -> list[str]:
    """pytest on SUITE, with our tests' conftest as a plugin or not."""
    suite = tmp_path / "test_suite.py"
    suite.write_text(SUITE)
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugins, str(suite)]


def assert_stopped(server: Server) -> None:
    deadline = time.monotonic() + 5
    while server.is_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not server.is_running()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_terminated_program_stops_its_servers(tmp_path: Path, signum: int) -> None:
    code, server = server_after_terminating(program(tmp_path, "handled"), tmp_path, signum)

    assert code == 128 + signum
    assert_stopped(server)


def test_a_terminated_test_run_stops_its_servers(tmp_path: Path) -> None:
    command = suite_run(tmp_path, ["-p", "tests.conftest"])
    code, server = server_after_terminating(command, tmp_path, signal.SIGTERM)

    assert code == 128 + signal.SIGTERM
    assert_stopped(server)


@pytest.mark.parametrize("kind", ["program", "test run"])
def test_without_it_the_server_outlives_its_starter(tmp_path: Path, kind: str) -> None:
    command = program(tmp_path, "default") if kind == "program" else suite_run(tmp_path, [])
    code, server = server_after_terminating(command, tmp_path, signal.SIGTERM)
    try:
        assert code == -signal.SIGTERM
        assert server.is_running()  # what the handler is for
    finally:
        os.killpg(server.pid, signal.SIGKILL)
