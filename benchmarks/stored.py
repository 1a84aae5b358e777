"""What 100,000 stored exports cost the API and the operator: `make bench`'s `100k stored:` rows.

The same figures are taken twice on the scorecard's product: on the (nearly) empty cluster, then
after filling it with finished, archived CompanyExport objects through the API server (the
operator scaled to 0 meanwhile, as a year of exports within retention would look) and their
archived rows in PostgreSQL; each `100k stored:` row carries its ratio to the empty figure:
- API RSS (the /metrics of the replicas that answer, the largest);
- status-poll p99 at a fixed rate (api_load's open loop) on one archived export, median of 3 runs
  taken once the machine is quiet (its busy share is printed beside);
- List Exports p99 (per_page=50, sequential) for a space holding 20,000 of the stored exports;
- the operator's RSS and its idle CPU over 30 s (every process of its Pod, from /proc).
"""

import contextlib
import json
import re
import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from kubernetes import client

from export_api.resources import export_manifest
from export_contracts.resource import (
    ARCHIVED_LABEL,
    FINALIZER,
    GROUP,
    PLURAL,
    VERSION,
    CompanyExportSpec,
    RequestedRange,
    UtcRange,
    resource_name,
)
from tests.faults.harness import NAMESPACE, Product, add_space

EXPORTS = "/public-api/v1/companies/exports"
_WORKERS = 16
_IDLE_SECONDS = 30.0
_CLOCK_TICKS = 100  # USER_HZ on Linux
_FINISHED_AGO = timedelta(hours=2)
_SETTLED_CPU = 10.0
_SETTLE_SECONDS = 600.0
_POLL_RUNS = 3
# The fill leaves work behind (etcd compacting, PostgreSQL analyzing, controllers catching up):
# the API's figures wait, up to _SETTLE_SECONDS, until the machine is this idle over 5 s.
_QUIET_BUSY = 25.0


@dataclass(frozen=True)
class Footprint:
    api_rss_mb: float
    status_p99_ms: float
    list_p99_ms: float
    operator_rss_mb: float
    operator_idle_cpu: float  # percent of one core
    machine_busy: float  # percent of all cores busy just before the API's figures were taken


def measure(product: Product, api_key: str, poll: Callable[[], float]) -> Footprint:
    """`poll` runs the status-poll load and returns its p99 in ms; the median of _POLL_RUNS runs
    is kept (one stall of another process on 2 cores moves a single run's p99 several-fold)."""
    operator_rss, operator_cpu = _operator_idle(product)
    busy = _wait_for_a_quiet_machine()
    return Footprint(
        api_rss_mb=_api_rss_mb(product.api_url),
        status_p99_ms=statistics.median(poll() for _ in range(_POLL_RUNS)),
        list_p99_ms=_list_p99_ms(product.api_url, api_key),
        operator_rss_mb=operator_rss,
        operator_idle_cpu=operator_cpu,
        machine_busy=busy,
    )


def fill(product: Product, count: int, progress: Callable[[str], None]) -> tuple[int, str, int]:
    """`count` finished, archived exports (a fifth of them in one space); returns that space's id,
    its key and one export id of it."""
    space = add_space(product.database_url, "stored", companies_per_day=0, days=0)
    other = add_space(product.database_url, "stored-others", companies_per_day=0, days=0)
    with psycopg.connect(product.database_url, autocommit=True) as conn:
        first = conn.execute(
            "SELECT setval('export_ids', nextval('export_ids') + %s)", (count,)
        ).fetchone()
    assert first is not None
    ids = range(first[0] - count + 1, first[0] + 1)
    owners = {export_id: space.space_id if i % 5 == 0 else other.space_id
              for i, export_id in enumerate(ids)}  # fmt: skip
    with operator_scaled_to_zero(product):
        done = 0
        objects = client.CustomObjectsApi(product.admin)
        with ThreadPoolExecutor(_WORKERS) as pool:
            for _ in pool.map(lambda i: _store_object(objects, i, owners[i]), ids):
                done += 1
                if done % 10_000 == 0:
                    progress(f"{done:,} of {count:,} exports stored")
        _archive_rows(product.database_url, owners)
    return space.space_id, space.api_key, ids[0]


