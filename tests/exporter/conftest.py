"""Fixtures of the exporter's tests: the migrated database, spaces with companies, and a runner
that starts the exporter image's own program as a process: the image's `company-exporter` in the
image's files, as the image's user (local_cluster.image_program), with the environment the
operator gives a Job's container. The folder of each test's termination messages is bound into
the image's files at `/run/exporter-test`.
"""

import gzip
import json
import logging
import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from export_contracts.exporter import ExporterFailure, ExporterResult
from export_database.company_json import COMPANY_FIELDS
from export_database.generate import create_space, generate_companies
from export_database.migrate import migrate
from local_cluster.image_program import ImageProgram, shipped_program
from local_cluster.postgres import Postgres
from local_cluster.s3 import S3Server

ROOT = Path(__file__).parents[2]
EXPORTER_IMAGE = "company-exports-exporter"
# Where a run's folder of termination messages shows in the image's files.
SCRATCH_IN_IMAGE = "/run/exporter-test"
log = logging.getLogger(__name__)
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


@pytest.fixture(scope="session")
def exporter_program() -> Iterator[ImageProgram]:
    """The exporter image (built, or found by its content hash), its files mounted."""
    with shipped_program(ROOT, EXPORTER_IMAGE, log.info) as program:
        yield program


@pytest.fixture(scope="session")
def database_url(postgres: Postgres) -> str:
    migrate(postgres.url)
    return postgres.url


def new_space(database_url: str, timezone: str = "UTC") -> int:
    with psycopg.connect(database_url) as conn:
        return create_space(conn, f"exporter-test-{uuid.uuid4()}", timezone)


def connections_left(conn: psycopg.Connection[tuple[int]], export_id: int) -> int:
    """The export's connections still open, once the backends of those closed have ended (a
    backend leaves pg_stat_activity a moment after its client closed)."""
    deadline = time.monotonic() + 5
    while True:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            (f"company-exporter/{export_id}",),
        ).fetchone()
        assert row is not None
        if row[0] == 0 or time.monotonic() > deadline:
            return int(row[0])
        time.sleep(0.05)


def sessions_started(conn: psycopg.Connection[tuple[int]]) -> int:
    """Backends started in the test database so far (PostgreSQL counts each as it starts)."""
    row = conn.execute(
        "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
    ).fetchone()
    assert row is not None
    return int(row[0])


def insert_companies(database_url: str, space_id: int, rows: Iterable[Mapping[str, Any]]) -> None:
    """Inserts rows given as {column: value}; name, created_at and updated_at default here."""
    with psycopg.connect(database_url) as conn, conn.cursor() as cursor:
        for row in rows:
            values = {"name": "Company", **row, "space_id": space_id}
            values.setdefault("updated_at", values["created_at"])
            if "custom_attributes" in values:
                values["custom_attributes"] = psycopg.types.json.Jsonb(values["custom_attributes"])
            statement = sql.SQL("INSERT INTO companies ({}) VALUES ({})").format(
                sql.SQL(", ").join(map(sql.Identifier, values)),
                sql.SQL(", ").join(map(sql.Placeholder, values)),
            )
            cursor.execute(statement, values)


@pytest.fixture(scope="session")
def space_100k(database_url: str) -> int:
    """A space with 100,000 generated companies (shared: tests only read it)."""
    space_id = new_space(database_url, "Europe/Berlin")
    with psycopg.connect(database_url) as conn:
        generate_companies(conn, space_id, 100_000, seed=100_000)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE companies")
    return space_id


