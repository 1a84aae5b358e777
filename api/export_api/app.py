"""The app factory: `create_app(settings)` builds the API; clients open in its lifespan."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import urllib3.exceptions
from fastapi import FastAPI
from psycopg_pool import PoolTimeout

from export_api.errors import install_error_handlers
from export_api.middleware import BodyLimits, RateLimitHeaders, RequestMetrics
from export_api.models import error_responses
from export_api.routes import companies, exports, health, webhooks
from export_api.services import running_services
from export_api.settings import ApiSettings

# A database or cluster that does not answer: 503 with Retry-After, not a 500.
DEPENDENCY_FAILURES = (psycopg.OperationalError, PoolTimeout, urllib3.exceptions.HTTPError)

TITLE = "Company Exports API"
API_VERSION = "1.0.0"
DESCRIPTION = """\
Asynchronous exports of a space's companies as gzipped NDJSON, compatible with Cometly's public
API (`/public-api/v1/companies/exports`), plus List Companies for real-time reads.

Authenticate with `Authorization: Bearer <api key>`. Dates are naive local times
(`YYYY-MM-DD HH:MM:SS`) in the space's timezone; a range covers
`start_date <= created_at < end_date + 1 s`. Rate limits are per space: see the
`X-RateLimit-*` headers on every response. Every error is `{"error": "..."}`.
"""


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running_services(settings) as services:
            app.state.services = services
            # Everything loaded so far lives as long as the process: keep it out of the garbage
            # collector's scans, which otherwise stall requests for tens of milliseconds.
            gc.collect()
            gc.freeze()
            yield

    app = FastAPI(
        title=TITLE,
        version=API_VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # Any request the HTTP parser cannot read, on any path (protocol.HeadLimits).
        responses=error_responses(400),
    )
    install_error_handlers(app, unavailable=DEPENDENCY_FAILURES)
    app.add_middleware(RateLimitHeaders)
    app.add_middleware(BodyLimits)  # inside RequestMetrics, so refused bodies are counted
    app.add_middleware(RequestMetrics)
    app.include_router(exports.router)
    app.include_router(companies.router)
    app.include_router(webhooks.router)
    app.include_router(health.router)
    return app
