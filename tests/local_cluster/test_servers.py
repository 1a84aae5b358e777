"""PostgreSQL and S3 of the local stack: they serve, and S3 enforces signatures and expiry."""

import datetime
from unittest import mock

import httpx
import psycopg
import pytest
from botocore.exceptions import ClientError

from local_cluster.postgres import Postgres
from local_cluster.s3 import S3Server

pytestmark = pytest.mark.integration


def test_postgres_accepts_a_connection(postgres: Postgres) -> None:
    with psycopg.connect(postgres.url) as connection:
        row = connection.execute("SELECT current_database(), 6 * 7").fetchone()
    assert row == ("exports", 42)


def test_s3_stores_and_returns_an_object(s3: S3Server) -> None:
    client = s3.client()
    client.put_object(Bucket=s3.bucket, Key="tests/hello.txt", Body=b"hello")
    assert client.get_object(Bucket=s3.bucket, Key="tests/hello.txt")["Body"].read() == b"hello"


def test_s3_refuses_an_unsigned_request(s3: S3Server) -> None:
    s3.client().put_object(Bucket=s3.bucket, Key="tests/private.txt", Body=b"secret")
    response = httpx.get(f"{s3.endpoint_url}/{s3.bucket}/tests/private.txt")
    assert response.status_code == 403


def test_s3_refuses_wrong_credentials(s3: S3Server) -> None:
    intruder = S3Server(s3.server, s3.port, s3.access_key, "not-the-secret")
    with pytest.raises(ClientError) as refused:
        intruder.client().get_object(Bucket=s3.bucket, Key=".ready")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_s3_honours_then_refuses_a_presigned_url(s3: S3Server) -> None:
    client = s3.client()
    client.put_object(Bucket=s3.bucket, Key="tests/presigned.txt", Body=b"payload")
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": s3.bucket, "Key": "tests/presigned.txt"}, ExpiresIn=900
    )
    assert httpx.get(url).content == b"payload"
    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert httpx.get(tampered).status_code == 403


def test_s3_refuses_a_presigned_url_after_its_expiry(s3: S3Server) -> None:
    """Signed 16 minutes ago for 15 minutes: the server must find it expired (no sleeping)."""
    s3.client().put_object(Bucket=s3.bucket, Key="tests/expired.txt", Body=b"old")
    signed_at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=16)
    url = _presign_at(s3, "tests/expired.txt", signed_at, expires_in=900)
    response = httpx.get(url)
    assert response.status_code == 403
    assert "expired" in response.text.lower()


def _presign_at(s3: S3Server, key: str, signed_at: datetime.datetime, expires_in: int) -> str:
    """Moves the signer's clock back (not the server's): the URL is as old as `signed_at` says."""
    with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
        url: str = s3.client().generate_presigned_url(
            "get_object", Params={"Bucket": s3.bucket, "Key": key}, ExpiresIn=expires_in
        )
    return url
