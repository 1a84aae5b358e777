"""Soak run: many exports of mixed sizes over several spaces, with the operator and API restarted.

On a stack of its own with the chart installed (tests/faults/harness.py), rate limits raised:
- creates `--exports` exports (default 300) over `--spaces` spaces (default 10) whose ranges hold
  from 0 to about 100,000 companies, at `--create-rate` per second;
- SIGKILLs the operator and the API a few times during the first part of the run (their
  Deployments restart them), so the last instances live through most of the work;
- samples every second the Jobs that hold a slot (the caps: `maxRunning` 10 overall, 2 per space)
  and the resident memory of the operator's and the API's processes;
- when every export is final, runs the fault tests' audit (each completed once, one Job each, no
  stray object or upload, every file equal to the database) and prints the figures: exports per
  minute, create->completed p50/p99, peak RSS per component, memory early vs late.

    .venv/bin/python -m benchmarks.soak [--exports 300] [--spaces 10] [--create-rate 5]

Not part of `make test`: it runs for several minutes. Measured here (2 shared cores, 300 exports,
2.47M rows in all, creates at 5/s, operator and API each killed twice): all 300 completed and
passed the audit; 76.7 exports/minute; create->completed p50 93 s, p99 173 s (the caps queue the
burst: 10 running at most, 2 per space, both held); peak RSS API 104 MiB, operator 203 MiB,
exporter 102 MiB; API RSS flat (104 -> 104 MiB); the operator's last instance went 161 -> 195 MiB
over its 99 s, during which the exports and Jobs it watches kept growing in number: this run does
not tell that growth from a leak (a longer run at a steady object count would).
"""

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from export_contracts import resource
from export_operator.jobs import JobView
from local_cluster.process import stop_servers_on_termination
from local_cluster.product import NAMESPACE
from tests.faults.harness import (
    Product,
    Requested,
    Space,
    add_space,
    audit,
    day_range,
    start_product,
)

MAX_RUNNING, MAX_RUNNING_PER_SPACE = 10, 2
DAYS = 30
# Companies per day of each space: a 30-day export of the last one holds about 100,000 rows.
PER_DAY = (0, 5, 30, 100, 300, 600, 1000, 1500, 2400, 3400)
RESTARTS = (("operator", 0.10), ("api", 0.20), ("operator", 0.30), ("api", 0.40))


@dataclass
class Samples:
    """What the sampler saw: slots in use, and RSS (MiB) per component and process."""

    running_max: int = 0
    running_per_space_max: int = 0
    rss: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    peak: dict[str, float] = field(default_factory=dict)


