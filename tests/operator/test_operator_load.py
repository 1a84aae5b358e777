"""The operator's own cost: CPU and memory while 100 exports run, and while they sit completed."""

import os
import threading
import time
from pathlib import Path

import pytest

from export_contracts.resource import ExportState
from tests.operator.conftest import CompanySpace
from tests.operator.operator_harness import Harness

pytestmark = pytest.mark.integration

EXPORTS = 100
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _memory_mib(pid: int, field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of the process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"/proc/{pid}/status has no {field}")


def test_cpu_and_memory_at_100_exports(
    harness: Harness, company_space: CompanySpace, figures: list[str]
) -> None:
    run = harness.start_operator(
        max_running=10, max_running_per_space=10, **harness.real_exporter()
    )
    pid = run.server.pid
    time.sleep(2)  # settle after start
    cpu_start, rss_start = _cpu_seconds(pid), _memory_mib(pid, "VmRSS")

    started = time.monotonic()
    names: list[str] = []
    creators = [
        threading.Thread(
            target=lambda ids=ids: names.extend(
                harness.create_export(i, company_space.space_id, (company_space.first,) * 2)
                for i in ids
            )
        )
        for ids in (range(n, EXPORTS + 1, 4) for n in range(1, 5))
    ]
    for creator in creators:
        creator.start()
    for creator in creators:
        creator.join()
    for name in names:
        done = harness.wait_state(name, ExportState.COMPLETED, ExportState.FAILED, timeout=300)
        assert done.state is ExportState.COMPLETED, done.message
    busy = time.monotonic() - started
    cpu_busy = _cpu_seconds(pid) - cpu_start

    idle_window = 30.0
    cpu_before_idle = _cpu_seconds(pid)
    time.sleep(idle_window)
    cpu_idle = _cpu_seconds(pid) - cpu_before_idle
    peak = _memory_mib(pid, "VmHWM")

    assert len(names) == EXPORTS
    figures.append(
        f"operator at {EXPORTS} exports: all Completed in {busy:.1f} s; operator CPU "
        f"{cpu_busy:.1f} s ({100 * cpu_busy / busy:.0f}% of a core) while they ran, "
        f"{100 * cpu_idle / idle_window:.1f}% of a core with {EXPORTS} completed exports idle; "
        f"RSS {rss_start:.0f} MiB at start, peak {peak:.0f} MiB"
    )
    assert peak < 500
