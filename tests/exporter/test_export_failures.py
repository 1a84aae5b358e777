"""How an export fails: with the right exit code, a message saying what to do, and no orphans."""

import signal
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from export_contracts.exporter import ExitCode
from local_cluster.process import free_port
from local_cluster.s3 import S3Server
from tests.exporter.conftest import (
    Exporter,
    database_rows,
    insert_companies,
    new_space,
    open_uploads,
    parse_line,
    read_export,
)
from tests.exporter.faulty_s3 import FaultyS3Proxy

pytestmark = pytest.mark.integration

START = datetime(2019, 1, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)
# 5 MiB parts (S3's minimum) make the 100k space's ~10.5 MB of gzip three parts.
SMALL_PARTS = {"EXPORT_PART_BYTES": str(5 * 1024 * 1024), "EXPORT_S3_MAX_ATTEMPTS": "3"}


@pytest.fixture(scope="module")
def small_space(database_url: str) -> int:
    space_id = new_space(database_url)
    insert_companies(database_url, space_id, [{"created_at": START + timedelta(days=1)}])
    return space_id


def object_exists(s3: S3Server, key: str) -> bool:
    listing = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=key)
    return bool(listing.get("KeyCount"))


@pytest.mark.parametrize(
    ("overrides", "args", "named"),
    [
        ({"EXPORT_ID": None}, [], "EXPORT_ID"),
        ({"SPACE_ID": "seven"}, [], "SPACE_ID"),
        ({"RANGE_START": "2024-01-01T00:00:00"}, [], "RANGE_START"),  # no offset: ambiguous
        ({"RANGE_END": "2018-01-01T00:00:00Z"}, [], "range_end must be later than range_start"),
        ({"OBJECT_KEY": None}, [], "OBJECT_KEY"),
        ({}, ["--space-id", "0"], "SPACE_ID (--space-id)"),
        ({}, ["--no-such-option"], "unrecognized arguments"),
        ({"DATABASE_URL": None}, [], "DATABASE_URL"),
    ],
    ids=[
        "missing-id",
        "bad-space",
        "naive-start",
        "end-before-start",
        "missing-key",
        "bad-option",
        "unknown-option",
        "missing-database-url",
    ],
)
def test_bad_input_is_a_bad_request(
    exporter: Exporter,
    small_space: int,
    overrides: dict[str, str | None],
    args: list[str],
    named: str,
) -> None:
    run = exporter.run(small_space, START, END, overrides=overrides, args=args)

    assert run.exit_code == ExitCode.BAD_REQUEST
    assert named in run.failure().error


def test_options_override_the_environment(
    exporter: Exporter, s3: S3Server, small_space: int
) -> None:
    run = exporter.run(small_space, START, END, args=["--export-id", "99"])

    assert run.result().export_id == 99


def test_unknown_space_is_a_bad_request(exporter: Exporter, s3: S3Server) -> None:
    run = exporter.run(10**12, START, END)

    assert run.exit_code == ExitCode.BAD_REQUEST
    assert "space 1000000000000 does not exist" in run.failure().error
    assert not object_exists(s3, run.key)


def test_database_gone_is_retriable(exporter: Exporter, small_space: int) -> None:
    port = free_port()
    url = f"postgresql://exports:secret@127.0.0.1:{port}/exports"

    run = exporter.run(small_space, START, END, overrides={"DATABASE_URL": url})

    assert run.exit_code == ExitCode.RETRIABLE
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{port}/exports" in run.failure().error


def test_wrong_database_password_says_so(exporter: Exporter, small_space: int) -> None:
    parts = urlsplit(exporter.database_url)
    wrong = parts._replace(
        netloc=f"{parts.username}:not-the-password@{parts.hostname}:{parts.port}"
    )

    run = exporter.run(small_space, START, END, overrides={"DATABASE_URL": urlunsplit(wrong)})

    assert run.exit_code == ExitCode.RETRIABLE
    failure = run.failure()
    assert f"rejected the credentials of user {parts.username}" in failure.error
    assert "not-the-password" not in failure.error + run.stderr


