"""Kubeconfig files for the local cluster's clients."""

import base64
from pathlib import Path

import yaml


def write_kubeconfig(
    path: Path,
    server: str,
    ca_cert: Path,
    user: str,
    client_cert: Path | None = None,
    client_key: Path | None = None,
    token: str | None = None,
) -> Path:
    """Writes a self-contained kubeconfig (certificates embedded) for one user of one cluster."""
    credentials: dict[str, str] = {}
    if client_cert and client_key:
        credentials["client-certificate-data"] = _embed(client_cert)
        credentials["client-key-data"] = _embed(client_key)
    if token:
        credentials["token"] = token
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "local",
                "cluster": {"server": server, "certificate-authority-data": _embed(ca_cert)},
            }
        ],
        "users": [{"name": user, "user": credentials}],
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": user}}],
        "current-context": "local",
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path


def _embed(file: Path) -> str:
    return base64.b64encode(file.read_bytes()).decode()
