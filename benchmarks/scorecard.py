"""One scorecard: the exporter, the API and the whole flow, measured on the local stack, one table.

    .venv/bin/python -m benchmarks.scorecard      (or: make bench; about 10 minutes here)

Starts its own stack in a temporary folder (the servers of `make up`, the chart installed as the
fault tests install it, the demo space), stops it, then runs the soak on a stack of the soak's own,
and prints:
- exporter rows/s and floor time / exporter time, where the floor is `psql \\copy | gzip -1` of
  the same rows (benchmarks/exporter.py), at 100k and 1M companies, median of the repeats after
  one untimed run of each (a fresh S3 server's first write allocates its volumes); run first, on
  PostgreSQL and S3 of their own, before the stack starts (a quiet machine). Here and
  below, "the exporter alone" is the exporter image's program run in the image's files (chroot),
  the program the Jobs' containers run;
- the exporter's peak RSS;
- the product path: the same rows exported through the API (POST -> completed), the exporter in
  a Job's container on the node, median of the repeats (each started at a random moment),
  beside the exporter alone on the stack, and where the time between goes: before the exporter's
  'export started' line, exporting, and after its 'export finished' line;
- 5M companies exported on one Pod and sharded (2 shards and their coordinator, as processes):
  rows/s, wall time, peak RSS per Pod, and the rate per shard that the scaling model multiplies;
- create -> completed latency of a small export (the demo space's example day) through the chart's
  API, operator and Job, median of 10 run one after the other, each started at a random moment;
- status-poll latency at a fixed 500 requests/s (open loop, benchmarks/api_load.py), p50 and p99;
- webhook delivery latency, p50 and p99, of 100 exports completing at once, from each status
  write to its delivery at a receiver, through the chart's dispatcher (benchmarks/webhooks.py);
- `100k stored:` API RSS, status-poll p99, List Exports p99, operator RSS and idle CPU with
  100,000 finished exports stored, each beside its empty-cluster figure (benchmarks/stored.py);
- soak: completed exports per minute (benchmarks/soak.py's run, scaled down to 60 exports over 6
  spaces, with the operator and the API killed mid-run; its own audit must pass).
The API's rate limits are raised for the run: the figures are of the work, not of the 429s.
"""

import argparse
import contextlib
import io
import os
import random
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import uvloop

from benchmarks import stored, webhooks
from benchmarks.api_load import Result, open_loop, request_head
from benchmarks.exporter import (
    Run,
    exporter_logs,
    log_time,
    run_exporter,
    run_floor,
    run_sharded,
    servers,
    shipped_exporter,
    space_with,
    warm_up,
)
from benchmarks.soak import run as run_soak
from export_api.admin import issue_key
from export_api.auth import Scope
from export_database.migrate import migrate
from local_cluster.image_program import ImageProgram
from local_cluster.process import stop_servers_on_termination
from local_cluster.product import NAMESPACE, DemoSpace, ensure_demo_space
from local_cluster.stack import Stack
from tests.faults.harness import Product, start_product

EXPORTS = "/public-api/v1/companies/exports"
# The seed's example day: about 650 companies of the demo space.
SMALL_EXPORT = {"start_date": "2024-01-15 00:00:00", "end_date": "2024-01-15 23:59:59"}
EXPORT_TIMEOUT_SECONDS = 120.0
POLL_INTERVAL_SECONDS = 0.1


@dataclass(frozen=True)
class Row:
    figure: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Target:
    """The chart on a stack of the scorecard's own, and the demo space with a fresh key."""

    product: Product
    demo: DemoSpace

    @property
    def stack(self) -> Stack:
        return self.product.stack

    @property
    def api_url(self) -> str:
        return self.product.api_url

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, **self.stack.env.as_dict()}


@contextlib.contextmanager
def running_target() -> Iterator[Target]:
    """The fault tests' product (rate limits raised, free ports), stopped at the end."""
    root = Path(tempfile.mkdtemp(prefix="scorecard-"))
    root.chmod(0o755)  # PostgreSQL runs as an unprivileged user and must reach its data folder
    product = start_product(root / "stack")
    try:
        yield Target(product, ensure_demo_space(product.database_url))
    finally:
        product.stack.stop()
        shutil.rmtree(root, ignore_errors=True)


