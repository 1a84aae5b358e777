"""What the exporter says when S3 refuses: which credentials or bucket, and what to do."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from company_exporter.errors import RetriableError
from company_exporter.upload import s3_failure

pytestmark = pytest.mark.unit


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "said S3"}}, "UploadPart")


@pytest.mark.parametrize("code", ["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"])
def test_refused_credentials_name_the_variables(code: str) -> None:
    failure = s3_failure(client_error(code), "exports", "upload a part")

    assert isinstance(failure, RetriableError)
    assert "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY" in str(failure)
    assert code in str(failure)


def test_missing_bucket_names_it() -> None:
    failure = s3_failure(client_error("NoSuchBucket"), "exports", "start the upload")

    assert "bucket exports does not exist: create it or fix EXPORT_BUCKET" in str(failure)


def test_no_credentials_at_all() -> None:
    failure = s3_failure(NoCredentialsError(), "exports", "start the upload")

    assert "no S3 credentials found" in str(failure)


def test_unreachable_endpoint_is_retriable() -> None:
    error = EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    failure = s3_failure(error, "exports", "upload a part")

    assert isinstance(failure, RetriableError)
    assert "http://127.0.0.1:1" in str(failure)


def test_other_errors_are_not_swallowed() -> None:
    with pytest.raises(ValueError, match="a bug"):
        s3_failure(ValueError("a bug"), "exports", "upload a part")
