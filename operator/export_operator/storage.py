"""The export files in S3, as the operator sees them: check, presign, delete."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:  # type stubs are a development dependency, absent where the product runs
    from mypy_boto3_s3 import S3Client

from export_operator.settings import PRESIGN_SECONDS, OperatorSettings
from export_operator.status import Download


@dataclass(frozen=True)
class ExportFiles:
    client: "S3Client"

    @classmethod
    def connect(cls, settings: OperatorSettings) -> "ExportFiles":
        """A client from S3_ENDPOINT_URL and the AWS_* variables (boto3 reads the keys itself)."""
        session = boto3.session.Session()
        return cls(
            session.client(
                "s3",
                endpoint_url=settings.s3_endpoint_url,
                region_name=settings.s3_region,
                config=Config(
                    signature_version="s3v4",
                    s3={"addressing_style": "path"},
                    connect_timeout=5,
                    read_timeout=30,
                    retries={"max_attempts": 3, "mode": "standard"},
                ),
            )
        )

    def size(self, bucket: str, key: str) -> int | None:
        """The object's size in bytes, or None when it does not exist."""
        try:
            head = self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(head["ContentLength"])

    def presign(self, bucket: str, key: str, now: datetime) -> Download:
        url = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=PRESIGN_SECONDS
        )
        return Download(url=url, expires_at=now + timedelta(seconds=PRESIGN_SECONDS))

    def delete(self, bucket: str, key: str) -> None:
        """Deletes the file and any unfinished upload of it (an exporter stopped mid-upload)."""
        uploads = self.client.list_multipart_uploads(Bucket=bucket, Prefix=key)
        for upload in uploads.get("Uploads", []):
            if upload.get("Key") == key and "UploadId" in upload:
                self.client.abort_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=upload["UploadId"]
                )
        self.client.delete_object(Bucket=bucket, Key=key)