def test_wrong_s3_secret_says_so(exporter: Exporter, s3: S3Server, small_space: int) -> None:
    run = exporter.run(small_space, START, END, overrides={"AWS_SECRET_ACCESS_KEY": "wrong"})

    assert run.exit_code == ExitCode.RETRIABLE
    assert "S3 rejected the credentials" in run.failure().error
    assert not object_exists(s3, run.key)


def test_s3_failing_mid_upload_aborts_the_upload(
    exporter: Exporter, s3: S3Server, space_100k: int
) -> None:
    with FaultyS3Proxy(s3.port, fail=lambda part, attempt: part >= 2) as proxy:
        overrides = {**SMALL_PARTS, "S3_ENDPOINT_URL": proxy.endpoint_url}
        run = exporter.run(space_100k, START, END, overrides=overrides)

    assert run.exit_code == ExitCode.RETRIABLE
    assert "S3 failed to upload a part" in run.failure().error
    # Every attempt botocore was allowed, for part 2 and for part 3 if it was already on its way
    # (two parts upload side by side); then nothing more was sent.
    assert [attempt for part, attempt in proxy.failed if part == 2] == [1, 2, 3]
    assert {part for part, _ in proxy.failed} <= {2, 3}
    assert all(attempt <= 3 for _, attempt in proxy.failed)
    assert not object_exists(s3, run.key)
    assert open_uploads(s3, run.key) == []


def test_an_upload_whose_creation_answer_was_lost_is_aborted(
    exporter: Exporter, s3: S3Server, small_space: int
) -> None:
    never_fail = lambda part, attempt: False  # noqa: E731
    with FaultyS3Proxy(s3.port, fail=never_fail, lose_first_create=True) as proxy:
        run = exporter.run(
            small_space, START, END, overrides={"S3_ENDPOINT_URL": proxy.endpoint_url}
        )

    assert run.result().records > 0
    assert proxy.creates == 2  # S3 made two uploads; the exporter knew only the second
    assert object_exists(s3, run.key)
    assert open_uploads(s3, run.key) == []


def test_transient_s3_errors_are_retried(exporter: Exporter, s3: S3Server, space_100k: int) -> None:
    with FaultyS3Proxy(s3.port, fail=lambda part, attempt: attempt == 1) as proxy:
        overrides = {**SMALL_PARTS, "S3_ENDPOINT_URL": proxy.endpoint_url}
        run = exporter.run(space_100k, START, END, overrides=overrides)

    result = run.result()
    assert sorted(proxy.failed) == [(1, 1), (2, 1), (3, 1)]  # two parts upload side by side
    exported = read_export(s3, run.key)
    assert result.records == len(exported.lines) == 100_000
    first, last = parse_line(exported.lines[0]), parse_line(exported.lines[-1])
    expected = database_rows(exporter.database_url, space_100k, START, END)
    assert (first, last) == (expected[0], expected[-1])


def test_sigterm_aborts_the_upload(exporter: Exporter, s3: S3Server, space_100k: int) -> None:
    def terminate_after_first_part(process: "subprocess.Popen[bytes]") -> None:
        proxy.arrived.wait(timeout=30)
        process.send_signal(signal.SIGTERM)

    with FaultyS3Proxy(s3.port, fail=lambda part, attempt: False, part_delay=2.0) as proxy:
        run = exporter.run(
            space_100k, START, END,
            overrides={**SMALL_PARTS, "S3_ENDPOINT_URL": proxy.endpoint_url},
            while_running=terminate_after_first_part,
        )  # fmt: skip

    assert run.exit_code == ExitCode.RETRIABLE
    assert "SIGTERM" in run.failure().error
    assert not object_exists(s3, run.key)
    assert open_uploads(s3, run.key) == []


def test_unwritable_termination_path_only_warns(exporter: Exporter, small_space: int) -> None:
    overrides = {"TERMINATION_MESSAGE_PATH": "/proc/no-such-dir/termination-log"}

    run = exporter.run(small_space, START, END, overrides=overrides)

    assert run.exit_code == 0
    assert '"records":1' in run.stdout
    assert "cannot write the termination message" in run.stderr