def exporter_rows(
    exporter: ImageProgram, env: dict[str, str], count: int, repeats: int
) -> list[Row]:
    """benchmarks/exporter.py's runs on its own servers, before the stack starts (whose idle
    control plane and replicas would share the 2 cores): after a run of each not timed
    (`warm_up`), floor and exporter alternate; medians of the repeats."""
    with contextlib.redirect_stdout(io.StringIO()):  # its progress lines would break the table
        space_id = space_with(env["DATABASE_URL"], count)
    warm_up(exporter, env, space_id)
    floors, exports, records = [], [], 0
    for _ in range(repeats):
        floors.append(run_floor(env, space_id).seconds)
        run, result = run_exporter(exporter, env, space_id)
        exports.append(run)
        records = result.records
    exporter_seconds = statistics.median(run.seconds for run in exports)
    floor_seconds = statistics.median(floors)
    size = _size(count)
    return [
        Row(f"export rows/s, {size} rows", f"{records / exporter_seconds:,.0f}",
            f"{exporter_seconds:.2f} s, median of {_runs([run.seconds for run in exports])}"),
        Row(f"export vs psql|gzip floor, {size}", f"{floor_seconds / exporter_seconds:.2f}",
            f"floor {floor_seconds:.2f} s, median of {_runs(floors)}; >= 1.0: as fast as the "
            "floor"),
        Row(f"exporter peak RSS, {size}", f"{max(run.peak_rss_mb for run in exports):.0f} MB"),
    ]  # fmt: skip


def product_rows(target: Target, exporter: ImageProgram, count: int, repeats: int) -> list[Row]:
    """The same rows through the product (POST -> completed, the exporter in a Job's container)
    beside the exporter alone on the same stack, data and settings: medians of the repeats, and
    where the time between went, split at the exporter's own log lines."""
    env = target.env
    with contextlib.redirect_stdout(io.StringIO()):
        space_id = space_with(env["DATABASE_URL"], count)
    exporter_runs = [run_exporter(exporter, env, space_id)[0] for _ in range(repeats)]
    product_runs = [product_path(target, space_id) for _ in range(repeats)]
    exporter_seconds = statistics.median(run.seconds for run in exporter_runs)
    product_seconds = statistics.median(run.seconds for run in product_runs)

    def median(part: Callable[[ProductRun], float]) -> str:
        return f"{statistics.median(part(run) for run in product_runs):.2f} s"

    def alone(part: Callable[[Run], float]) -> str:
        return f"{statistics.median(part(run) for run in exporter_runs):.2f} s"

    return [
        Row(f"product path, {_size(count)}", f"{product_seconds:.2f} s",
            f"POST -> completed (a Job's container), median of "
            f"{_runs([run.seconds for run in product_runs])}; "
            f"{product_seconds / exporter_seconds:.2f}x the exporter alone on the stack "
            f"(median of {_runs([run.seconds for run in exporter_runs])}). Medians of its parts: "
            f"POST -> the exporter's 'export started' {median(lambda run: run.to_start)} (the "
            "Job and its Pod made, the container started, the interpreter, imports, connecting; "
            f"alone: {alone(lambda run: run.seconds - run.exporting_seconds)} before it and "
            f"after 'export finished'); exporting {median(lambda run: run.exporting)} (alone: "
            f"{alone(lambda run: run.exporting_seconds)}); 'export finished' -> completed answered "
            f"{median(lambda run: run.to_completed)} (the exit, the kubelet seeing it on its "
            f"relist every 1 s, the operator's status write, the polls every "
            f"{POLL_INTERVAL_SECONDS} s)"),
    ]  # fmt: skip


def _size(count: int) -> str:
    return f"{count // 1000}k" if count < 1_000_000 else f"{count // 1_000_000}M"


