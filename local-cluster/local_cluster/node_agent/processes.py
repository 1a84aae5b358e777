"""Containers as local processes: each in its own session, its output in a log file.

A container's process leads a new session and process group, so a signal to the group reaches
everything it started, as stopping a container's cgroup would. Each start writes a record
(pid and kernel start time) beside the log, so an agent that restarts after a crash can find and
kill processes its predecessor left, without mistaking a newer process that reuses the pid.
"""

import contextlib
import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

KILLED_EXIT_CODE_BASE = 128  # a process killed by signal N reports 128 + N, as in a shell
START_FAILED_EXIT_CODE = 128  # what containerd reports when a container's command cannot start
PROCESS_RECORD_SUFFIX = ".process.json"


@dataclass
class ContainerProcess:
    """One running container process."""

    popen: subprocess.Popen[bytes]
    record: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def exit_code(self) -> int | None:
        """None while running; else the exit code, 128 + N for a process killed by signal N."""
        code = self.popen.poll()
        if code is None:
            return None
        self.record.unlink(missing_ok=True)
        # Children the process left behind belong to the container and die with it.
        signal_group(self.pid, signal.SIGKILL)
        return KILLED_EXIT_CODE_BASE - code if code < 0 else code

    def signal(self, sig: signal.Signals) -> None:
        signal_group(self.pid, sig)


def start_process(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, log_file: Path, record: Path
) -> ContainerProcess:
    """Starts `argv` in a new session; raises OSError when the command cannot start."""
    with log_file.open("ab") as output:
        popen = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    record.write_text(json.dumps({"pid": popen.pid, "start": _start_ticks(popen.pid)}))
    return ContainerProcess(popen, record)


def signal_group(pid: int, sig: signal.Signals) -> None:
    # Already gone: PermissionError is what the group of a zombie can answer.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def stop_processes(processes: Iterable[ContainerProcess], grace_seconds: float) -> None:
    """SIGTERM to each process group, SIGKILL to those still running after the grace period."""
    running = list(processes)
    for process in running:
        process.signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and any(p.popen.poll() is None for p in running):
        time.sleep(0.05)
    for process in running:
        if process.popen.poll() is None:
            process.signal(signal.SIGKILL)
            process.popen.wait()
        process.exit_code()


def kill_leftovers(work_dir: Path) -> int:
    """Kills the process groups recorded under `work_dir` that still run; returns how many."""
    killed = 0
    for record in work_dir.glob(f"pods/*/*{PROCESS_RECORD_SUFFIX}"):
        try:
            entry = json.loads(record.read_text())
        except (OSError, ValueError):
            continue
        pid, start = int(entry["pid"]), entry.get("start")
        if start is not None and _start_ticks(pid) == start:
            log.warning("killing a container process left by an earlier agent", extra={"pid": pid})
            signal_group(pid, signal.SIGKILL)
            killed += 1
        record.unlink(missing_ok=True)
    return killed


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])
