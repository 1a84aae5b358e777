"""What a replica answers from its own memory while PostgreSQL is down, and its cache's indexes."""

from datetime import UTC, datetime, timedelta

import pytest

from export_api.auth import Principal, Scope
from export_api.cache import _Index
from export_api.keys import generate_key
from export_api.outage import Breaker, RecentKeys, RecentRecords
from export_api.ratelimit import Bucket, Limit
from export_api.records import ExportRecord
from export_contracts.resource import CompanyExportStatus, ExportState

pytestmark = pytest.mark.unit

STATUS_LIMIT = Limit(Bucket.STATUS, count=3, period=60)
PRINCIPAL = Principal(key_id=7, space_id=42, timezone="UTC")


def test_a_verified_key_works_with_the_scopes_it_was_verified_for_and_nothing_else() -> None:
    keys = RecentKeys(timedelta(minutes=5))
    key, stranger = generate_key(), generate_key()
    keys.remember(key, PRINCIPAL, Scope.EXPORTS_READ)

    known = keys.authorize(key, Scope.EXPORTS_READ, STATUS_LIMIT)
    assert known is not None
    assert known[0] == PRINCIPAL
    assert keys.authorize(key, Scope.EXPORTS_WRITE, STATUS_LIMIT) is None  # never verified
    assert keys.authorize(stranger, Scope.EXPORTS_READ, STATUS_LIMIT) is None
    forged = type(key)(prefix=key.prefix, secret=stranger.secret)  # right prefix, wrong secret
    assert keys.authorize(forged, Scope.EXPORTS_READ, STATUS_LIMIT) is None


def test_a_key_verified_longer_ago_than_the_ttl_is_not_trusted() -> None:
    keys = RecentKeys(timedelta(seconds=0))
    key = generate_key()
    keys.remember(key, PRINCIPAL, Scope.EXPORTS_READ)
    assert keys.authorize(key, Scope.EXPORTS_READ, STATUS_LIMIT) is None


def test_the_local_rate_limit_lets_a_burst_through_then_refuses_with_retry_after() -> None:
    keys = RecentKeys(timedelta(minutes=5))
    key = generate_key()
    keys.remember(key, PRINCIPAL, Scope.EXPORTS_READ)
    decisions = [keys.authorize(key, Scope.EXPORTS_READ, STATUS_LIMIT) for _ in range(4)]
    allowed = [decision[1].allowed for decision in decisions if decision]
    assert allowed == [True, True, True, False]
    refused = decisions[-1]
    assert refused is not None
    assert refused[1].retry_after >= 1


def test_recent_records_keep_the_newest_within_capacity() -> None:
    records = RecentRecords(capacity=2)
    for export_id in (1, 2, 3):
        records.remember(_record(export_id, ExportState.COMPLETED))
    assert records.get(1) is None
    assert records.get(3) is not None
    records.forget(3)
    assert records.get(3) is None


def test_the_breaker_skips_a_failed_dependency_for_its_cooldown_only() -> None:
    breaker = Breaker("test-dependency", cooldown=60)
    assert not breaker.skipping
    breaker.failed()
    assert breaker.skipping
    assert not breaker.healthy
    breaker.succeeded()
    assert breaker.healthy
    quick = Breaker("test-quick", cooldown=0)
    quick.failed()
    assert not quick.skipping


def test_the_cache_index_counts_queued_ahead_and_lists_a_space_without_scanning() -> None:
    index = _Index({})
    for export_id, state, space in ((5, None, 1), (3, ExportState.QUEUED, 2), (9, None, 1)):
        index.put(_record(export_id, state, space))
    index.put(_record(4, ExportState.PROCESSING, 1))
    assert index.queued == [3, 5, 9]
    index.put(_record(5, ExportState.PROCESSING, 1))  # admitted: no longer queued
    assert index.queued == [3, 9]
    assert index.by_space[1] == {4, 5, 9}
    index.drop(9)
    assert index.queued == [3]
    assert index.by_space[1] == {4, 5}


def _record(export_id: int, state: ExportState | None, space_id: int = 1) -> ExportRecord:
    return ExportRecord(
        export_id=export_id,
        space_id=space_id,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        status=CompanyExportStatus(state=state),
    )
