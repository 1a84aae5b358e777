"""Per-space rate limits shared by every replica (GCRA, state in PostgreSQL).

A limit of N per period lets a burst of N through, then one request every period/N. The database
keeps one "theoretical arrival time" (tat) per space and bucket, and moves it in the same
statement that authenticates the request (see `auth`), so a limit costs no extra round trip.
"""

import math
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

_EPSILON = 1e-6  # float noise from the database's epoch arithmetic


class Bucket(StrEnum):
    """Which budget a request spends; each is counted apart."""

    CREATE = "create"
    STATUS = "status"
    COMPANIES = "companies"


@dataclass(frozen=True)
class Limit:
    bucket: Bucket
    count: int
    period: float  # seconds

    @property
    def interval(self) -> timedelta:
        return timedelta(seconds=self.period / self.count)

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.period)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds; 0 when allowed

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


def decide(limit: Limit, allowed: bool, ahead: float) -> Decision:
    """The decision once the database moved the tat; `ahead` = tat - now, in seconds."""
    interval = limit.period / limit.count
    remaining = max(0, math.floor((limit.period - ahead) / interval + _EPSILON))
    retry_after = 0 if allowed else max(1, math.ceil(ahead + interval - limit.period - _EPSILON))
    return Decision(
        allowed=allowed,
        limit=limit.count,
        remaining=min(remaining, limit.count),
        retry_after=retry_after,
    )
