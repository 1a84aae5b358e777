"""How the exporter reaches PostgreSQL and S3, and its tunables; all from the environment.

S3 credentials are not settings here: boto3 reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from
the environment itself, and also finds web-identity (IRSA) and instance credentials when the
Pod has those instead.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from company_exporter.conninfo import DEFAULT_READERS, MAX_READERS
from export_storage import S3Settings

MIB = 1024 * 1024


class ExporterSettings(BaseModel):
    """Read by `from_environment`. A plain model rather than pydantic-settings' BaseSettings: its
    import (with asyncio, for sources the exporter never reads) cost each Pod's start ~50 ms."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> "ExporterSettings":
        """Each field from the variable of its name in capitals (DATABASE_URL, ...)."""
        return cls.model_validate({name.lower(): value for name, value in environment.items()})

    database_url: Annotated[SecretStr, Field(description="libpq URL; carries the password")]
    s3_endpoint_url: Annotated[str | None, Field(description="unset: AWS's own endpoints")] = None
    aws_default_region: str | None = None
    termination_message_path: Path = Path("/dev/termination-log")
    # S3 wants parts of at least 5 MiB (but the last) and at most 10,000 of them: 8 MiB parts
    # allow 80 GB of gzip, and two parts in memory keep the process under ~60 MB.
    export_part_bytes: Annotated[int, Field(ge=5 * MIB, le=512 * MIB)] = 8 * MIB
    # ISA-L's levels are 0..3; 2 measured 1.2 GB/s at ratio 7.2 on our rows (zlib level 1:
    # 0.29 GB/s at 6.7). See benchmarks/exporter.py.
    export_compression_level: Annotated[int, Field(ge=0, le=3)] = 2
    export_database_connections: Annotated[int, Field(ge=1, le=MAX_READERS)] = DEFAULT_READERS
    # Rows per slice, by the planner's estimate: exports estimated at fewer rows than this read
    # on one connection. A slice is a query of its own (~0.5 ms to start).
    export_slice_rows: Annotated[int, Field(ge=1)] = 20_000
    export_s3_max_attempts: Annotated[int, Field(ge=1, le=20)] = 6
    # A shard's Pod waits this long for its coordinator's plan (the coordinator's Pod may start
    # later, or pull its image first) before it fails and the Job retries it.
    export_plan_wait_seconds: Annotated[float, Field(gt=0)] = 300.0
    export_progress_seconds: Annotated[float, Field(gt=0)] = 10.0
    log_level: str = "INFO"

    def storage(self) -> S3Settings:
        """The S3 client's settings: patient, as an export has no one waiting on each call."""
        return S3Settings(
            endpoint_url=self.s3_endpoint_url,
            region=self.aws_default_region,
            connect_timeout_seconds=10,
            read_timeout_seconds=60,
            max_attempts=self.export_s3_max_attempts,
        )
