"""The operations the programs do on an export's file, each written once."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)

# What a presigned URL lives unless told otherwise; the API's contract says 15 minutes.
DEFAULT_URL_LIFETIME = timedelta(minutes=15)
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


@contextmanager
def _unless_missing() -> Iterator[None]:
    """Swallows S3's answer that the object does not exist; raises any other."""
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in _MISSING_CODES:
            raise


def shard_board(key: str) -> str:
    """The prefix where a sharded export's Pods meet, beside its file: the coordinator's plan
    and each shard's manifest. Nothing there outlives the export."""
    return f"{key}.shards/"


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class ObjectStore:
    client: "S3Client"
    url_lifetime: timedelta = DEFAULT_URL_LIFETIME

    def size(self, bucket: str, key: str) -> int | None:
        """The object's size in bytes, or None when it does not exist."""
        with _unless_missing():
            return int(self.client.head_object(Bucket=bucket, Key=key)["ContentLength"])
        return None

    def read(self, bucket: str, key: str) -> bytes | None:
        """The object's bytes, or None when it does not exist."""
        with _unless_missing():
            return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return None

    def presign(self, bucket: str, key: str) -> SignedUrl:
        """A GET URL living `url_lifetime`; signing is local, no call to S3."""
        # Taken before signing and rounded down, so the URL never dies before the time announced.
        expires_at = datetime.now(UTC).replace(microsecond=0) + self.url_lifetime
        url = self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": bucket, "Key": key},
            ExpiresIn=int(self.url_lifetime.total_seconds()),
        )
        return SignedUrl(url=url, expires_at=expires_at)

    def delete(self, bucket: str, key: str) -> None:
        """Deletes the object, every upload still open to its key (a writer stopped midway),
        which S3 would otherwise keep, and bill, until the bucket's lifecycle rule runs, and what
        a sharded export's Pods left on its board."""
        self.abort_open_uploads(bucket, key)
        self.delete_prefix(bucket, shard_board(key))
        self.client.delete_object(Bucket=bucket, Key=key)

    def delete_prefix(self, bucket: str, prefix: str) -> None:
        """Deletes every object whose key starts with `prefix`."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for found in page.get("Contents", []):
                self.client.delete_object(Bucket=bucket, Key=found["Key"])

    def abort_open_uploads(self, bucket: str, key: str) -> list[str]:
        """Aborts every multipart upload open to exactly this key; returns their ids."""
        aborted = []
        pages = self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=bucket, Prefix=key
        )
        for page in pages:
            for upload in page.get("Uploads", []):
                # The prefix also matches longer keys: those belong to other files.
                if upload.get("Key") != key or "UploadId" not in upload:
                    continue
                self.client.abort_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=upload["UploadId"]
                )
                log.info(
                    "aborted an upload left open to the key",
                    extra={"bucket": bucket, "key": key, "upload_id": upload["UploadId"]},
                )
                aborted.append(upload["UploadId"])
        return aborted
