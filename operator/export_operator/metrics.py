"""Prometheus metrics: exports by state, durations, records and bytes."""

import threading
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from export_contracts.resource import ExportState

TRANSITIONS = Counter(
    "company_exports_transitions_total",
    "State transitions the operator recorded, by the state entered.",
    ["state"],
)
DURATION = Histogram(
    "company_exports_duration_seconds",
    "Time from an export's creation to its end state, by end state.",
    ["state"],
    buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600),
)
RECORDS = Histogram(
    "company_exports_records",
    "Records in a completed export's file.",
    buckets=(0, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000),
)
BYTES = Counter("company_exports_bytes_total", "Bytes of completed export files written to S3.")


class ExportStates(Collector):
    """Counts exports by state from what the operator last saw of each one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, str] = {}

    def seen(self, uid: str, state: str | None) -> None:
        with self._lock:
            self._states[uid] = state or "New"

    def gone(self, uid: str) -> None:
        with self._lock:
            self._states.pop(uid, None)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "company_exports", "Exports the operator watches, by state.", labels=["state"]
        )
        with self._lock:
            counts = {state.value: 0 for state in ExportState} | {"New": 0}
            for state in self._states.values():
                counts[state] = counts.get(state, 0) + 1
        for state, count in sorted(counts.items()):
            family.add_metric([state], count)
        yield family


EXPORT_STATES = ExportStates()
REGISTRY.register(EXPORT_STATES)


def record_transition(state: ExportState, created: datetime, now: datetime) -> None:
    TRANSITIONS.labels(state.value).inc()
    if state in (ExportState.COMPLETED, ExportState.FAILED):
        DURATION.labels(state.value).observe(max(0.0, (now - created).total_seconds()))


def record_file(records: int, size: int) -> None:
    RECORDS.observe(records)
    BYTES.inc(size)