def _status_field(pid: int, name: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _slots(product: Product) -> tuple[int, int]:
    # The raw JSON, which JobView reads (as the operator does).
    response: Any = product.batch().list_namespaced_job(NAMESPACE, _preload_content=False)
    views = [JobView.of(job) for job in json.loads(response.data)["items"]]
    running = [view for view in views if view.occupies_slot]
    per_space = Counter(view.space_id for view in running)
    return len(running), max(per_space.values(), default=0)


def _sample(product: Product, samples: Samples) -> None:
    running, per_space = _slots(product)
    samples.running_max = max(samples.running_max, running)
    samples.running_per_space_max = max(samples.running_per_space_max, per_space)
    for component in ("operator", "api"):
        for pod in product.component_pods(component):
            for pid in product.pod_pids(pod):
                rss, peak = _status_field(pid, "VmRSS"), _status_field(pid, "VmHWM")
                if rss is None or peak is None:
                    continue
                samples.rss.setdefault(component, {}).setdefault(pid, []).append(rss)
                samples.peak[component] = max(samples.peak.get(component, 0.0), peak)


def _sampler(product: Product, samples: Samples, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        try:
            _sample(product, samples)
        except Exception as error:  # an apiserver hiccup must not end the run's sampling
            sys.stderr.write(f"[soak] sampling failed: {error}\n")


def _spaces(product: Product, count: int) -> list[Space]:
    per_day = [PER_DAY[i % len(PER_DAY)] for i in range(count)]
    return [
        add_space(product.database_url, f"soak {n}", companies_per_day=companies, days=DAYS)
        for n, companies in enumerate(per_day)
    ]


def _create_all(
    product: Product, spaces: list[Space], exports: int, rate: float, chance: random.Random
) -> list[Requested]:
    clients = {space.space_id: space.client(product.api_url) for space in spaces}
    restarts = {round(at * exports): component for component, at in RESTARTS}
    requested = []
    started = time.monotonic()
    for number in range(exports):
        if number in restarts:
            product.kill_component(restarts[number])
            sys.stderr.write(f"[soak] killed the {restarts[number]} at export {number}\n")
        space = chance.choice(spaces)
        days = chance.choice((1, 1, 2, 3, 7, 14, 30))
        first = chance.randrange(0, DAYS - days + 1)
        requested.append(clients[space.space_id].create(day_range(first, days)))
        time.sleep(max(0.0, started + (number + 1) / rate - time.monotonic()))
    for client in clients.values():
        client.close()
    return requested


def _wait_all_final(product: Product, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed: Any = product.custom().list_namespaced_custom_object(
            resource.GROUP, resource.VERSION, NAMESPACE, resource.PLURAL
        )
        objects = listed["items"]
        final = [
            o for o in objects if (o.get("status") or {}).get("state") in ("Completed", "Failed")
        ]
        if len(objects) >= count and len(final) == len(objects):
            return
        time.sleep(2)
    raise RuntimeError(f"not every export finished within {timeout:.0f} s")


def _final_answers(product: Product, requested: list[Requested]) -> dict[int, dict[str, Any]]:
    clients = {r.space.space_id: r.space.client(product.api_url) for r in requested}
    answers = {r.export_id: clients[r.space.space_id].status(r.export_id) for r in requested}
    for client in clients.values():
        client.close()
    return answers


def _exporter_peak_mb(product: Product) -> float:
    """The largest peak RSS an exporter logged ("export finished" lines of the Job Pods' logs)."""
    peak = 0.0
    for log in (product.stack.root / "node" / "pods").glob("*/exporter.log"):
        for line in log.read_text(errors="replace").splitlines():
            if '"export finished"' in line:
                peak = max(peak, float(json.loads(line).get("peak_rss_mb", 0.0)))
    return peak


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _memory_trend(samples: Samples, component: str) -> str:
    """Early vs late RSS of the component's longest-lived process."""
    series = max(samples.rss.get(component, {}).values(), key=len, default=[])
    if len(series) < 8:
        return "too few samples"
    quarter = len(series) // 4
    early, late = statistics.median(series[:quarter]), statistics.median(series[-quarter:])
    return f"{early:.0f} MiB -> {late:.0f} MiB over {len(series)} s ({late / early - 1:+.0%})"


def _report(
    answers: dict[int, dict[str, Any]], samples: Samples, seconds: float, product: Product
) -> str:
    latencies = [
        (
            datetime.fromisoformat(a["completed_at"]) - datetime.fromisoformat(a["created_at"])
        ).total_seconds()
        for a in answers.values()
        if a["status"] == "completed"
    ]
    records = sum(a.get("record_count") or 0 for a in answers.values())
    peaks = ", ".join(f"{name} {mb:.0f} MiB" for name, mb in sorted(samples.peak.items()))
    return "\n".join([
        f"exports: {len(answers)} ({dict(Counter(a['status'] for a in answers.values()))}), "
        f"{records} rows in all",
        f"throughput: {len(answers) / seconds * 60:.1f} exports/minute ({seconds:.0f} s)",
        f"create->completed: p50 {_percentile(latencies, 0.5):.1f} s, "
        f"p99 {_percentile(latencies, 0.99):.1f} s, max {max(latencies):.1f} s",
        f"running Jobs at most: {samples.running_max} (cap {MAX_RUNNING}), "
        f"per space {samples.running_per_space_max} (cap {MAX_RUNNING_PER_SPACE})",
        f"peak RSS: {peaks}, exporter {_exporter_peak_mb(product):.0f} MiB",
        f"operator memory: {_memory_trend(samples, 'operator')}",
        f"API memory: {_memory_trend(samples, 'api')}",
    ])  # fmt: skip


def run(exports: int, spaces: int, rate: float, seed: int) -> str:
    root = Path(tempfile.mkdtemp(prefix="company-exports-soak-"))
    root.chmod(0o755)  # PostgreSQL runs as an unprivileged user and must reach its data folder
    caps = {"maxRunning": MAX_RUNNING, "maxRunningPerSpace": MAX_RUNNING_PER_SPACE}
    product = start_product(root / "stack", {"operator": {"settings": caps}})
    samples, stop = Samples(), threading.Event()
    try:
        chosen = _spaces(product, spaces)
        sampler = threading.Thread(target=_sampler, args=(product, samples, stop), daemon=True)
        sampler.start()
        started = time.monotonic()
        requested = _create_all(product, chosen, exports, rate, random.Random(seed))
        _wait_all_final(product, exports, timeout=1800)
        seconds = time.monotonic() - started
        stop.set()
        sampler.join()
        answers = _final_answers(product, requested)
        states = audit(product, requested, answers)
        assert states == {"completed": exports}, states
        assert samples.running_max <= MAX_RUNNING
        assert samples.running_per_space_max <= MAX_RUNNING_PER_SPACE
        return _report(answers, samples, seconds, product)
    finally:
        stop.set()
        product.stop()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exports", type=int, default=300)
    parser.add_argument("--spaces", type=int, default=10)
    parser.add_argument("--create-rate", type=float, default=5.0, help="creates per second")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    stop_servers_on_termination()
    sys.stdout.write(run(args.exports, args.spaces, args.create_rate, args.seed) + "\n")


if __name__ == "__main__":
    main()
