"""Who is calling: the API key in `Authorization: Bearer`, its space, scopes and rate limit.

One statement per request finds the key by its public prefix and, if the key is usable, spends one
unit of the space's rate limit. The secret is then checked in constant time here; the statement's
own hash equality only keeps requests with a wrong secret from spending the space's budget.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from psycopg import AsyncConnection

from export_api.errors import ForbiddenError, RateLimitedError, UnauthenticatedError
from export_api.keys import parse_key, secret_matches
from export_api.ratelimit import Decision, Limit, decide


class Scope(StrEnum):
    EXPORTS_READ = "exports:read"
    EXPORTS_WRITE = "exports:write"


@dataclass(frozen=True)
class Principal:
    key_id: int
    space_id: int
    timezone: str


_AUTHORIZE = """
WITH key AS (
    SELECT k.id, k.space_id, k.key_hash, k.scopes, k.revoked_at IS NOT NULL AS revoked,
           s.timezone, s.subscription_status = 'active' AS active
    FROM api_keys k JOIN spaces s ON s.id = k.space_id
    WHERE k.prefix = %(prefix)s
), touched AS (
    -- At most one write a minute per key: enough to tell which keys are in use.
    UPDATE api_keys SET last_used_at = now()
    WHERE id = (SELECT id FROM key WHERE key_hash = %(hash)s)
      AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
), spent AS (
    INSERT INTO api_rate_limits AS r (space_id, bucket, tat, allowed)
    SELECT space_id, %(bucket)s, now() + %(interval)s, true FROM key
    WHERE key_hash = %(hash)s AND NOT revoked AND active AND %(scope)s = ANY (scopes)
    ON CONFLICT (space_id, bucket) DO UPDATE SET
        allowed = greatest(r.tat, now()) + %(interval)s - now() <= %(period)s,
        tat = CASE WHEN greatest(r.tat, now()) + %(interval)s - now() <= %(period)s
                   THEN greatest(r.tat, now()) + %(interval)s ELSE r.tat END
    RETURNING allowed, extract(epoch FROM tat - now())::float8 AS ahead
)
SELECT key.id, key.space_id, key.key_hash, key.scopes, key.revoked, key.timezone, key.active,
       spent.allowed, spent.ahead
FROM key LEFT JOIN spent ON true
"""

_UNAUTHENTICATED = (
    "Unauthenticated: send a valid API key as 'Authorization: Bearer <key>'; "
    "create one with export-api-admin issue-key."
)


async def authorize(
    conn: AsyncConnection[Any], token: str | None, scope: Scope, limit: Limit
) -> tuple[Principal, Decision]:
    """Authenticates a bearer token, checks scope and subscription, and spends one request."""
    key = parse_key(token) if token else None
    if key is None:
        raise UnauthenticatedError(_UNAUTHENTICATED)
    cursor = await conn.execute(
        _AUTHORIZE,
        {
            "prefix": key.prefix,
            "hash": key.secret_hash,
            "bucket": limit.bucket.value,
            "interval": limit.interval,
            "period": limit.window,
            "scope": scope.value,
        },
    )
    row = await cursor.fetchone()
    if not secret_matches(key, None if row is None else bytes(row[2])):
        raise UnauthenticatedError(_UNAUTHENTICATED)
    assert row is not None
    key_id, space_id, _, scopes, revoked, timezone, active, allowed, ahead = row
    if revoked:
        raise UnauthenticatedError("This API key was revoked: use another key of your space.")
    if not active:
        raise ForbiddenError("Your subscription is inactive: renew it to use the API, then retry.")
    if scope.value not in scopes:
        raise ForbiddenError(
            f"This API key lacks the {scope.value} scope: issue a key with that scope."
        )
    decision = decide(limit, allowed=bool(allowed), ahead=float(ahead))
    principal = Principal(key_id=key_id, space_id=space_id, timezone=timezone)
    return principal, decision


def enforce(decision: Decision, limit: Limit) -> None:
    """Refuses the request with 429 when the space's budget for it is spent."""
    if not decision.allowed:
        raise RateLimitedError(
            f"Too many requests: this space may send {limit.count} {limit.bucket.value} requests "
            f"per {limit.period:g} s; retry after {decision.retry_after} s.",
            decision.headers(),
        )
