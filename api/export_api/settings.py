"""The API's configuration, read from the environment (and nothing read at import time)."""

from typing import Annotated

from pydantic import Field, PostgresDsn, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from export_api.ratelimit import Bucket, Limit
from export_webhooks.addresses import AllowedNetworks


class ApiSettings(BaseSettings):
    """Every knob of the API; `create_app(ApiSettings())` reads them from the environment."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: PostgresDsn
    database_pool_min: Annotated[int, Field(ge=1)] = 2
    database_pool_max: Annotated[int, Field(ge=1)] = 10
    # How long a request waits for a database connection before answering 503.
    database_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0

    # Empty: in-cluster config (the Pod's service account); else the kubeconfig at this path.
    kubeconfig: str = ""
    export_namespace: Annotated[str, Field(min_length=1, max_length=63)] = "default"
    # Each watch ends after this long and resumes: a stalled connection cannot freeze the cache.
    watch_timeout_seconds: Annotated[int, Field(ge=10, le=3600)] = 300

    export_bucket: Annotated[str, Field(min_length=3, max_length=63)]
    s3_endpoint_url: str | None = None
    aws_default_region: str = "us-east-1"
    # Unset: boto3's default chain (a Pod's web identity, an instance profile, ...).
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    download_url_lifetime_seconds: Annotated[int, Field(ge=60, le=3600)] = 900

    create_limit: Annotated[int, Field(ge=1)] = 5
    status_limit: Annotated[int, Field(ge=1)] = 30
    list_companies_limit: Annotated[int, Field(ge=1)] = 30
    rate_limit_period_seconds: Annotated[int, Field(ge=1)] = 60

    idempotency_window_hours: Annotated[int, Field(ge=1, le=168)] = 24
    # How long a finished export stays answerable (as expired, from PostgreSQL) after it finished.
    history_days: Annotated[int, Field(ge=1, le=3650)] = 90
    # How often finished exports are handed over from the cluster to PostgreSQL.
    archive_interval_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0
    # While PostgreSQL is down, a key this replica verified this recently still authenticates.
    outage_key_ttl_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    # The API's address as clients reach it ("https://exports.example.com"): webhook payloads
    # link to an export's status with it. Empty: they carry the path alone.
    public_url: Annotated[str, Field(pattern=r"^(https?://[^/?#]+)?$")] = ""
    webhook_endpoints_per_space: Annotated[int, Field(ge=1, le=100)] = 10
    # Networks a webhook URL may point into besides public addresses: development only (the
    # dispatcher has the same setting, and checks again at every connection).
    webhook_allowed_networks: AllowedNetworks = ()
    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _no_default_password(cls, value: PostgresDsn) -> PostgresDsn:
        # Refuse the classic sample credential rather than run a production API on it.
        if any(host.get("password") == "changeme" for host in value.hosts()):
            raise ValueError("DATABASE_URL uses the sample password 'changeme': set a real one")
        return value

    def limit(self, bucket: Bucket) -> Limit:
        counts = {
            Bucket.CREATE: self.create_limit,
            Bucket.STATUS: self.status_limit,
            Bucket.COMPANIES: self.list_companies_limit,
        }
        return Limit(bucket=bucket, count=counts[bucket], period=self.rate_limit_period_seconds)
