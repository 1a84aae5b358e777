"""The operator's settings: one pydantic-settings model, read from the environment.

Every variable is documented in operator/README.md. Names are `EXPORT_OPERATOR_<FIELD>`, except the
S3 connection, which uses the names boto3 and the exporter already read.
"""

from typing import Annotated, Self

from pydantic import AliasChoices, Field, PositiveInt, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Seconds a presigned GET URL lives; the API signs its own per request with the same lifetime.
PRESIGN_SECONDS = 900


class OperatorSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EXPORT_OPERATOR_", frozen=True, extra="ignore", populate_by_name=True
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
    cpu_limit: str = "1"
    memory_request: str = "128Mi"
    memory_limit: str = "512Mi"
    termination_message_path: str = "/dev/termination-log"

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

    # Admission: how many export Jobs run at once, in the cluster and per space.
    max_running: PositiveInt = 10
    max_running_per_space: PositiveInt = 2

    # Time limits (seconds).
    retention_seconds: PositiveInt = 86400
    startup_timeout_seconds: PositiveInt = 300
    job_lost_grace_seconds: PositiveInt = 60

    @model_validator(mode="after")
    def _caps_consistent(self) -> Self:
        if self.max_running_per_space > self.max_running:
            raise ValueError(
                "EXPORT_OPERATOR_MAX_RUNNING_PER_SPACE must not exceed EXPORT_OPERATOR_MAX_RUNNING"
            )
        return self
