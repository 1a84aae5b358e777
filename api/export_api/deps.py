"""FastAPI dependencies as `Annotated` aliases: the services, and the authenticated caller."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from export_api.auth import Principal, Scope, authorize, enforce
from export_api.ratelimit import Bucket
from export_api.services import Services

# auto_error=False: a missing key is our 401 in our error shape, not FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="An API key: `cexp_<prefix>_<secret>`.")
RATE_LIMIT_STATE = "rate_limit"


async def get_services(request: Request) -> Services:
    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread, per request.
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def caller(scope: Scope, bucket: Bucket) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates the request and spends one unit of `bucket`."""

    async def authenticated(
        request: Request, services: ServicesDep, credentials: CredentialsDep
    ) -> Principal:
        limit = services.settings.limit(bucket)
        token = credentials.credentials if credentials else None
        async with services.pool.connection() as conn:
            principal, decision = await authorize(conn, token, scope, limit)
        # The headers go on every response, errors included (see app.RateLimitHeaders).
        setattr(request.state, RATE_LIMIT_STATE, decision)
        enforce(decision, limit)
        return principal

    return authenticated


Creator = Annotated[Principal, Depends(caller(Scope.EXPORTS_WRITE, Bucket.CREATE))]
StatusReader = Annotated[Principal, Depends(caller(Scope.EXPORTS_READ, Bucket.STATUS))]
StatusWriter = Annotated[Principal, Depends(caller(Scope.EXPORTS_WRITE, Bucket.STATUS))]
CompanyReader = Annotated[Principal, Depends(caller(Scope.EXPORTS_READ, Bucket.COMPANIES))]
