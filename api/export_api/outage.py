"""Answering while PostgreSQL is down, from what this replica saw last (for a bounded time).

Every request authenticates against PostgreSQL, so a database blip would otherwise turn every
status poll into a 503. While the database does not answer, a key that this replica verified
within `key_ttl` keeps working with the scopes it had, spending a per-replica rate limit; a
finished export this replica read recently keeps its answer. Nothing that writes (create,
delete) uses these: it answers 503 with Retry-After.
"""

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import Gauge

from export_api.auth import Principal, Scope
from export_api.keys import ApiKey, secret_matches
from export_api.ratelimit import Decision, Limit, decide
from export_api.records import ExportRecord

DEPENDENCY_UP = Gauge(
    "export_api_dependency_up",
    "1 while the dependency answered the last call, 0 since it failed.",
    ["dependency"],
)


class Breaker:
    """After a failed call, callers skip the dependency for `cooldown` seconds."""

    def __init__(self, name: str, cooldown: float) -> None:
        self.name = name
        self._cooldown = cooldown
        self._skip_until = 0.0
        self.healthy = True
        DEPENDENCY_UP.labels(name).set(1)

    @property
    def skipping(self) -> bool:
        return time.monotonic() < self._skip_until

    def failed(self) -> None:
        self._skip_until = time.monotonic() + self._cooldown
        self.healthy = False
        DEPENDENCY_UP.labels(self.name).set(0)

    def succeeded(self) -> None:
        self.healthy = True
        DEPENDENCY_UP.labels(self.name).set(1)


@dataclass(frozen=True)
class _VerifiedKey:
    secret_hash: bytes
    principal: Principal
    scopes: frozenset[Scope]
    verified_at: float


class RecentKeys:
    """Keys this replica verified lately, and a local rate limit for while PostgreSQL is down."""

    def __init__(self, ttl: timedelta, capacity: int = 10_000) -> None:
        self._ttl = ttl.total_seconds()
        self._capacity = capacity
        self._keys: OrderedDict[str, _VerifiedKey] = OrderedDict()
        # The "theoretical arrival time" of each space and bucket (GCRA, as in ratelimit).
        self._tat: dict[tuple[int, str], float] = {}

    def remember(self, key: ApiKey, principal: Principal, scope: Scope) -> None:
        known = self._keys.pop(key.prefix, None)
        scopes = known.scopes if known and known.secret_hash == key.secret_hash else frozenset()
        self._keys[key.prefix] = _VerifiedKey(
            key.secret_hash, principal, scopes | {scope}, time.monotonic()
        )
        while len(self._keys) > self._capacity:
            self._keys.popitem(last=False)

    def authorize(
        self, key: ApiKey, scope: Scope, limit: Limit
    ) -> tuple[Principal, Decision] | None:
        """The principal and a local rate-limit decision, or None when this key is not known."""
        known = self._keys.get(key.prefix)
        fresh = known is not None and time.monotonic() - known.verified_at < self._ttl
        if not secret_matches(key, known.secret_hash if fresh and known else None):
            return None
        assert known is not None
        if scope not in known.scopes:
            return None
        return known.principal, self._spend(known.principal.space_id, limit)

    def _spend(self, space_id: int, limit: Limit) -> Decision:
        now = time.monotonic()
        interval = limit.period / limit.count
        slot = (space_id, limit.bucket.value)
        tat = max(self._tat.get(slot, now), now) + interval
        allowed = tat - now <= limit.period
        if allowed:
            self._tat[slot] = tat
        ahead = (tat if allowed else self._tat.get(slot, now)) - now
        return decide(limit, allowed=allowed, ahead=ahead)


class RecentRecords:
    """Finished exports this replica read from the archive or saw archived lately (answers while
    the archive is down). Fed by requests and by the export cache's thread."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._records: OrderedDict[int, ExportRecord] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, record: ExportRecord) -> None:
        with self._lock:
            self._records.pop(record.export_id, None)
            self._records[record.export_id] = record
            while len(self._records) > self._capacity:
                self._records.popitem(last=False)

    def forget(self, export_id: int) -> None:
        with self._lock:
            self._records.pop(export_id, None)

    def get(self, export_id: int) -> ExportRecord | None:
        with self._lock:
            return self._records.get(export_id)
