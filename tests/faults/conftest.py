"""One stack and one installation of the chart for the fault tests, which break them on purpose.

The servers are the tests' own (not the session's `postgres`, `s3` and `kube`), so restarting
them disturbs no other test. Every test leaves them running; `product` waits until the API is
ready again before each test, so one test's fault cannot leak into the next.
"""

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness import Product, Space, add_space, start_product


@pytest.fixture(scope="package")
def installed(figures: list[str]) -> Iterator[Product]:
    root = Path(tempfile.mkdtemp(prefix="company-exports-faults-"))
    root.chmod(0o755)  # PostgreSQL runs as an unprivileged user and must reach its data folder
    started = time.monotonic()
    product = start_product(root / "stack")
    figures.append(
        f"faults: own stack up and chart installed in {time.monotonic() - started:.1f} s"
    )
    try:
        yield product
    finally:
        product.stop()
        if os.environ.get("KEEP_TEST_SERVERS_ROOT") != "1":
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def product(installed: Product) -> Product:
    """The installation with every server up and the API ready (a test before may break them)."""
    installed.wait_for_component("operator")
    installed.wait_for_api()
    return installed


@pytest.fixture(scope="package")
def space(installed: Product) -> Space:
    """A space with 1000 companies a day over 30 days: a day's export is small but not trivial."""
    return add_space(installed.database_url, "faults", companies_per_day=1000, days=30)


@pytest.fixture(scope="package")
def large_space(installed: Product) -> Space:
    """150,000 companies over 30 days: a month's export keeps its upload open for about a second,
    long enough to SIGKILL the exporter or stop S3 mid-upload (a small export's lasts ~0.2 s)."""
    return add_space(installed.database_url, "faults-large", companies_per_day=5000, days=30)
