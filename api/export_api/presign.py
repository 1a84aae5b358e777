"""Download URLs: a presigned S3 GET, signed anew on each request, living 15 minutes from then.

Signing is local (no call to S3), so a status poll stays cheap. The bucket and key come from the
export's status; the API never stores or reuses a URL, so what a client gets cannot go stale (the
operator's status carries one of its own, readable only by roles that may download). The client and
the signing are export_storage's, shared with the operator and the exporter.
"""

from typing import TYPE_CHECKING

from export_api.settings import ApiSettings
from export_storage import ObjectStore, S3Settings
from export_storage import s3_client as storage_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The API's name for the store it signs with: a `Presigner(client, lifetime)`.
Presigner = ObjectStore


def s3_client(settings: ApiSettings) -> "S3Client":
    """The API's client; keys from its settings, or botocore's chain when they are unset."""
    return storage_client(
        S3Settings(
            endpoint_url=settings.s3_endpoint_url,
            region=settings.aws_default_region,
            access_key_id=settings.aws_access_key_id,
            secret_access_key=settings.aws_secret_access_key,
        )
    )
