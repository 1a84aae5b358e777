"""S3 multipart upload as the parts come, in background threads, aborted when anything fails.

Parts upload while the next ones are read and compressed. At most `_IN_FLIGHT` parts wait or
upload at a time, so memory stays flat and a slow S3 slows the reader instead of filling RAM.
botocore's "standard" retry mode retries transient failures (5xx, throttling, dropped
connections) of every call with backoff; a part body is bytes, so a retry resends it exactly.
"""

import logging
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from company_exporter.errors import BadRequestError, ExportError, RetriableError
from company_exporter.settings import ExporterSettings
from export_storage import ObjectStore, s3_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/gzip"  # and no Content-Encoding, or clients would gunzip it silently
LAST_PART_NUMBER = 10_000  # S3's limit
_IN_FLIGHT = 2
_CREDENTIAL_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken"}
)


def s3_failure(error: Exception, bucket: str, doing: str) -> ExportError:
    """An ExportError whose message says what S3 refused and what to do about it."""
    if isinstance(error, NoCredentialsError):
        return RetriableError(
            "no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(or give the Pod a web identity)"
        )
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        said = error.response.get("Error", {}).get("Message", "")
        if code in _CREDENTIAL_CODES:
            return RetriableError(
                f"S3 rejected the credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for "
                f"bucket {bucket} ({code}: {said}): fix the S3 secret or the bucket's policy"
            )
        if code == "NoSuchBucket":
            return RetriableError(f"bucket {bucket} does not exist: create it or fix EXPORT_BUCKET")
        return RetriableError(
            f"S3 failed to {doing} in bucket {bucket} ({code}: {said}); retry later"
        )
    if isinstance(error, BotoCoreError):
        return RetriableError(f"S3 failed to {doing} in bucket {bucket} ({error}); retry later")
    raise error