def database_rows(
    database_url: str, space_id: int, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The rows an export of [start, end) must hold, read with plain SELECT, as Python values."""
    columns = sql.SQL(", ").join(
        sql.SQL("custom_attributes::text")
        if field == "custom_attributes"
        else sql.Identifier(field)
        for field in COMPANY_FIELDS
    )
    query = sql.SQL(
        "SELECT {} FROM companies WHERE space_id = %s"
        " AND created_at >= %s AND created_at < %s ORDER BY created_at, id"
    ).format(columns)
    with psycopg.connect(database_url) as conn:
        cursor = conn.execute(query, (space_id, start, end))
        rows = [dict(zip(COMPANY_FIELDS, values, strict=True)) for values in cursor]
    for row in rows:
        row["custom_attributes"] = json.loads(row["custom_attributes"], parse_float=Decimal)
    return rows


def parse_line(line: bytes) -> dict[str, Any]:
    """One NDJSON line as Python values; asserts its shape (UTF-8, fields, RFC 3339 UTC)."""
    company = json.loads(line.decode("utf-8"), parse_float=Decimal)
    assert list(company) == list(COMPANY_FIELDS)
    for name in ("created_at", "updated_at"):
        assert RFC3339_UTC.match(company[name]), company[name]
        company[name] = datetime.fromisoformat(company[name])
    return company


@dataclass
class ExportedObject:
    raw: bytes
    lines: list[bytes]


def read_export(s3: S3Server, key: str) -> ExportedObject:
    """Downloads the object; asserts it is stored as a gzip file (never as a Content-Encoding)."""
    answer = s3.client().get_object(Bucket=s3.bucket, Key=key)
    assert answer["ContentType"] == "application/gzip"
    assert "ContentEncoding" not in answer
    raw = answer["Body"].read()
    text = gzip.decompress(raw)
    assert text == b"" or text.endswith(b"\n")
    # Split on newline bytes only: U+2028 and friends are not line breaks in NDJSON.
    return ExportedObject(raw, text.split(b"\n")[:-1] if text else [])


def open_uploads(s3: S3Server, key: str) -> list[str]:
    answer = s3.client().list_multipart_uploads(Bucket=s3.bucket, Prefix=key)
    return [upload["UploadId"] for upload in answer.get("Uploads", [])]


@dataclass
class ExporterRun:
    exit_code: int
    stdout: str
    stderr: str
    termination_message: str
    seconds: float
    key: str

    @property
    def peak_rss_mb(self) -> float:
        """What the exporter logged as its peak RSS since exec (wait4's maxrss counts the fork)."""
        for line in self.stderr.splitlines():
            record = json.loads(line)
            if record["message"] == "export finished":
                return float(record["peak_rss_mb"])
        raise AssertionError(f"no 'export finished' log line in:\n{self.stderr}")

    def result(self) -> ExporterResult:
        assert self.exit_code == 0, self.stderr
        from_stdout = ExporterResult.model_validate_json(self.stdout)
        assert ExporterResult.model_validate_json(self.termination_message) == from_stdout
        return from_stdout

    def failure(self) -> ExporterFailure:
        assert self.exit_code != 0, self.stdout
        assert "Traceback" not in self.stderr
        failure = ExporterFailure.model_validate_json(self.termination_message)
        assert failure.exit_code == self.exit_code
        logged = [json.loads(line)["message"] for line in self.stderr.splitlines()]
        assert failure.error in logged  # the log says it too
        return failure


@dataclass
class _Process:
    """A started exporter process and where its output goes."""

    popen: "subprocess.Popen[bytes]"
    env: dict[str, str]
    out: Path
    err: Path
    termination: Path  # where the default TERMINATION_MESSAGE_PATH is on this machine
    started: float

    def collect(self, timeout: float) -> ExporterRun:
        try:
            self.popen.wait(timeout)
        finally:
            self.popen.kill()
            self.popen.wait()
        return ExporterRun(
            exit_code=self.popen.returncode,
            stdout=self.out.read_text(),
            stderr=self.err.read_text(),
            termination_message=self.termination.read_text() if self.termination.exists() else "",
            seconds=time.monotonic() - self.started,
            key=self.env.get("OBJECT_KEY", ""),
        )


@dataclass
class ShardedRun:
    coordinator: ExporterRun
    shards: list[ExporterRun]

    def joined(self) -> ExporterRun:
        """The coordinator's run, with every Pod's log (the coordinator's first)."""
        logs = [self.coordinator.stderr, *(shard.stderr for shard in self.shards)]
        return replace(self.coordinator, stderr="".join(logs))


@dataclass
class Exporter:
    """Runs company-exporter with the environment the operator gives it, plus overrides.

    With `shards` > 1 each run is a sharded export: a coordinator process and `shards` shard
    processes, each with the JOB_COMPLETION_INDEX Kubernetes gives the Pods of an Indexed Job.
    """

    program: ImageProgram
    database_url: str
    s3: S3Server
    scratch: Path
    settings: Mapping[str, str] = field(default_factory=dict)  # before the run's overrides
    shards: int = 1

    def env(self, space_id: int, start: datetime, end: datetime, key: str) -> dict[str, str]:
        return {
            **self.program.env,
            **self.settings,
            "EXPORT_ID": "7", "SPACE_ID": str(space_id),
            "RANGE_START": start.isoformat(), "RANGE_END": end.isoformat(),
            "EXPORT_BUCKET": self.s3.bucket, "OBJECT_KEY": key,
            "DATABASE_URL": self.database_url, "S3_ENDPOINT_URL": self.s3.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.s3.access_key, "AWS_SECRET_ACCESS_KEY": self.s3.secret_key,
            "AWS_DEFAULT_REGION": self.s3.region,
            # Never ask a cloud metadata address for credentials from a test.
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }  # fmt: skip

    def _run_env(
        self,
        space_id: int,
        start: datetime,
        end: datetime,
        overrides: Mapping[str, str | None] | None,
    ) -> dict[str, str]:
        key = f"exports/{space_id}/{uuid.uuid4()}.ndjson.gz"
        env = self.env(space_id, start, end, key)
        for name, value in (overrides or {}).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def start(self, env: Mapping[str, str], args: Iterable[str] = ()) -> _Process:
        """Starts one exporter process with `env` and its own termination message file."""
        tag = uuid.uuid4().hex
        self.scratch.chmod(0o777)  # the image's user writes the termination messages there
        env = {"TERMINATION_MESSAGE_PATH": f"{SCRATCH_IN_IMAGE}/termination-{tag}", **env}
        out_path, err_path = self.scratch / f"{tag}.out", self.scratch / f"{tag}.err"
        command = self.program.command(args, binds=[(self.scratch, SCRATCH_IN_IMAGE)])
        started = time.monotonic()
        with out_path.open("w") as out, err_path.open("w") as err:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        termination = self.scratch / f"termination-{tag}"
        return _Process(process, env, out_path, err_path, termination, started)

    def run(
        self,
        space_id: int,
        start: datetime,
        end: datetime,
        *,
        overrides: Mapping[str, str | None] | None = None,
        args: Iterable[str] = (),
        while_running: Callable[["subprocess.Popen[bytes]"], None] | None = None,
        timeout: float = 120,
    ) -> ExporterRun:
        env = self._run_env(space_id, start, end, overrides)
        if self.shards > 1:
            assert not args, "a sharded run takes no command line"
            assert while_running is None, "a sharded run has no one process to watch"
            return self.run_sharded(env, timeout=timeout).joined()
        process = self.start(env, args)
        try:
            if while_running is not None:
                while_running(process.popen)
        finally:
            run = process.collect(timeout)
        return run

    def sharded_env(
        self,
        space_id: int,
        start: datetime,
        end: datetime,
        overrides: Mapping[str, str | None] | None = None,
    ) -> dict[str, str]:
        return self._run_env(
            space_id, start, end, {"EXPORT_SHARDS": str(self.shards), **(overrides or {})}
        )

    def start_pod(self, env: Mapping[str, str], index: int) -> _Process:
        """The process of the Indexed Job's Pod `index` (0: the coordinator)."""
        return self.start({**env, "JOB_COMPLETION_INDEX": str(index)})

    def run_sharded(self, env: Mapping[str, str], timeout: float = 120) -> ShardedRun:
        env = {"EXPORT_SHARDS": str(self.shards), **env}
        processes = [self.start_pod(env, index) for index in range(self.shards + 1)]
        runs = [process.collect(timeout) for process in reversed(processes)][::-1]
        return ShardedRun(coordinator=runs[0], shards=runs[1:])


@pytest.fixture
def exporter(
    exporter_program: ImageProgram, database_url: str, s3: S3Server, tmp_path: Path
) -> Exporter:
    return Exporter(exporter_program, database_url, s3, tmp_path)