def sharded_rows(target: Target, exporter: ImageProgram, count: int, shards: int) -> list[Row]:
    """One export of `count` rows on one Pod, then sharded: `shards` shard processes and their
    coordinator, as the Pods of an Indexed Job run them (here all on this machine's cores)."""
    env = target.env
    with contextlib.redirect_stdout(io.StringIO()):
        space_id = space_with(env["DATABASE_URL"], count)
    single, result = run_exporter(exporter, env, space_id)
    sharded = run_sharded(exporter, env, space_id, shards)
    if sharded.result.records != result.records:
        raise RuntimeError(f"sharded: {sharded.result.records} records, one Pod {result.records}")
    records = result.records
    shard_rss = "/".join(f"{shard['peak_rss_mb']:.0f}" for shard in sharded.shards)
    per_shard = statistics.median(shard["rows_per_second"] for shard in sharded.shards)
    size = _size(count)
    return [
        Row(f"{size} rows, one Pod", f"{records / single.seconds:,.0f} rows/s",
            f"{single.seconds:.1f} s; peak RSS {single.peak_rss_mb:.0f} MB"),
        Row(f"{size} rows, {shards} shards", f"{records / sharded.seconds:,.0f} rows/s",
            f"{sharded.seconds:.1f} s, {single.seconds / sharded.seconds:.2f}x one Pod; peak RSS "
            f"coordinator {sharded.coordinator_rss_mb:.0f} MB, shards {shard_rss} MB"),
        Row(f"{size} rows, rate per shard", f"{per_shard:,.0f} rows/s",
            f"model: N shards on nodes of their own ~ N x this, until the database's cores "
            f"(each shard keeps EXPORT_DATABASE_CONNECTIONS backends busy) or S3 bind; here "
            f"{os.cpu_count()} cores serve PostgreSQL and every shard"),
    ]  # fmt: skip


def _runs(seconds: list[float]) -> str:
    """Each run, so that one slow run shows beside the median it did not move."""
    return ", ".join(f"{each:.2f}" for each in seconds) + " s"


@dataclass(frozen=True)
class ProductRun:
    """One export through the product, split where its exporter logged (the node's clock is
    this machine's)."""

    seconds: float  # POST -> the first poll that answers completed
    to_start: float  # POST -> the exporter's "export started" line
    exporting: float  # "export started" -> "export finished"
    to_completed: float  # "export finished" -> the poll that answered completed


def _pause_for_a_random_moment() -> None:
    """Sleeps 0-1 s, so that exports run one after the other start at random moments.

    Back to back, every export would meet the kubelet's once-a-second container check at the same
    phase, so 'export finished' -> completed took about as long in every run of a scorecard and
    its median jumped from one scorecard to the next (1M rows: 0.35 s, 0.36 s, then 1.13 s).
    """
    time.sleep(random.uniform(0, 1))


def product_path(target: Target, space_id: int) -> ProductRun:
    """POST over every company of the space, then polls until completed: what a client waits.

    The generated companies lie in 2019..2025 (export_database.generate), inside `whole`.
    """
    _pause_for_a_random_moment()
    with psycopg.connect(target.product.database_url) as conn:
        _, api_key = issue_key(
            conn, space_id, [Scope.EXPORTS_READ, Scope.EXPORTS_WRITE], name="scorecard"
        )
    whole = {"start_date": "2000-01-01 00:00:00", "end_date": "2029-12-30 23:59:59"}
    headers = {"Authorization": f"Bearer {api_key}"}
    posted = time.time()
    with httpx.Client(base_url=target.api_url, headers=headers, timeout=30) as api:
        export_id, seconds = _completed_after(api, whole)
    started, finished = _exporter_log_times(target.product, export_id)
    return ProductRun(seconds, started - posted, finished - started, posted + seconds - finished)


def _exporter_log_times(product: Product, export_id: int) -> tuple[float, float]:
    """When the export's exporter logged "export started" and "export finished" (epoch seconds),
    in the Pod that finished it."""
    core = product.core()
    for pod in product.exporter_pods(export_id):
        logs = exporter_logs(core.read_namespaced_pod_log(pod.metadata.name, NAMESPACE))
        if "export finished" in logs:
            return log_time(logs["export started"]), log_time(logs["export finished"])
    raise RuntimeError(f"no Pod of export {export_id} logged 'export finished'")