def _store_object(objects: client.CustomObjectsApi, export_id: int, space_id: int) -> None:
    now = datetime.now(UTC)
    manifest = handled_manifest(export_id, space_id, now, {ARCHIVED_LABEL: "true"})
    objects.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, manifest)
    objects.patch_namespaced_custom_object_status(
        GROUP, VERSION, NAMESPACE, PLURAL, resource_name(export_id),
        # Finished two hours ago: past the window in which a restarted operator re-announces.
        {"status": completed_status(export_id, space_id, now - _FINISHED_AGO)},
    )  # fmt: skip


def handled_manifest(
    export_id: int, space_id: int, now: datetime, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """An export of the seed's example day as the operator leaves every export it handled: its
    finalizer, and kopf's record of what it handled (so that, scaled up again, it finds nothing
    new to do, as after any restart)."""
    spec = CompanyExportSpec(
        export_id=export_id,
        space_id=space_id,
        requested=RequestedRange(
            start_date="2024-01-15 00:00:00", end_date="2024-01-15 23:59:59", timezone="UTC"
        ),
        range=UtcRange(start=now - timedelta(days=1), end=now),
    )
    manifest = export_manifest(spec)
    metadata = manifest["metadata"]
    metadata["labels"].update(labels or {})
    metadata["finalizers"] = [FINALIZER]
    handled = {"spec": manifest["spec"], "metadata": {"labels": metadata["labels"]}}
    metadata["annotations"] = {
        f"{GROUP}/last-handled-configuration": json.dumps(handled, separators=(",", ":"))
    }
    return manifest


def completed_status(export_id: int, space_id: int, finished_at: datetime) -> dict[str, Any]:
    """The status the operator writes when an export's Job ends well (a file of 650 records)."""
    moment = finished_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "state": "Completed", "reason": "Completed", "startedAt": moment, "completedAt": moment,
        "expiresAt": (finished_at + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "bucket": "company-exports", "objectKey": f"exports/{space_id}/{export_id}.ndjson.gz",
        "records": 650, "bytes": 80_000, "sha256": "0" * 64,
    }  # fmt: skip


def _archive_rows(database_url: str, owners: dict[int, int]) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(database_url) as conn, conn.cursor() as cursor:
        columns = ("export_id, space_id, state, reason, created_at, started_at, completed_at, "
                   "expires_at, bucket, object_key, records, bytes, sha256")  # fmt: skip
        with cursor.copy(f"COPY export_archive ({columns}) FROM STDIN") as copy:
            for export_id, space_id in owners.items():
                status = completed_status(export_id, space_id, now - _FINISHED_AGO)
                copy.write_row((
                    export_id, space_id, "Completed", "Completed", now - _FINISHED_AGO,
                    now - _FINISHED_AGO, now - _FINISHED_AGO,
                    now + timedelta(days=1), status["bucket"], status["objectKey"], 650,
                    80_000, "0" * 64,
                ))  # fmt: skip


@contextlib.contextmanager
def operator_scaled_to_zero(product: Product) -> Iterator[None]:
    """No operator while the block runs: objects written meanwhile are left as they are."""
    apps = client.AppsV1Api(product.admin)
    name = next(
        d.metadata.name
        for d in apps.list_namespaced_deployment(NAMESPACE).items
        if d.metadata.labels.get("app.kubernetes.io/component") == "operator"
    )
    replicas = apps.read_namespaced_deployment(name, NAMESPACE).spec.replicas
    apps.patch_namespaced_deployment_scale(name, NAMESPACE, {"spec": {"replicas": 0}})
    try:
        yield
    finally:
        apps.patch_namespaced_deployment_scale(name, NAMESPACE, {"spec": {"replicas": replicas}})
        product.wait_for_component("operator", timeout=300)


def _api_rss_mb(api_url: str) -> float:
    """The largest resident set among the replicas that answer a few /metrics requests."""
    found = []
    for _ in range(6):
        text = httpx.get(f"{api_url}/metrics", timeout=10).text  # a new connection each time
        match = re.search(r"^process_resident_memory_bytes (\S+)$", text, re.MULTILINE)
        assert match is not None, "the API's /metrics has no process_resident_memory_bytes"
        found.append(float(match[1]) / 2**20)
    return max(found)


def _list_p99_ms(api_url: str, api_key: str, requests: int = 200) -> float:
    headers = {"Authorization": f"Bearer {api_key}"}
    latencies = []
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as http:
        for _ in range(requests):
            started = time.perf_counter()
            http.get(EXPORTS, params={"per_page": 50}).raise_for_status()
            latencies.append(time.perf_counter() - started)
    return statistics.quantiles(latencies, n=100)[98] * 1000


def _operator_idle(product: Product) -> tuple[float, float]:
    """RSS (MB) and CPU (% of a core over _IDLE_SECONDS) of the operator Pod's processes, once it
    has caught up with what it listed (CPU under _SETTLED_CPU over 5 s, at most _SETTLE_SECONDS)."""
    pids = [pid for pod in product.component_pods("operator") for pid in product.pod_pids(pod)]
    assert pids, "no running operator process"
    _settled(lambda: _cpu_percent(pids, 5.0), _SETTLED_CPU)
    return sum(_rss_kb(pid) for pid in pids) / 1024, _cpu_percent(pids, _IDLE_SECONDS)


def _wait_for_a_quiet_machine() -> float:
    """Percent of all cores busy over the last 5 s once under _QUIET_BUSY (or the deadline)."""
    return _settled(lambda: _machine_busy(5.0), _QUIET_BUSY)


def _settled(measure: Callable[[], float], limit: float) -> float:
    """`measure()` again and again until it is under `limit` or _SETTLE_SECONDS have passed."""
    deadline = time.monotonic() + _SETTLE_SECONDS
    value = measure()
    while value > limit and time.monotonic() < deadline:
        value = measure()
    return value


def _growth(seconds: float, counters: Callable[[], tuple[int, ...]]) -> list[int]:
    """How much each counter grew over `seconds`."""
    before = counters()
    time.sleep(seconds)
    return [after - then for then, after in zip(before, counters(), strict=True)]


def _machine_busy(seconds: float) -> float:
    def ticks() -> tuple[int, int]:
        fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # all, idle + iowait

    total, idle = _growth(seconds, ticks)
    return 100 * (1 - idle / max(1, total))


def _cpu_percent(pids: list[int], seconds: float) -> float:
    (ticks,) = _growth(seconds, lambda: (sum(_cpu_ticks(pid) for pid in pids),))
    return ticks / _CLOCK_TICKS / seconds * 100


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def rows(empty: Footprint, stored: Footprint, count: int) -> list[tuple[str, str, str]]:
    """(figure, value, note) rows: the stored figure and its ratio to the empty one."""
    label = f"{count // 1000}k stored"

    def row(name: str, unit: str, before: float, after: float) -> tuple[str, str, str]:
        ratio = after / before if before else float("nan")
        note = f"empty {before:.2f} {unit}; ratio {ratio:.2f} (<= 1.20 is the target)"
        return f"{label}: {name}", f"{after:.2f} {unit}", note

    return [
        row("API RSS", "MB", empty.api_rss_mb, stored.api_rss_mb),
        row("status-poll p99", "ms", empty.status_p99_ms, stored.status_p99_ms),
        row("List Exports p99", "ms", empty.list_p99_ms, stored.list_p99_ms),
        row("operator RSS", "MB", empty.operator_rss_mb, stored.operator_rss_mb),
        row("operator idle CPU", "%", empty.operator_idle_cpu, stored.operator_idle_cpu),
        (f"{label}: machine busy before", f"{stored.machine_busy:.0f} %",
         f"empty {empty.machine_busy:.0f} %; all cores, 5 s before the API's figures"),
    ]  # fmt: skip
