"""Exporter benchmark: the real `company-exporter` against the psql | gzip -1 floor, same run.

    .venv/bin/python -m benchmarks.exporter [--sizes 100000 1000000] [--repeats 3]
                                            [--connections 1 2]

Uses DATABASE_URL, S3_ENDPOINT_URL, AWS_* and EXPORT_BUCKET when DATABASE_URL is set; otherwise
starts its own PostgreSQL and SeaweedFS (local_cluster) in a temporary folder and stops them at
the end. Each size gets a space of its own filled by the data generator (kept for later runs
on the same database). One untimed run of the floor and one of the exporter come first
(`warm_up`); then the floor and the exporter with each EXPORT_DATABASE_CONNECTIONS value
alternate, and the median of the repeats is printed: wall time (the whole process, start-up
included), rows/s, MB/s of NDJSON, the exporter's peak RSS, and floor time / exporter time
(>= 1.0 means the exporter is at least as fast as the floor).

The exporter is the program its image ships (`shipped_exporter`): the exporter image's files,
user, environment and entry point (local_cluster.image_program: a mount namespace with /proc,
then `chroot`), on this machine's network, as root.
So the figures are those of the image's interpreter and packages (Debian's python3, statically
linked, ran a pure-Python loop ~20% faster here than the virtualenv's pyenv build, which loads
libpython as a shared library), not of the development virtualenv's.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from export_contracts.exporter import ExporterResult
from export_database.generate import DEFAULT_FIRST_INSTANT, create_space, generate_companies
from export_database.migrate import migrate
from local_cluster.image_program import ImageProgram, shipped_program
from local_cluster.process import stop_servers_on_termination

ROOT = Path(__file__).parents[1]
EXPORTER_IMAGE = "company-exports-exporter"
# What the exporter is given of the benchmark's environment, beside its own export's parameters.
PASSED_ON = ("DATABASE_URL", "S3_ENDPOINT_URL", "LOG_LEVEL")
PASSED_ON_PREFIXES = ("EXPORT_", "AWS_")
# The whole generated span, as instants: every company of the space is in the range.
RANGE_START = DEFAULT_FIRST_INSTANT
RANGE_END = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float = 0.0
    ndjson_mb: float = 0.0
    exporting_seconds: float = 0.0  # from its "export started" line to its "export finished"


@contextmanager
def shipped_exporter(log: Callable[[str], None]) -> Iterator[ImageProgram]:
    """The exporter image (built, or found by its content hash), its files mounted for the run."""
    if os.geteuid() != 0:
        raise SystemExit(
            "the benchmark runs the exporter image's program in the image's files (a mount "
            "namespace and chroot): run it as root"
        )
    with shipped_program(ROOT, EXPORTER_IMAGE, log) as program:
        yield program


@contextmanager
def servers() -> Iterator[dict[str, str]]:
    """The environment of the servers to use: the caller's, or our own for the duration."""
    if os.environ.get("DATABASE_URL"):
        yield dict(os.environ)
        return
    from local_cluster.postgres import start_postgres
    from local_cluster.process import Launcher
    from local_cluster.s3 import start_s3

    root = Path(tempfile.mkdtemp(prefix="exporter-benchmark-"))
    root.chmod(0o755)  # PostgreSQL runs as an unprivileged user and must reach its data folder
    launcher = Launcher(root / "logs")
    try:
        postgres = start_postgres(launcher, root / "postgres" / "data")
        s3 = start_s3(launcher, root / "s3")
        yield {**os.environ, "DATABASE_URL": postgres.url, "S3_ENDPOINT_URL": s3.endpoint_url,
               "AWS_ACCESS_KEY_ID": s3.access_key, "AWS_SECRET_ACCESS_KEY": s3.secret_key,
               "AWS_DEFAULT_REGION": s3.region, "EXPORT_BUCKET": s3.bucket}  # fmt: skip
    finally:
        launcher.stop_all()
        shutil.rmtree(root, ignore_errors=True)


def space_with(database_url: str, count: int) -> int:
    """A space holding `count` generated companies: an earlier run's, or a new one."""
    name = f"benchmark-{count}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT id FROM spaces WHERE name = %s", (name,)).fetchone()
        if row is not None:
            return int(row[0])
        with conn.transaction():
            space_id = create_space(conn, name, "Europe/Berlin")
            started = time.monotonic()
            generate_companies(conn, space_id, count, seed=count)
        print(f"generated {count:,} companies in {time.monotonic() - started:.1f} s")
        conn.execute("VACUUM ANALYZE companies")
        return space_id


def run_floor(env: dict[str, str], space_id: int) -> Run:
    # Only our own integers and timestamps go into this text.
    query = (
        f"select row_to_json(c) from companies c where space_id = {space_id}"  # noqa: S608
        f" and created_at >= '{RANGE_START.isoformat()}' and created_at < '{RANGE_END.isoformat()}'"
        " order by created_at, id"
    )
    command = f'psql "$DATABASE_URL" -X -q -c "\\copy ({query}) to stdout" | gzip -1 > /dev/null'
    started = time.monotonic()
    subprocess.run(["bash", "-o", "pipefail", "-c", command], env=env, check=True)
    return Run(time.monotonic() - started)


def _exporter_env(exporter: ImageProgram, env: dict[str, str], space_id: int) -> dict[str, str]:
    passed = {
        name: value
        for name, value in env.items()
        if name in PASSED_ON or name.startswith(PASSED_ON_PREFIXES)
    }
    return {
        **exporter.env, **passed, "EXPORT_ID": "1", "SPACE_ID": str(space_id),
        "RANGE_START": RANGE_START.isoformat(), "RANGE_END": RANGE_END.isoformat(),
        "OBJECT_KEY": f"benchmarks/{uuid.uuid4()}.ndjson.gz",
        "TERMINATION_MESSAGE_PATH": os.devnull, "EXPORT_PROGRESS_SECONDS": "3600",
    }  # fmt: skip


