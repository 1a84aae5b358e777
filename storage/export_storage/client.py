"""The one S3 client factory, configured by a small settings model each program fills in."""

from typing import TYPE_CHECKING, Annotated, cast

from pydantic import BaseModel, ConfigDict, Field, SecretStr

if TYPE_CHECKING:  # type stubs are a development dependency, absent where the product runs
    from mypy_boto3_s3 import S3Client


class S3Settings(BaseModel):
    """Where S3 is and how patient to be with it; unset keys leave botocore's own chain."""

    model_config = ConfigDict(frozen=True)

    # None: AWS's own endpoints; else an S3-compatible server's URL.
    endpoint_url: str | None = None
    # None: botocore reads AWS_DEFAULT_REGION or its config file.
    region: str | None = None
    # None: botocore's chain (environment, web identity, instance profile, ...).
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    connect_timeout_seconds: Annotated[float, Field(gt=0)] = 5.0
    read_timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    # Every call's attempts, the first one included ("standard" mode retries 5xx, throttling and
    # dropped connections with backoff).
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 4


def s3_client(settings: S3Settings) -> "S3Client":
    """A SigV4 client; botocore's own session, as boto3's adds ~0.35 s of start-up only.

    botocore's client machinery is imported here, not at the top: the exporter makes its client
    in a thread once its readers have started, not before them in its start-up.
    """
    import botocore.session
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        connect_timeout=settings.connect_timeout_seconds,
        read_timeout=settings.read_timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
        # Path-style for S3-compatible servers at an endpoint URL; AWS picks its own style.
        s3={"addressing_style": "path" if settings.endpoint_url else "auto"},
    )
    secret = settings.secret_access_key
    client = botocore.session.get_session().create_client(
        "s3",
        endpoint_url=settings.endpoint_url,
        region_name=settings.region,
        aws_access_key_id=settings.access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        config=config,
    )
    return cast("S3Client", client)