@contextmanager
def silenced(client_ports: list[int], server_port: int) -> Iterator[None]:
    """Drops every packet of these connections, both ways: a path gone dead without a reset (a
    node's network lost, a NAT entry dropped), which only TCP keepalives can notice."""
    ports = ", ".join(map(str, client_ports))
    table = "company_exports_test_silence"
    rules = f"""table inet {table} {{
  chain input {{
    type filter hook input priority filter - 20; policy accept;
    tcp sport {server_port} tcp dport {{ {ports} }} drop
    tcp dport {server_port} tcp sport {{ {ports} }} drop
  }}
  chain output {{
    type filter hook output priority filter - 20; policy accept;
    tcp sport {server_port} tcp dport {{ {ports} }} drop
    tcp dport {server_port} tcp sport {{ {ports} }} drop
  }}
}}
"""
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)
    try:
        yield
    finally:
        subprocess.run(["nft", "delete", "table", "inet", table], check=True)


def test_a_database_path_gone_silent_mid_export_fails_instead_of_hanging(
    exporter: Exporter, s3: S3Server, space_100k: int
) -> None:
    """Without keepalives a reader would wait for rows for the kernel's two hours; with them its
    query fails after ~25 s of silence (the collect's timeout below is the bound) and the Job
    retries."""
    with ExitStack() as silence:

        def silence_its_connections(process: "subprocess.Popen[bytes]") -> None:
            proxy.arrived.wait(timeout=30)
            with psycopg.connect(exporter.database_url, autocommit=True) as conn:
                rows = conn.execute(
                    "SELECT client_port FROM pg_stat_activity"
                    " WHERE application_name = 'company-exporter/7'"
                ).fetchall()
            assert rows, "the exporter has no connection left to silence"
            port = urlsplit(exporter.database_url).port
            assert port is not None
            silence.enter_context(silenced([row[0] for row in rows], port))

        # Stored, not deflated: the 68 MB make 13 parts, so the first one reaches the proxy with
        # most rows still unread, and slow parts hold the readers back while the path goes
        # silent. (Deflated, the first of two parts came with half the rows read, and a fast
        # exporter read the other half before the silence.)
        with FaultyS3Proxy(s3.port, fail=lambda part, attempt: False, part_delay=3.0) as proxy:
            run = exporter.run(
                space_100k, START, END,
                overrides={
                    **SMALL_PARTS, "S3_ENDPOINT_URL": proxy.endpoint_url,
                    "EXPORT_SLICE_ROWS": "1000", "EXPORT_COMPRESSION_LEVEL": "0",
                },
                while_running=silence_its_connections,
                timeout=120,
            )  # fmt: skip

    assert run.exit_code == ExitCode.RETRIABLE, run.stderr
    assert "failed during the export" in run.failure().error
    assert not object_exists(s3, run.key)
    assert open_uploads(s3, run.key) == []


def test_database_lost_mid_export_is_retriable_and_aborts(
    exporter: Exporter, s3: S3Server, space_100k: int
) -> None:
    def kill_the_backend_after_first_part(process: "subprocess.Popen[bytes]") -> None:
        proxy.arrived.wait(timeout=30)
        with psycopg.connect(exporter.database_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'company-exporter/7'"
            )

    # Stored, not deflated (13 parts): the first part reaches S3 with most rows unread; slow
    # parts then hold the readers back (two parts in flight at most, readers at most three
    # 1,000-row slices ahead) while the database goes away.
    with FaultyS3Proxy(s3.port, fail=lambda part, attempt: False, part_delay=3.0) as proxy:
        run = exporter.run(
            space_100k, START, END,
            overrides={
                **SMALL_PARTS, "S3_ENDPOINT_URL": proxy.endpoint_url, "EXPORT_SLICE_ROWS": "1000",
                "EXPORT_COMPRESSION_LEVEL": "0",
            },
            while_running=kill_the_backend_after_first_part,
        )  # fmt: skip

    assert run.exit_code == ExitCode.RETRIABLE
    database = urlsplit(exporter.database_url)
    assert f"PostgreSQL at {database.hostname}:{database.port}/exports" in run.failure().error
    assert "failed during the export" in run.failure().error
    assert not object_exists(s3, run.key)
    assert open_uploads(s3, run.key) == []