def exporter_logs(output: str) -> dict[str, dict[str, Any]]:
    """An exporter's log lines by message, the last of each; other lines of its output (the
    result it prints on stdout, in a Pod's log) are skipped."""
    lines = (json.loads(line) for line in output.splitlines())
    return {line["message"]: line for line in lines if "message" in line}


def _logs(stderr: str, code: int) -> dict[str, dict[str, Any]]:
    """The process's log lines by message; exits with the log when the process failed."""
    if code != 0:
        raise SystemExit(f"the exporter failed ({code}):\n{stderr}")
    return exporter_logs(stderr)


def log_time(line: dict[str, Any]) -> float:
    """When a log line of ours was written, in seconds since the epoch."""
    return datetime.fromisoformat(line["time"]).timestamp()


def run_exporter(
    exporter: ImageProgram, env: dict[str, str], space_id: int, connections: int | None = None
) -> tuple[Run, ExporterResult]:
    """One run; `connections` sets EXPORT_DATABASE_CONNECTIONS (None: the exporter's default)."""
    run_env = _exporter_env(exporter, env, space_id)
    if connections is not None:
        run_env["EXPORT_DATABASE_CONNECTIONS"] = str(connections)
    started = time.monotonic()
    process = subprocess.run(
        exporter.command(), env=run_env, capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - started
    # The exporter logs its own peak RSS since exec; wait4's maxrss would count the fork too.
    logs = _logs(process.stderr, process.returncode)
    finished = logs["export finished"]
    exporting = log_time(finished) - log_time(logs["export started"])
    run = Run(seconds, float(finished["peak_rss_mb"]), float(finished["ndjson_mb"]), exporting)
    return run, ExporterResult.model_validate_json(process.stdout)


@dataclass
class ShardedRun:
    """A sharded export's processes (each as a Pod of its Indexed Job would run)."""

    seconds: float  # from the start of every process to the coordinator's end
    result: ExporterResult
    coordinator_rss_mb: float
    shards: list[dict[str, Any]]  # each shard's "shard finished" log line


def run_sharded(
    exporter: ImageProgram, env: dict[str, str], space_id: int, shards: int
) -> ShardedRun:
    """One sharded run: the coordinator and `shards` shards, started together."""
    run_env = {**_exporter_env(exporter, env, space_id), "EXPORT_SHARDS": str(shards)}
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            exporter.command(),
            env={**run_env, "JOB_COMPLETION_INDEX": str(index)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(shards + 1)
    ]
    outputs = [process.communicate() for process in processes]
    seconds = time.monotonic() - started
    codes = [process.returncode for process in processes]
    finished = _logs(outputs[0][1], codes[0])["export finished"]
    return ShardedRun(
        seconds=seconds,
        result=ExporterResult.model_validate_json(outputs[0][0]),
        coordinator_rss_mb=float(finished["peak_rss_mb"]),
        shards=[
            _logs(err, code)["shard finished"]
            for (_, err), code in zip(outputs[1:], codes[1:], strict=True)
        ],
    )


def warm_up(exporter: ImageProgram, env: dict[str, str], space_id: int) -> None:
    """One run of the floor and one of the exporter, not timed: each pays one-time costs there
    that no later export pays. A fresh SeaweedFS allocates its volumes at the first write it
    takes, so the first exporter run on new servers measured 2.08 s against 0.74-0.79 s for the
    next four (100k rows)."""
    run_floor(env, space_id)
    run_exporter(exporter, env, space_id)


def benchmark(
    exporter: ImageProgram, env: dict[str, str], count: int, repeats: int, connections: list[int]
) -> None:
    space_id = space_with(env["DATABASE_URL"], count)
    warm_up(exporter, env, space_id)
    floors: list[Run] = []
    exports: dict[int, list[tuple[Run, ExporterResult]]] = {each: [] for each in connections}
    for _ in range(repeats):
        floors.append(run_floor(env, space_id))
        for each in connections:
            exports[each].append(run_exporter(exporter, env, space_id, each))
    floor = statistics.median(run.seconds for run in floors)
    print(f"{count:>9,} rows | floor (psql | gzip -1) {floor:6.2f} s")
    for each, runs in exports.items():
        seconds = statistics.median(run.seconds for run, _ in runs)
        ndjson_mb = runs[-1][0].ndjson_mb
        result = runs[-1][1]
        print(
            f"{'':>14} | exporter, {each} connection(s) {seconds:6.2f} s"
            f" | {result.records / seconds:9,.0f} rows/s | {ndjson_mb / seconds:6.1f} MB/s NDJSON"
            f" ({ndjson_mb:.0f} MB -> {result.bytes / 1e6:.1f} MB gzip)"
            f" | peak RSS {max(run.peak_rss_mb for run, _ in runs):5.1f} MB"
            f" | ratio floor/exporter {floor / seconds:4.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 2])
    arguments = parser.parse_args()
    stop_servers_on_termination()
    with shipped_exporter(lambda line: print(line, file=sys.stderr)) as exporter, servers() as env:
        env = {**env, "EXPORT_BUCKET": env.get("EXPORT_BUCKET", "company-exports")}
        migrate(env["DATABASE_URL"])
        for count in arguments.sizes:
            benchmark(exporter, env, count, arguments.repeats, arguments.connections)


if __name__ == "__main__":
    main()
