"""Large buffers freed are given back to the system (company_exporter.allocator)."""

import subprocess
import sys

# Frees a 16 MiB block (raising glibc's default threshold past 5 MiB), then frees ten 5 MiB
# blocks that small live blocks sit between, and prints how many MB that gave back.
_FREED_MB = """
import sys
from company_exporter.allocator import keep_large_buffers_mapped
if sys.argv[1] == "fixed":
    assert keep_large_buffers_mapped()
def rss_mb():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024
first = b"x" * (16 << 20)
del first
large, small = [], []
for _ in range(10):
    large.append(b"x" * (5 << 20))
    small.append(b"y" * (64 << 10))
before = rss_mb()
del large
print(before - rss_mb())
"""


def freed_mb(threshold: str) -> int:
    run = subprocess.run(
        [sys.executable, "-c", _FREED_MB, threshold], capture_output=True, text=True, check=True
    )
    return int(run.stdout)


def test_large_buffers_freed_are_given_back_with_the_threshold_fixed() -> None:
    assert freed_mb("fixed") >= 45


def test_glibcs_moving_threshold_keeps_them_resident_without_it() -> None:
    # What the fix is for: the same blocks stay in the heap, between the small ones.
    assert freed_mb("default") < 10