def _completed_after(api: httpx.Client, body: dict[str, str] = SMALL_EXPORT) -> tuple[int, float]:
    """The export's id, and the seconds from sending its create to the first poll that answers
    completed."""
    started = time.monotonic()
    created = api.post(EXPORTS, json=body)
    created.raise_for_status()
    export_id = created.json()["export_id"]
    path = f"{EXPORTS}/{export_id}"
    while time.monotonic() - started < EXPORT_TIMEOUT_SECONDS:
        status = api.get(path).json()["status"]
        if status == "completed":
            return export_id, time.monotonic() - started
        if status == "failed":
            raise RuntimeError(f"the export {path} failed; see the operator's log")
        time.sleep(POLL_INTERVAL_SECONDS)
    raise RuntimeError(f"the export {path} did not complete in {EXPORT_TIMEOUT_SECONDS:.0f} s")


def latency_rows(target: Target, exports: int) -> list[Row]:
    headers = {"Authorization": f"Bearer {target.demo.api_key}"}
    with httpx.Client(base_url=target.api_url, headers=headers, timeout=30) as api:
        latencies = []
        for _ in range(exports):
            _pause_for_a_random_moment()
            latencies.append(_completed_after(api)[1])
    return [
        Row("create -> completed, small export", f"{statistics.median(latencies):.2f} s",
            f"median of {exports} started at random moments; min {min(latencies):.2f}, "
            f"max {max(latencies):.2f} s"),
    ]  # fmt: skip


def status_poll_rows(target: Target, rate: float, seconds: float) -> list[Row]:
    """api_load's open loop (latency counted from each request's scheduled start)."""
    headers = {"Authorization": f"Bearer {target.demo.api_key}"}
    with httpx.Client(base_url=target.api_url, headers=headers, timeout=30) as api:
        created = api.post(EXPORTS, json=SMALL_EXPORT)
        created.raise_for_status()
    result = status_polls(target, target.demo.api_key, created.json()["export_id"], rate, seconds)
    return [
        Row(f"status-poll p99 at {rate:g} req/s", f"{result.percentile(99):.2f} ms",
            f"p50 {result.percentile(50):.2f} ms, {result.errors} errors, {seconds:g} s open loop"),
    ]  # fmt: skip


def status_polls(
    target: Target, api_key: str, export_id: int, rate: float, seconds: float
) -> Result:
    """Polls of one export at a fixed rate to the API's node port on the node's address."""
    head = request_head("GET", f"{EXPORTS}/{export_id}", api_key)
    address = urlsplit(target.api_url)
    assert address.hostname is not None
    assert address.port is not None
    return uvloop.run(
        open_loop("status poll", address.port, head, rate, seconds, 16, host=address.hostname)
    )


def webhook_rows(target: Target, count: int) -> list[Row]:
    latencies = webhooks.delivery_latencies(
        target.product, target.demo.space_id, target.demo.api_key, count
    )
    return [Row(*row) for row in webhooks.rows(latencies)]


def stored_rows(
    target: Target, count: int, rate: float, seconds: float, progress: Callable[[str], None]
) -> list[Row]:
    """benchmarks/stored.py: the same figures on the empty cluster and with `count` stored."""
    with httpx.Client(base_url=target.api_url, timeout=30) as api:
        demo_export = api.post(
            EXPORTS, json=SMALL_EXPORT, headers={"Authorization": f"Bearer {target.demo.api_key}"}
        ).json()["export_id"]

    def poll(api_key: str, export_id: int) -> Callable[[], float]:
        return lambda: status_polls(target, api_key, export_id, rate, seconds).percentile(99)

    empty = stored.measure(
        target.product, target.demo.api_key, poll(target.demo.api_key, demo_export)
    )
    progress(f"storing {count:,} finished exports")
    _space, api_key, export_id = stored.fill(target.product, count, progress)
    full = stored.measure(target.product, api_key, poll(api_key, export_id))
    return [Row(*row) for row in stored.rows(empty, full, count)]


