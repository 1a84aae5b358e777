"""A small exporter that follows the exporter contract, for the operator's tests.

    python fake_exporter.py PLAN_DIR

Reads the parameters from the environment (`export_contracts.exporter.PARAMETER_ENV`), writes a
gzipped NDJSON file of `records` lines to S3, puts the `ExporterResult` JSON into the termination
message file and exits 0. `PLAN_DIR/<export_id>.json` may change what it does:
`{"records": 3, "seconds": 2.0, "fail_attempts": 1, "exit_code": 64, "message": "..."}`:
sleep `seconds` first; exit `exit_code` (default 75) on the first `fail_attempts` runs (or every
run when `fail_attempts` is -1) with `message` as the termination message. Each run appends
`start`/`end` lines with times to `PLAN_DIR/runs.log`, so tests can measure concurrency.
"""

import gzip
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import boto3

from export_contracts.exporter import PARAMETER_ENV, ExporterParameters, ExporterResult


def _log(plan_dir: Path, event: str, parameters: ExporterParameters) -> None:
    line = f"{event} {parameters.export_id} {parameters.space_id} {time.time():.3f}\n"
    with (plan_dir / "runs.log").open("a") as log:
        log.write(line)


def _attempt(plan_dir: Path, export_id: int) -> int:
    counter = plan_dir / f"{export_id}.attempts"
    attempt = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(attempt))
    return attempt


def main() -> int:
    plan_dir = Path(sys.argv[1])
    parameters = ExporterParameters.model_validate(
        {field: os.environ[name] for field, name in PARAMETER_ENV.items()}
    )
    plan_file = plan_dir / f"{parameters.export_id}.json"
    plan = json.loads(plan_file.read_text()) if plan_file.exists() else {}
    message_path = Path(os.environ["TERMINATION_MESSAGE_PATH"])
    _log(plan_dir, "start", parameters)
    try:
        time.sleep(float(plan.get("seconds", 0)))
        failures = int(plan.get("fail_attempts", 0))
        attempt = _attempt(plan_dir, parameters.export_id)
        if failures == -1 or attempt <= failures:
            message_path.write_text(plan.get("message", "the database is not reachable"))
            return int(plan.get("exit_code", 75))
        lines = b"".join(
            json.dumps({"id": n, "domain": f"c{n}.example"}).encode() + b"\n"
            for n in range(int(plan.get("records", 3)))
        )
        body = gzip.compress(lines)
        boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"]).put_object(
            Bucket=parameters.bucket,
            Key=parameters.object_key,
            Body=body,
            ContentType="application/gzip",
        )
        result = ExporterResult(
            export_id=parameters.export_id,
            records=lines.count(b"\n"),
            bytes=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            bucket=parameters.bucket,
            object_key=parameters.object_key,
        )
        message_path.write_text(result.model_dump_json())
        return 0
    finally:
        _log(plan_dir, "end", parameters)


if __name__ == "__main__":
    sys.exit(main())
