"""The shard board's waits, against the real S3 server: a waiting Pod collects its garbage."""

import gc
from collections.abc import Iterator

import pytest

from company_exporter.board import Board
from company_exporter.errors import RetriableError
from local_cluster.s3 import S3Server

pytestmark = pytest.mark.integration


@pytest.fixture
def collector_off() -> Iterator[None]:
    """The collector as the `company-exporter` command leaves it: off, nothing frozen."""
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.enable()


@pytest.mark.usefixtures("collector_off")
def test_a_pod_waiting_for_the_plan_collects_the_garbage_of_its_polls(s3: S3Server) -> None:
    board = Board(s3.client(), s3.bucket, "exports/collector-test.ndjson.gz")

    with pytest.raises(RetriableError, match="no plan from the coordinator"):
        board.wait_for_plan(1.0)  # ~4 polls of a key not posted, each leaving cyclic garbage

    assert gc.isenabled()
    assert gc.get_freeze_count() > 0  # start-up's objects, out of every later collection
