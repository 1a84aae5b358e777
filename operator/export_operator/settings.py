"""The operator's settings: one pydantic-settings model, read from the environment.

Every variable is documented in operator/README.md. Names are `EXPORT_OPERATOR_<FIELD>`, except the
S3 connection, which uses the names boto3 and the exporter already read.
"""

import re
from typing import Annotated, Self

from pydantic import (
    AliasChoices,
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from export_contracts.exporter import MAX_SHARDS, PARAMETER_ENV
from export_storage import S3Settings

# Seconds a presigned GET URL lives; the API signs its own per request with the same lifetime.
PRESIGN_SECONDS = 900

# Environment variable names in the portable form (POSIX), in capitals; the chart's schema agrees.
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_OPERATOR_SETS = "to change it, set {} on the operator"
_REFERENCED = "it is read from a Secret; to change it, set EXPORT_OPERATOR_{}_SECRET_NAME"
# The variables the operator sets on the exporter's container itself (jobs.py), each with how to
# change it instead. EXPORTER_ENV may not set them: one value for every Job would override each
# export's own parameters, or replace a Secret reference with plain text.
RESERVED_EXPORTER_ENV: dict[str, str] = {
    **dict.fromkeys(PARAMETER_ENV.values(), "it is a parameter of each export"),
    "EXPORT_BUCKET": _OPERATOR_SETS.format("EXPORT_BUCKET"),
    "S3_ENDPOINT_URL": _OPERATOR_SETS.format("S3_ENDPOINT_URL"),
    "AWS_DEFAULT_REGION": _OPERATOR_SETS.format("AWS_DEFAULT_REGION"),
    "TERMINATION_MESSAGE_PATH": _OPERATOR_SETS.format("EXPORT_OPERATOR_TERMINATION_MESSAGE_PATH"),
    "DATABASE_URL": _REFERENCED.format("DATABASE"),
    "AWS_ACCESS_KEY_ID": _REFERENCED.format("S3"),
    "AWS_SECRET_ACCESS_KEY": _REFERENCED.format("S3"),
}


class OperatorSettings(BaseSettings):
    # Errors name the setting but do not echo its value: a password pasted into EXPORTER_ENV by
    # mistake must not reach the operator's log.
    model_config = SettingsConfigDict(
        env_prefix="EXPORT_OPERATOR_",
        frozen=True,
        extra="ignore",
        populate_by_name=True,
        hide_input_in_errors=True,
    )

    # Where the operator looks: None watches every namespace.
    namespace: str | None = None
    # kopf peering object shared by replicas; only the one with the highest priority acts.
    peering_name: str = "company-exports"
    standalone: bool = False
    # Unset: a random priority per process. kopf pauses every replica that sees another with the
    # same priority, so replicas of one Deployment must differ.
    priority: Annotated[int, Field(ge=0)] | None = None
    liveness_endpoint: str = "http://0.0.0.0:8080/healthz"
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = 9090  # 0 turns /metrics off
    log_level: str = "INFO"

    # The Job: image and command of the exporter, and its limits.
    exporter_image: str = "company-exports-exporter:0.1.0"
    exporter_command: list[str] = ["company-exporter"]
    image_pull_policy: str = "IfNotPresent"
    service_account_name: str | None = None
    job_active_deadline_seconds: PositiveInt = 3600
    job_backoff_limit: Annotated[int, Field(ge=0, le=10)] = 2
    # Long enough that the operator reads a finished Job's result first, even after an outage.
    job_ttl_seconds_after_finished: PositiveInt = 86400
    cpu_request: str = "100m"
    # Two reader threads each write lines on a core while PostgreSQL sends the next page: one
    # core throttles an export to about half its speed.
    cpu_limit: str = "2"
    memory_request: str = "128Mi"
    memory_limit: str = "512Mi"
    termination_message_path: str = "/dev/termination-log"
    # Plain settings of the exporter (EXPORT_DATABASE_CONNECTIONS, LOG_LEVEL...), the same on
    # every Job: a JSON object of names to strings. Not for secrets: they show in the Job's spec.
    exporter_env: dict[str, str] = Field(default_factory=dict)

    # Credentials the Job's Pod reads from Secrets by reference; never copied. These are the
    # names of Secrets and keys, not secrets.
    database_secret_name: str = "company-exports-database"  # noqa: S105
    database_secret_key: str = "DATABASE_URL"  # noqa: S105
    s3_secret_name: str = "company-exports-s3"  # noqa: S105
    s3_access_key_id_key: str = "AWS_ACCESS_KEY_ID"
    s3_secret_access_key_key: str = "AWS_SECRET_ACCESS_KEY"  # noqa: S105

    # S3, for the operator itself (check, presign, delete) and passed to the Job as plain settings.
    bucket: str = Field(validation_alias=AliasChoices("EXPORT_OPERATOR_BUCKET", "EXPORT_BUCKET"))
    s3_endpoint_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("EXPORT_OPERATOR_S3_ENDPOINT_URL", "S3_ENDPOINT_URL"),
    )
    s3_region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("EXPORT_OPERATOR_S3_REGION", "AWS_DEFAULT_REGION"),
    )

    # Admission: how many export Pods run at once, in the cluster and per space. A sharded
    # export's Job counts all its Pods (its shards and their coordinator).
    max_running: PositiveInt = 10
    max_running_per_space: PositiveInt = 5

    # Sharding: an export estimated at more than `shard_rows` rows runs as an Indexed Job, one
    # shard per `shard_rows` rows, at most `max_shards`, and no more than the per-space cap
    # lets run beside their coordinator. 1M rows took ~9 s in one Pod of 2 cores.
    shard_rows: PositiveInt = 5_000_000
    max_shards: Annotated[int, Field(ge=1, le=MAX_SHARDS)] = 4

    # Time limits (seconds).
    retention_seconds: PositiveInt = 86400
    # A finished export's object stays this long after its retention (Expired, for kubectl), then
    # goes once the API archived its record; the API answers for it from PostgreSQL.
    delete_grace_seconds: NonNegativeInt = 3600
    # How often finished exports' retention is walked (one loop for all, not a timer each).
    sweep_seconds: PositiveFloat = 10.0
    startup_timeout_seconds: PositiveInt = 300
    job_lost_grace_seconds: PositiveInt = 60

    def storage(self) -> S3Settings:
        """The operator's own S3 client: botocore finds the AWS_* keys itself."""
        return S3Settings(endpoint_url=self.s3_endpoint_url, region=self.s3_region)

    @field_validator("exporter_env")
    @classmethod
    def _exporter_env_is_ours_to_add(cls, env: dict[str, str]) -> dict[str, str]:
        problems = [_exporter_env_problem(name) for name in sorted(env)]
        if refused := [problem for problem in problems if problem]:
            where = "EXPORT_OPERATOR_EXPORTER_ENV (the chart's exporter.settings)"
            raise ValueError(f"{where}: {'; '.join(refused)}")
        return env

    @model_validator(mode="after")
    def _caps_consistent(self) -> Self:
        if self.max_running_per_space > self.max_running:
            raise ValueError(
                "EXPORT_OPERATOR_MAX_RUNNING_PER_SPACE must not exceed EXPORT_OPERATOR_MAX_RUNNING"
            )
        return self


def _exporter_env_problem(name: str) -> str | None:
    """Why EXPORTER_ENV may not set `name`, and what to do instead; None when it may."""
    if not _ENV_NAME.fullmatch(name):
        return (
            f"{name!r} is not a valid variable name: use capitals, digits and underscores, "
            "not starting with a digit (e.g. EXPORT_SLICE_ROWS)"
        )
    if name in RESERVED_EXPORTER_ENV:
        return (
            f"cannot set {name}, which the operator sets on each export Job itself: "
            f"remove it ({RESERVED_EXPORTER_ENV[name]})"
        )
    return None
