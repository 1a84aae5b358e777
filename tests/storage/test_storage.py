"""export_storage against the session's real S3 server (SeaweedFS checks signatures and expiry)."""

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from botocore.exceptions import ReadTimeoutError
from pydantic import SecretStr

from export_storage import ObjectStore, S3Settings, s3_client
from local_cluster.s3 import S3Server

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.integration


def _settings(s3: S3Server, **overrides: Any) -> S3Settings:
    return S3Settings(
        endpoint_url=s3.endpoint_url,
        region=s3.region,
        access_key_id=s3.access_key,
        secret_access_key=SecretStr(s3.secret_key),
        **overrides,
    )


@pytest.fixture
def store(s3: S3Server) -> ObjectStore:
    return ObjectStore(s3_client(_settings(s3)))


@pytest.fixture
def key() -> str:
    return f"tests/storage/{uuid.uuid4()}.ndjson.gz"


def _open_uploads(client: "S3Client", bucket: str, key: str) -> list[str]:
    listed = client.list_multipart_uploads(Bucket=bucket, Prefix=key)
    return [u["UploadId"] for u in listed.get("Uploads", []) if u.get("Key") == key]


def _start_upload(client: "S3Client", bucket: str, key: str) -> str:
    """An upload with one part sent, left open as a killed writer leaves it."""
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x" * 1024)
    return upload_id


def test_presign_gives_a_url_that_downloads_the_object_for_15_minutes(
    s3: S3Server, store: ObjectStore, key: str
) -> None:
    s3.client().put_object(Bucket=s3.bucket, Key=key, Body=b"the file")
    before = datetime.now(UTC).replace(microsecond=0)
    signed = store.presign(s3.bucket, key)
    after = datetime.now(UTC)
    answer = httpx.get(signed.url, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.content == b"the file"
    assert before + timedelta(minutes=15) <= signed.expires_at <= after + timedelta(minutes=15)
    url = urlsplit(signed.url)
    assert parse_qs(url.query)["X-Amz-Expires"] == ["900"]
    assert url.path == f"/{s3.bucket}/{key}"  # path-style, as an S3-compatible endpoint needs


def test_presign_signs_for_the_stores_lifetime(s3: S3Server, key: str) -> None:
    s3.client().put_object(Bucket=s3.bucket, Key=key, Body=b"short")
    # X-Amz-Date drops the fraction of a second: a 1 s URL signed late in its second lives
    # only a few milliseconds, too short for a busy machine's first GET.
    store = ObjectStore(s3_client(_settings(s3)), url_lifetime=timedelta(seconds=5))
    signed = store.presign(s3.bucket, key)
    assert httpx.get(signed.url, timeout=30).status_code == 200
    assert parse_qs(urlsplit(signed.url).query)["X-Amz-Expires"] == ["5"]
    # X-Amz-Date has whole seconds: past expires_at plus that second, S3 refuses the URL.
    while datetime.now(UTC) < signed.expires_at + timedelta(seconds=1.5):
        time.sleep(0.2)
    assert httpx.get(signed.url, timeout=30).status_code == 403


def test_delete_aborts_the_keys_open_upload_and_removes_the_object(
    s3: S3Server, store: ObjectStore, key: str
) -> None:
    client = s3.client()
    client.put_object(Bucket=s3.bucket, Key=key, Body=b"done")
    _start_upload(client, s3.bucket, key)
    # A longer key shares the prefix the listing asks for: its upload is another file's.
    neighbour = f"{key}.other"
    neighbours_upload = _start_upload(client, s3.bucket, neighbour)

    store.delete(s3.bucket, key)

    assert _open_uploads(client, s3.bucket, key) == []
    assert store.size(s3.bucket, key) is None
    assert _open_uploads(client, s3.bucket, neighbour) == [neighbours_upload]
    client.abort_multipart_upload(Bucket=s3.bucket, Key=neighbour, UploadId=neighbours_upload)


def test_delete_of_a_missing_object_succeeds(s3: S3Server, store: ObjectStore, key: str) -> None:
    store.delete(s3.bucket, key)  # a retried delete finds nothing left: not an error
    assert store.size(s3.bucket, key) is None


def test_abort_open_uploads_names_every_upload_it_aborted(
    s3: S3Server, store: ObjectStore, key: str
) -> None:
    client = s3.client()
    started = {_start_upload(client, s3.bucket, key), _start_upload(client, s3.bucket, key)}
    assert set(store.abort_open_uploads(s3.bucket, key)) == started
    assert _open_uploads(client, s3.bucket, key) == []
    assert store.abort_open_uploads(s3.bucket, key) == []


def test_size_is_the_objects_bytes_or_none_when_it_is_missing(
    s3: S3Server, store: ObjectStore, key: str
) -> None:
    assert store.size(s3.bucket, key) is None
    s3.client().put_object(Bucket=s3.bucket, Key=key, Body=b"x" * 12345)
    assert store.size(s3.bucket, key) == 12345


def test_the_client_is_configured_as_its_settings_say(s3: S3Server) -> None:
    settings = _settings(s3, connect_timeout_seconds=2.5, read_timeout_seconds=7, max_attempts=3)
    config = s3_client(settings).meta.config
    assert config.connect_timeout == 2.5
    assert config.read_timeout == 7
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert config.signature_version == "s3v4"
    assert config.s3 == {"addressing_style": "path"}


class SilentServer:
    """Accepts connections, reads what comes and never answers: every call is a read timeout."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.connections = 0
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed
            self.connections += 1
            self._held.append(connection)

    def close(self) -> None:
        self._listener.close()
        for connection in self._held:
            connection.close()
        self._thread.join(timeout=5)


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def test_a_silent_server_costs_each_attempt_its_read_timeout(silent_server: SilentServer) -> None:
    settings = S3Settings(
        endpoint_url=silent_server.endpoint_url,
        region="us-east-1",
        access_key_id="AKIDTEST",
        secret_access_key=SecretStr("not-a-secret"),
        read_timeout_seconds=0.5,
        max_attempts=3,
    )
    store = ObjectStore(s3_client(settings))
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        store.size("bucket", "key")
    took = time.monotonic() - started
    assert silent_server.connections == 3  # one per attempt: a timed-out connection is dropped
    # Three reads of 0.5 s, and "standard" mode's backoff between them (at most 1 s, then 2 s).
    assert 1.5 <= took < 1.5 + 3 + 2, f"took {took:.1f} s"
