"""Download URLs: a presigned S3 GET, signed anew on each request, living 15 minutes from then.

Signing is local (no call to S3), so a status poll stays cheap. The bucket and key come from the
export's status; the URL is never stored, so it cannot go stale.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from export_api.settings import ApiSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: datetime


class Presigner:
    def __init__(self, s3: "S3Client", lifetime: timedelta) -> None:
        self._s3 = s3
        self._lifetime = lifetime

    def sign(self, bucket: str, key: str) -> SignedUrl:
        # Taken before signing, so the URL never outlives the time we announce.
        expires_at = datetime.now(UTC).replace(microsecond=0) + self._lifetime
        url = self._s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": bucket, "Key": key},
            ExpiresIn=int(self._lifetime.total_seconds()),
        )
        return SignedUrl(url=url, expires_at=expires_at)


def s3_client(settings: ApiSettings) -> "S3Client":
    """A SigV4 client; path-style addressing so any S3-compatible endpoint works."""
    secret = settings.aws_secret_access_key
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.aws_default_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
