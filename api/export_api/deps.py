"""FastAPI dependencies as `Annotated` aliases: the services, and the authenticated caller."""

from typing import Annotated

import psycopg
from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from psycopg_pool import PoolTimeout

from export_api.auth import Principal, Scope, authorize, enforce
from export_api.keys import parse_key
from export_api.ratelimit import Bucket, Decision, Limit
from export_api.services import Services

RATE_LIMIT_STATE = "rate_limit"
# PostgreSQL did not answer: not the caller's fault; fall back or answer 503.
DATABASE_FAILURES = (psycopg.OperationalError, PoolTimeout)
# Short, so that a database outage costs a poll one second before the fallback answers it.
_AUTH_CONNECTION_TIMEOUT = 1.0


async def get_services(request: Request) -> Services:
    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread, per request.
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


class ApiKeyAuth(HTTPBearer):
    """Authenticates the request's API key and spends one unit of `bucket` for its space.

    A security scheme (so OpenAPI documents the bearer key) and a single dependency taking only
    the request: each FastAPI dependency costs every request some microseconds.
    """

    def __init__(self, scope: Scope, bucket: Bucket) -> None:
        # auto_error=False: a missing key is our 401 in our error shape, not FastAPI's 403.
        super().__init__(
            auto_error=False,
            scheme_name="HTTPBearer",
            description="An API key: `cexp_<prefix>_<secret>`.",
        )
        self.scope = scope
        self.bucket = bucket

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        services: Services = request.app.state.services
        limit = services.settings.limit(self.bucket)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" else None
        principal, decision = await self._authorize(services, bearer or None, limit)
        # The headers go on every response, errors included (see middleware.RateLimitHeaders).
        setattr(request.state, RATE_LIMIT_STATE, decision)
        enforce(decision, limit)
        return principal

    async def _authorize(
        self, services: Services, bearer: str | None, limit: Limit
    ) -> tuple[Principal, Decision]:
        """Against PostgreSQL; while it is down, against the keys this replica verified lately."""
        key = parse_key(bearer) if bearer else None
        if key is not None and services.database.skipping:
            known = services.recent_keys.authorize(key, self.scope, limit)
            if known is not None:
                return known
        try:
            async with services.pool.connection(timeout=_AUTH_CONNECTION_TIMEOUT) as conn:
                principal, decision = await authorize(conn, bearer, self.scope, limit)
        except DATABASE_FAILURES:
            services.database.failed()
            known = services.recent_keys.authorize(key, self.scope, limit) if key else None
            if known is None:
                raise
            return known
        services.database.succeeded()
        if key is not None:
            services.recent_keys.remember(key, principal, self.scope)
        return principal, decision


Creator = Annotated[Principal, Depends(ApiKeyAuth(Scope.EXPORTS_WRITE, Bucket.CREATE))]
StatusReader = Annotated[Principal, Depends(ApiKeyAuth(Scope.EXPORTS_READ, Bucket.STATUS))]
StatusWriter = Annotated[Principal, Depends(ApiKeyAuth(Scope.EXPORTS_WRITE, Bucket.STATUS))]
CompanyReader = Annotated[Principal, Depends(ApiKeyAuth(Scope.EXPORTS_READ, Bucket.COMPANIES))]