def soak_rows(exports: int, spaces: int) -> list[Row]:
    """benchmarks/soak.py scaled down, on its own stack; its throughput line, taken as printed."""
    report = run_soak(exports, spaces, rate=5.0, seed=2024)
    found = re.search(r"throughput: ([\d.]+) exports/minute", report)
    if found is None:
        raise RuntimeError(f"benchmarks/soak.py printed no throughput line:\n{report}")
    return [
        Row("soak, exports/minute", found[1],
            f"{exports} exports over {spaces} spaces, operator and API killed 4 times"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[100_000, 1_000_000], help="none: no exporter rows"
    )
    parser.add_argument("--repeats", type=int, default=3, help="exporter runs per size")
    parser.add_argument(
        "--sharded", type=int, default=5_000_000, help="rows of the sharded export (0: skip)"
    )
    parser.add_argument("--shards", type=int, default=2, help="shards of the sharded export")
    parser.add_argument("--exports", type=int, default=10, help="exports timed end to end")
    parser.add_argument("--rate", type=float, default=500.0, help="status polls per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the poll run")
    parser.add_argument(
        "--webhooks", type=int, default=100, help="exports completing at once (0: skip)"
    )
    parser.add_argument("--stored", type=int, default=100_000, help="exports stored (0: skip)")
    parser.add_argument("--soak-exports", type=int, default=60, help="0: no soak")
    parser.add_argument("--soak-spaces", type=int, default=6)
    arguments = parser.parse_args()
    stop_servers_on_termination()
    started = time.monotonic()

    def progress(step: str) -> None:
        print(f"[scorecard] {step} ({time.monotonic() - started:.0f} s so far)", flush=True)

    rows: list[Row] = []
    try:
        progress("the exporter image (built, or found by its content hash)")
        with shipped_exporter(lambda line: progress(line.strip())) as exporter:
            if arguments.sizes:
                measure_exporter_alone(exporter, arguments, progress, rows)
            progress("starting the local stack and installing the chart")
            measure_on_the_stack(exporter, arguments, progress, rows)
        if arguments.soak_exports:
            progress("soak (a stack of its own)")
            rows += soak_rows(arguments.soak_exports, arguments.soak_spaces)
    finally:
        # A part that fails (its traceback follows) does not cost the figures measured before it.
        if rows:
            print_table(rows, time.monotonic() - started)


def measure_exporter_alone(
    exporter: ImageProgram,
    arguments: argparse.Namespace,
    progress: Callable[[str], None],
    rows: list[Row],
) -> None:
    """The exporter against the floor, on PostgreSQL and S3 of their own; each size's rows are
    added to `rows` as they are measured."""
    with servers() as env:
        env = {**env, "EXPORT_BUCKET": env.get("EXPORT_BUCKET", "company-exports")}
        migrate(env["DATABASE_URL"])
        for count in arguments.sizes:
            progress(f"exporter vs floor, {count:,} rows, on servers of its own")
            rows += exporter_rows(exporter, env, count, arguments.repeats)


def measure_on_the_stack(
    exporter: ImageProgram,
    arguments: argparse.Namespace,
    progress: Callable[[str], None],
    rows: list[Row],
) -> None:
    """Every figure taken on the local stack; each part's rows are added to `rows` as it ends."""
    with running_target() as target:
        for count in arguments.sizes:
            progress(f"product path, {count:,} rows")
            rows += product_rows(target, exporter, count, arguments.repeats)
        if arguments.sharded:
            progress(f"one Pod vs {arguments.shards} shards, {arguments.sharded:,} rows")
            rows += sharded_rows(target, exporter, arguments.sharded, arguments.shards)
        progress("end-to-end latency")
        rows += latency_rows(target, arguments.exports)
        progress("status polls")
        rows += status_poll_rows(target, arguments.rate, arguments.seconds)
        if arguments.webhooks:
            progress(f"webhook deliveries of {arguments.webhooks} exports completing at once")
            rows += webhook_rows(target, arguments.webhooks)
        if arguments.stored:
            progress(f"{arguments.stored:,} stored exports")
            rows += stored_rows(
                target, arguments.stored, arguments.rate, arguments.seconds, progress
            )


def print_table(rows: list[Row], seconds: float) -> None:
    widths = [max(len(getattr(row, name)) for row in rows) for name in ("figure", "value")]
    print()
    print(f"{'figure':<{widths[0]}} | {'value':>{widths[1]}} | note")
    print(f"{'-' * widths[0]}-|-{'-' * widths[1]}-|-{'-' * 40}")
    for row in rows:
        print(f"{row.figure:<{widths[0]}} | {row.value:>{widths[1]}} | {row.note}")
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    print(f"\n{os.cpu_count()} CPUs, load average {load}; whole run {seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
