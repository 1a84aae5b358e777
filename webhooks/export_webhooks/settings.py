"""The dispatcher's configuration, read from the environment."""

from datetime import timedelta
from typing import Annotated

from pydantic import Field, FilePath, PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict

from export_webhooks.addresses import AllowedNetworks

# A claimed delivery falls due again this long after its attempt's deadline, if its dispatcher
# died before recording the outcome.
LEASE_MARGIN_SECONDS = 5.0


class DispatcherSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: PostgresDsn
    # Attempts in flight at once, in all; and to one endpoint, so a slow receiver holds at most
    # this many of them.
    webhook_concurrency: Annotated[int, Field(ge=1, le=1000)] = 32
    webhook_endpoint_concurrency: Annotated[int, Field(ge=1, le=100)] = 4
    webhook_connect_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    # The whole attempt: connect, TLS, request, and the answer's head and (capped) body.
    webhook_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 15.0
    # Failed attempts are retried with exponential backoff (jittered) from this first delay,
    # capped at the maximum, until the retry window since the event is over.
    webhook_backoff_seconds: Annotated[float, Field(gt=0, le=3600)] = 5.0
    webhook_backoff_max_seconds: Annotated[float, Field(gt=0, le=86400)] = 3600.0
    webhook_retry_window_seconds: Annotated[float, Field(gt=0, le=7 * 86400)] = 86400.0
    # Networks allowed besides public addresses: only for development receivers.
    webhook_allowed_networks: AllowedNetworks = ()
    # PEM certificates to trust instead of the public authorities (a development receiver's).
    webhook_ca_bundle: FilePath | None = None
    # How often due deliveries are looked for when nothing wakes the dispatcher (retries).
    webhook_poll_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = 9102
    log_level: str = "INFO"

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.webhook_timeout_seconds + LEASE_MARGIN_SECONDS)
