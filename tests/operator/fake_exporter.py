"""A small exporter that follows the exporter contract, for the operator's tests.

It runs as the export Job's container, in the exporter image with another command:
`python -c <this file's text> PLAN_PREFIX` (the image holds boto3 and export_contracts).

Reads the parameters from the environment (`export_contracts.exporter.PARAMETER_ENV`), writes a
gzipped NDJSON file of `records` lines to S3, puts the `ExporterResult` JSON into the termination
message file and exits 0. The test's plan lives in the same bucket, under PLAN_PREFIX (the Pod
shares no folder with the test): `<prefix>/<export_id>.json` may change what it does:
`{"records": 3, "seconds": 2.0, "fail_attempts": 1, "exit_code": 64, "message": "...",
"allocate_mb": 300}`: hold `allocate_mb` MiB of written memory and sleep `seconds` first; exit
`exit_code` (default 75) on the first `fail_attempts` runs (or every run when `fail_attempts` is
-1) with `message` as the termination message. It counts its runs in
`<prefix>/<export_id>.attempts`, and each run writes a `start` and an `end` object under
`<prefix>/runs/` holding "event export_id space_id time", so tests can measure concurrency.
"""

import gzip
import hashlib
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import boto3

from export_contracts.exporter import PARAMETER_ENV, ExporterParameters, ExporterResult


def _read(s3: Any, bucket: str, key: str) -> str | None:
    try:
        return str(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode())
    except s3.exceptions.NoSuchKey:
        return None


def _log(s3: Any, prefix: str, event: str, parameters: ExporterParameters) -> None:
    now = time.time()
    line = f"{event} {parameters.export_id} {parameters.space_id} {now:.3f}"
    key = f"{prefix}/runs/{now:.6f}-{uuid.uuid4().hex[:8]}"
    s3.put_object(Bucket=parameters.bucket, Key=key, Body=line.encode())


def main() -> int:
    prefix = sys.argv[1]
    parameters = ExporterParameters.model_validate(
        {field: os.environ[name] for field, name in PARAMETER_ENV.items()}
    )
    s3 = boto3.client(
        "s3",
        endpoint_url=os.environ["S3_ENDPOINT_URL"],
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )
    bucket, export_id = parameters.bucket, parameters.export_id
    plan = json.loads(_read(s3, bucket, f"{prefix}/{export_id}.json") or "{}")
    message_path = Path(os.environ["TERMINATION_MESSAGE_PATH"])
    _log(s3, prefix, "start", parameters)
    try:
        held = b"\xff" * (int(plan.get("allocate_mb", 0)) * 2**20)  # written: every page resident
        time.sleep(float(plan.get("seconds", 0)))
        failures = int(plan.get("fail_attempts", 0))
        attempt = int(_read(s3, bucket, f"{prefix}/{export_id}.attempts") or 0) + 1
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{export_id}.attempts", Body=str(attempt))
        if failures == -1 or attempt <= failures:
            message_path.write_text(plan.get("message", "the database is not reachable"))
            return int(plan.get("exit_code", 75))
        del held
        lines = b"".join(
            json.dumps({"id": n, "domain": f"c{n}.example"}).encode() + b"\n"
            for n in range(int(plan.get("records", 3)))
        )
        body = gzip.compress(lines)
        s3.put_object(
            Bucket=bucket, Key=parameters.object_key, Body=body, ContentType="application/gzip"
        )
        result = ExporterResult(
            export_id=export_id,
            records=lines.count(b"\n"),
            bytes=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            bucket=bucket,
            object_key=parameters.object_key,
        )
        message_path.write_text(result.model_dump_json())
        return 0
    finally:
        _log(s3, prefix, "end", parameters)


if __name__ == "__main__":
    sys.exit(main())