class MultipartUpload:
    """`with MultipartUpload(...) as upload: upload.send(part) ...; upload.complete()`.

    The client is made (unless given) and the upload started in an upload thread, beside the
    reading (its ~0.17 s of Python still holds the GIL the readers need at times). Leaving the
    block without `complete()` (an error, a cancel) aborts the upload, so S3 keeps no orphan parts
    that would be billed forever. Parts sent are numbered from `first_part` on; `include` adds
    parts others uploaded (a sharded export's shards).
    """

    def __init__(
        self,
        settings: ExporterSettings,
        bucket: str,
        key: str,
        first_part: int = 1,
        client: "S3Client | None" = None,
    ) -> None:
        self._settings = settings
        self._bucket = bucket
        self._key = key
        self._first_part = first_part
        self._last_part = LAST_PART_NUMBER
        self._client = client  # None: made in the upload's thread
        self._upload_id = ""
        self._parts: list[CompletedPartTypeDef] = []
        self._included: list[CompletedPartTypeDef] = []
        self._pending: deque[Future[CompletedPartTypeDef]] = deque()
        # Two threads: the last two parts upload side by side while the export waits for them.
        self._pool = ThreadPoolExecutor(max_workers=_IN_FLIGHT, thread_name_prefix="s3-upload")
        self._failed = threading.Event()
        self._completed = False

    def __enter__(self) -> "MultipartUpload":
        self._started = self._pool.submit(self._start)
        return self

    def _start(self) -> None:
        try:
            if self._client is None:
                self._client = s3_client(self._settings.storage())
            self._abort_other_uploads(self._client)
            created = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=self._key, ContentType=CONTENT_TYPE
            )
        except (BotoCoreError, ClientError) as error:
            self._failed.set()
            raise s3_failure(error, self._bucket, "start the upload") from error
        self._upload_id = created["UploadId"]

    @property
    def upload_id(self) -> str:
        """The upload's id, once S3 answered its creation (waits for it; raises its failure)."""
        self._started.result()
        return self._upload_id

    def _abort_other_uploads(self, client: "S3Client") -> None:
        """Aborts every upload open to this key but the one in progress.

        The key is this export's alone, so another open upload to it is garbage: before ours
        starts, one an earlier Pod of the Job could not abort (SIGKILL, out of memory, a lost
        node); after ours ends, one that S3 made for a create whose answer was lost and that
        botocore then sent again (an S3 restart at that moment). Best effort: without the
        permission to list uploads, the bucket's lifecycle rule remains the backstop.
        """
        try:
            ObjectStore(client).abort_open_uploads(self._bucket, self._key)
        except (BotoCoreError, ClientError) as error:
            log.warning(
                "could not check for other uploads left open to this key",
                extra={"bucket": self._bucket, "key": self._key, "error": str(error)},
            )

    def send(self, part: bytes) -> None:
        """Queues a part; blocks while `_IN_FLIGHT` parts are pending, raising their failure."""
        if self._started.done():
            self._started.result()  # raises the start's failure, if it failed
        while len(self._pending) >= _IN_FLIGHT:
            self._parts.append(self._result(self._pending.popleft()))
        number = self._first_part + len(self._parts) + len(self._pending)
        if number > self._last_part:
            raise BadRequestError(
                f"the file needs more than part {self._last_part} of its upload: raise "
                "EXPORT_PART_BYTES (the chart's exporter.settings) so that fewer parts hold it"
            )
        self._pending.append(self._pool.submit(self._upload_part, number, part))

    def sent_parts(self) -> list["CompletedPartTypeDef"]:
        """Every part sent, once uploaded (waits for them; raises the first failure)."""
        self._started.result()
        while self._pending:
            self._parts.append(self._result(self._pending.popleft()))
        return list(self._parts)

    def include(self, parts: list["CompletedPartTypeDef"]) -> None:
        """Parts of this upload that others uploaded, to complete it with."""
        self._included += parts

    def complete(self) -> None:
        parts = sorted(self.sent_parts() + self._included, key=lambda part: part["PartNumber"])
        assert self._client is not None  # the start succeeded
        try:
            self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": parts},
            )
        except (BotoCoreError, ClientError) as error:
            raise s3_failure(error, self._bucket, "complete the upload") from error
        self._completed = True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Parts still uploading would race the abort: let them end (or fail) first.
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._client is not None:
            self._end(self._client)

    def _end(self, client: "S3Client") -> None:
        """Leaves S3 with the file or nothing: the upload aborted unless complete, and others."""
        if not self._completed and self._upload_id:
            self._abort(client)
        self._abort_other_uploads(client)

    def _upload_part(self, number: int, part: bytes) -> "CompletedPartTypeDef":
        self._started.result()  # the start runs in the other thread; raises its failure
        assert self._client is not None  # set by the start
        if self._failed.is_set():
            # An earlier part failed for good: the upload will be aborted, don't send more.
            raise RetriableError("upload stopped after an earlier part failed")
        try:
            answer = self._client.upload_part(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                PartNumber=number, Body=part,
            )  # fmt: skip
        except BaseException:
            self._failed.set()
            raise
        return {"ETag": answer["ETag"], "PartNumber": number}

    def _result(self, future: "Future[CompletedPartTypeDef]") -> "CompletedPartTypeDef":
        try:
            return future.result()
        except (BotoCoreError, ClientError) as error:
            raise s3_failure(error, self._bucket, "upload a part") from error

    def _abort(self, client: "S3Client") -> None:
        try:
            client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
            )
        except (BotoCoreError, ClientError) as error:
            # The bucket's lifecycle rule (AbortIncompleteMultipartUpload) is the backstop.
            log.warning(
                "could not abort the multipart upload; the bucket's lifecycle rule must clean it",
                extra={"bucket": self._bucket, "key": self._key, "upload_id": self._upload_id,
                       "error": str(error)},
            )  # fmt: skip
            return
        log.info("aborted the multipart upload", extra={"key": self._key})


class ShardUpload(MultipartUpload):
    """A shard's parts of the upload its coordinator started: numbers `first_part` to
    `last_part`. The coordinator completes the upload, or aborts it when the export fails."""

    def __init__(
        self,
        settings: ExporterSettings,
        client: "S3Client",
        bucket: str,
        key: str,
        upload_id: str,
        part_numbers: range,
    ) -> None:
        super().__init__(settings, bucket, key, part_numbers.start, client)
        self._upload_id = upload_id
        self._last_part = part_numbers.stop - 1

    def _start(self) -> None:
        """Nothing to start: the client is given, the upload is the coordinator's."""

    def _end(self, client: "S3Client") -> None:
        """Nothing: a retry of this shard sends the same parts again; the rest is the
        coordinator's."""
