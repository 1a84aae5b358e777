"""Readiness probes, so a Deployment's pods turn Ready when they answer, not when they start.

`httpGet` (status 200-399), `tcpSocket` (a connection) and `exec` (exit code 0, run like the
container: same environment and folder) probe 127.0.0.1, where every pod listens. Other probe
kinds (gRPC) count as success. Probes run at most every `MAX_PERIOD_SECONDS` (the kubelet waits
`periodSeconds`, 10 by default), so a local pod is Ready about a second after it listens.
Liveness and startup probes are not run.
"""

import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from local_cluster.node_agent.environment import POD_IP
from local_cluster.node_agent.manifest import Container, Probe

MAX_PERIOD_SECONDS = 1.0


def container_port(container: Container, port: int | str) -> int:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int) or port.isdigit():
        return int(port)
    for declared in container.ports:
        if declared.name == port:
            return declared.container_port
    raise ValueError(f"container {container.name} has no port named {port!r}")


def probe_once(probe: Probe, container: Container, env: Mapping[str, str], cwd: Path) -> bool:
    """One probe; True when it succeeds."""
    timeout = float(max(1, probe.timeout_seconds))
    try:
        if probe.http_get is not None:
            action = probe.http_get
            port = container_port(container, action.port)
            url = f"{action.scheme.lower()}://{POD_IP}:{port}{action.path}"
            # Like the kubelet, an HTTPS probe does not verify the certificate.
            context = ssl._create_unverified_context()  # noqa: S323
            with urllib.request.urlopen(url, timeout=timeout, context=context) as answer:  # noqa: S310
                return 200 <= int(answer.status) < 400
        if probe.tcp_socket is not None:
            port = container_port(container, probe.tcp_socket.port)
            with socket.create_connection((POD_IP, port), timeout=timeout):
                return True
        if probe.exec is not None:
            completed = subprocess.run(
                probe.exec.command, env=dict(env), cwd=cwd, timeout=timeout, capture_output=True
            )
            return completed.returncode == 0
    except (OSError, ValueError, urllib.error.URLError, subprocess.TimeoutExpired):
        return False
    return True


@dataclass
class ReadinessTracker:
    """One container's readiness: probe results counted against the probe's thresholds."""

    probe: Probe
    ready: bool = False
    due: float = 0.0
    successes: int = 0
    failures: int = 0

    @classmethod
    def started(cls, probe: Probe) -> "ReadinessTracker":
        return cls(probe, due=time.monotonic() + probe.initial_delay_seconds)

    def is_due(self) -> bool:
        return time.monotonic() >= self.due

    def record(self, success: bool) -> None:
        self.due = time.monotonic() + min(MAX_PERIOD_SECONDS, float(self.probe.period_seconds))
        if success:
            self.successes, self.failures = self.successes + 1, 0
            if self.successes >= max(1, self.probe.success_threshold):
                self.ready = True
        else:
            self.successes, self.failures = 0, self.failures + 1
            if self.failures >= max(1, self.probe.failure_threshold):
                self.ready = False
