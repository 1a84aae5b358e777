"""Operational endpoints: liveness, readiness (the cache; dependencies reported) and metrics."""

import asyncio
import logging

import anyio.to_thread
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from export_api.deps import ServicesDep
from export_api.models import HealthResponse, ReadinessResponse

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])
# Both checks run at once and within the kubelet's default probe timeout (1 s).
_CHECK_TIMEOUT_SECONDS = 0.5


@router.get("/healthz", operation_id="healthz", response_model=HealthResponse)
async def healthz() -> HealthResponse:
    """The process is alive and serving."""
    return HealthResponse(status="ok")


@router.get(
    "/readyz",
    operation_id="readyz",
    response_model=ReadinessResponse,
    responses={
        503: {"model": ReadinessResponse, "description": "The export cache is not filled yet."}
    },
)
async def readyz(services: ServicesDep) -> JSONResponse:
    """Ready once the export cache is filled: from then on this replica can answer status polls
    from its own state, so a database or Kubernetes API blip does not take every replica out of
    the Service at once. `checks` reports each dependency; a request that needs a down one gets
    503 with Retry-After."""
    database, kubernetes = await asyncio.gather(
        _check_database(services), _check_kubernetes(services)
    )
    checks = {
        "database": database,
        "kubernetes": kubernetes,
        "export_cache": "ok" if services.cache.synced else "not yet listed",
    }
    ready = services.cache.synced
    healthy = all(result == "ok" for result in checks.values())
    body = ReadinessResponse(
        status="ok" if healthy else "degraded" if ready else "unavailable", checks=checks
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


async def _check_database(services: ServicesDep) -> str:
    try:
        with anyio.fail_after(_CHECK_TIMEOUT_SECONDS):
            async with services.pool.connection() as conn:
                await conn.execute("SELECT 1")
    except Exception as error:  # readiness reports any failure instead of raising
        log.warning("readiness: database unavailable", extra={"error": str(error)})
        return "unavailable"
    return "ok"


async def _check_kubernetes(services: ServicesDep) -> str:
    try:
        with anyio.fail_after(_CHECK_TIMEOUT_SECONDS):
            await anyio.to_thread.run_sync(services.resources.check, abandon_on_cancel=True)
    except Exception as error:  # readiness reports any failure instead of raising
        log.warning("readiness: Kubernetes API unavailable", extra={"error": str(error)})
        return "unavailable"
    return "ok"


@router.get("/metrics", operation_id="metrics", response_class=Response)
async def metrics() -> Response:
    """Prometheus metrics of this replica."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
